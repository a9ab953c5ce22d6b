"""Train the sentiment model (`sentiment_model.json`) from public labelled data.

    pip install -e '.[train]'
    python -m warmhandoff.streams.lab.training.sentiment --data ../shared/data --cv 5 --lodo

scikit-learn and scipy are needed here only (the `train` extra); the detector reads the JSON
in pure Python. The data folder has the layout of the project's shared development data;
every source is optional, and the ones found are recorded in the model file with their row
counts, a fingerprint of their texts, label mapping, weight and licence.

Label mapping (two binary targets, "negative" and "positive", each against the rest):

- VADER ground truth (tweets, Amazon, movie review and NYT editorial snippets; MIT, C.J.
  Hutto): mean human rating (-4..4) <= -0.5 negative, >= 0.5 positive, otherwise neither;
- TweetEval sentiment, validation (Barbieri et al. 2020): 0 negative, 2 positive (weight 3:
  the labelling negative sentiment is measured against);
- TweetEval emotion, validation: anger and sadness negative, joy and optimism positive;
- TweetEval offensive, validation: offensive tweets negative (weight 0.5); the others are left
  out, as not offending says nothing about sentiment;
- CLINC150 train (CC-BY-3.0, Clinc) and Banking77 train (CC-BY-4.0, PolyAI): every query
  neutral (weight 0.5). Without them the model, taught by tweets that "why ...?" and "not"
  are negative, flags plain support queries as unhappy.

The operating point (the P(negative) the policy's threshold sits at) is chosen by K-fold
cross-validation over both groups of labelled sets (TweetEval and VADER): the point that
maximises the mean over groups of each set's F1, among those that flag at most
`--max-support-flagged` of the support queries. `--c` takes several L2 strengths; with more
than one, the one whose leave-one-dataset-out AUC (streams/lab/eval/sentiment_lodo.py),
averaged over the held-out groups, is highest is kept.

`--cv K` also records K-fold cross-validated figures per source; `--lodo` records the
leave-one-dataset-out figures, the only ones that say how the recipe does on data sets it
never saw. Support turns never used in training (NLU++ hotels, MultiWOZ customer turns) give
the share flagged at the policy threshold. Every figure is measured through the detector's
own inference code.
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import json
import random
import sys
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from warmhandoff.streams.detect.sentiment import (
    FEATURES_VERSION,
    MODEL_FILE,
    NEUTRAL_WORDS,
    Model,
    prepare,
    probabilities,
    vader_scores,
    words,
)

DEFAULT_OUT = Path(__file__).resolve().parents[2] / "detect" / MODEL_FILE
DEFAULT_WEIGHTS = {
    "tweeteval/sentiment": 3.0,
    "tweeteval/offensive": 0.5,
    "clinc150": 0.5,
    "banking77": 0.5,
}
#: The score the policy's `negative_sentiment` trigger fires at by default; the detector maps
#: the operating point onto it.
POLICY_THRESHOLD = -0.6
#: P(negative) values the operating point is chosen from.
OPERATING_POINTS = tuple(round(0.2 + 0.025 * i, 3) for i in range(21))

TWEETEVAL_LICENCE = (
    "TweetEval (Barbieri et al. 2020): no restriction on the collection; source-task and"
    " Twitter terms apply"
)
VADER_LICENCE = "MIT (C.J. Hutto, vaderSentiment ground truth)"
VADER_FILES = (
    ("vader/tweets", "tweets_GroundTruth.txt"),
    ("vader/amazon", "amazonReviewSnippets_GroundTruth.txt"),
    ("vader/movies", "movieReviewSnippets_GroundTruth.txt"),
    ("vader/nyt", "nytEditorialSnippets_GroundTruth.txt"),
)
#: Sources of each group of labelled sets (sets of one origin share authors and labelling).
GROUPS: dict[str, tuple[str, ...]] = {
    "tweeteval": ("tweeteval/sentiment", "tweeteval/emotion", "tweeteval/offensive"),
    "vader": tuple(name for name, _ in VADER_FILES),
}


@dataclass(frozen=True, slots=True)
class Example:
    """One labelled text."""

    text: str
    source: str
    negative: bool
    positive: bool
    weight: float = 1.0


@dataclass(frozen=True, slots=True)
class Source:
    """A data set read from the data folder, with its label mapping and licence."""

    name: str
    mapping: str
    licence: str
    examples: list[Example]


@dataclass(frozen=True, slots=True)
class Settings:
    """What a model is trained with (the command line's options)."""

    c: float = 0.1
    min_count: int = 3
    word_floor: float = -0.5
    prune: float = 0.05
    neutral: float = 0.1
    positive_below: float = 0.15
    #: None: chosen by cross-validation (see the module docstring).
    operating_point: float | None = None
    max_support_flagged: float = 0.01
    folds: int = 5
    seed: int = 0
    weights: dict[str, float] = field(default_factory=lambda: dict(DEFAULT_WEIGHTS))


# --- data ----------------------------------------------------------------------------------


def _lines(path: Path) -> list[str]:
    return path.read_text(encoding="utf-8", errors="replace").splitlines()


def _vader(data: Path, file: str, name: str) -> Source | None:
    path = data / "vader" / file
    if not path.is_file():
        return None
    examples = []
    for line in _lines(path):
        parts = line.split("\t")
        if len(parts) >= 3:
            rating = float(parts[1])
            examples.append(Example(parts[2], name, rating <= -0.5, rating >= 0.5))
    mapping = "mean rating <= -0.5 negative, >= 0.5 positive"
    return Source(name, mapping, VADER_LICENCE, examples)


def _tweeteval(
    data: Path, task: str, labels: dict[int, tuple[bool, bool]], mapping: str
) -> Source | None:
    folder = data / "tweeteval" / task
    if not (folder / "val_text.txt").is_file():
        return None
    texts = _lines(folder / "val_text.txt")
    values = [int(value) for value in _lines(folder / "val_labels.txt") if value.strip()]
    if len(texts) != len(values):
        raise ValueError(f"{folder}: {len(texts)} texts but {len(values)} labels")
    name = f"tweeteval/{task}"
    examples = [
        Example(text, name, *labels[value])
        for text, value in zip(texts, values, strict=True)
        if value in labels
    ]
    return Source(name, mapping, TWEETEVAL_LICENCE, examples)


def _clinc(data: Path) -> Source | None:
    path = data / "clinc150" / "clinc150_dev.json"
    if not path.is_file():
        return None
    rows = json.loads(path.read_text(encoding="utf-8"))
    examples = [Example(text, "clinc150", False, False) for text, _ in rows.get("train", [])]
    return Source("clinc150", "train queries: neutral", "CC-BY-3.0 (Clinc)", examples)


def _banking(data: Path) -> Source | None:
    path = data / "banking77" / "train.csv"
    if not path.is_file():
        return None
    with path.open(encoding="utf-8") as handle:
        texts = [row["text"] for row in csv.DictReader(handle)]
    examples = [Example(text, "banking77", False, False) for text in texts]
    return Source("banking77", "queries: neutral", "CC-BY-4.0 (PolyAI)", examples)


def load_sources(data: Path) -> list[Source]:
    """Every training source found under `data`, with its label mapping."""
    found = [_vader(data, file, name) for name, file in VADER_FILES]
    found += [
        _tweeteval(
            data,
            "sentiment",
            {0: (True, False), 1: (False, False), 2: (False, True)},
            "0 negative, 1 neither, 2 positive",
        ),
        _tweeteval(
            data,
            "emotion",
            {0: (True, False), 1: (False, True), 2: (False, True), 3: (True, False)},
            "anger, sadness negative; joy, optimism positive",
        ),
        _tweeteval(data, "offensive", {1: (True, False)}, "offensive negative"),
        _clinc(data),
        _banking(data),
    ]
    return [source for source in found if source is not None and source.examples]


def reweight(sources: list[Source], weights: dict[str, float]) -> list[Source]:
    """Sources with their examples' weights multiplied; a weight of 0 drops the source."""
    kept = []
    for source in sources:
        factor = weights.get(source.name, 1.0)
        if factor > 0:
            examples = [replace(e, weight=e.weight * factor) for e in source.examples]
            kept.append(replace(source, examples=examples))
    return kept


def support_turns(data: Path) -> dict[str, list[str]]:
    """Customer turns to a support or booking bot that training never uses.

    NLU++ (every domain present: requests and problem reports to a hotel's assistant) and
    MultiWOZ customer turns (bookings, declines, closings). Nearly all are calm, so the share
    scored at or below the policy threshold bounds the false alarms on unseen support text.
    """
    found: dict[str, list[str]] = {}
    for folder in sorted(path for path in (data / "nlupp").glob("*") if path.is_dir()):
        texts = [
            row["text"]
            for path in sorted(folder.glob("fold*.json"))
            for row in json.loads(path.read_text(encoding="utf-8"))
        ]
        if texts:
            found[f"nlupp/{folder.name}"] = texts
    path = data / "multiwoz" / "val_dialogues.jsonl"
    if path.is_file():
        found["multiwoz"] = [
            turn["text"]
            for line in _lines(path)
            if line.strip()
            for turn in json.loads(line)["turns"]
            if turn["role"] == "customer"
        ]
    return found


def fingerprint(texts: Sequence[str]) -> str:
    """A digest of a data set's texts, to tell whether a folder holds the same set."""
    digest = hashlib.sha256()
    for text in texts:
        digest.update(text.strip().encode("utf-8"))
        digest.update(b"\n")
    return digest.hexdigest()[:16]


# --- features and fitting ------------------------------------------------------------------

_DENSE = ("vader:compound", "vader:neg", "vader:pos")
_SKIP = frozenset(NEUTRAL_WORDS)


def features(text: str) -> dict[str, float]:
    """The sparse features of one text, named as in the model file (words by presence)."""
    prepared = prepare(text)
    plain, negated = words(prepared)
    row: dict[str, float] = {f"p:{word}": 1.0 for word in plain if word not in _SKIP}
    row.update((f"n:{word}", 1.0) for word in negated if word not in _SKIP)
    for name, value in zip(_DENSE, vader_scores(prepared), strict=True):
        if value:
            row[name] = value
    return row


class Featurizer:
    """`features` of each text, computed once (folds and groups reuse them)."""

    def __init__(self) -> None:
        self._rows: dict[str, dict[str, float]] = {}

    def __call__(self, text: str) -> dict[str, float]:
        row = self._rows.get(text)
        if row is None:
            row = self._rows[text] = features(text)
        return row


def fit(
    examples: Sequence[Example], rows: Sequence[dict[str, float]], settings: Settings
) -> dict[str, Any]:
    """Fit the negative and positive logistic regressions; return the `weights` object.

    In the negative model no word may argue more than `--word-floor` log-odds against
    "negative" (a bound during fitting, not a clip after it). Support queries, all neutral,
    otherwise teach topic words ("account", "card", "cancel") to cancel real complaints ("close
    my account, your service is terrible"); with the bound the model learns neutrality from
    the words both kinds of text share, which also raised cross-validated TweetEval AUC and
    lowered false alarms on support queries it never saw.
    """
    from sklearn.feature_extraction import DictVectorizer

    counts: Counter[str] = Counter(name for row in rows for name in row)
    keep = {name for name, count in counts.items() if count >= settings.min_count}
    vectorizer = DictVectorizer()
    matrix = vectorizer.fit_transform([{k: v for k, v in r.items() if k in keep} for r in rows])
    names = list(vectorizer.get_feature_names_out())
    sample_weight = [example.weight for example in examples]
    floor = [None if name.startswith("vader:") else settings.word_floor for name in names]
    negative = _logistic(matrix, [e.negative for e in examples], sample_weight, settings.c, floor)
    positive = _logistic(
        matrix, [e.positive for e in examples], sample_weight, settings.c, [None] * len(names)
    )
    return export(names, negative, positive, settings.prune)


def _logistic(
    matrix: Any,
    labels: Sequence[bool],
    sample_weight: Sequence[float],
    c: float,
    lower: Sequence[float | None],
) -> tuple[list[float], float]:
    """L2-regularised weighted logistic regression with lower bounds on the coefficients.

    The objective is scikit-learn's (`C` times the weighted log-loss plus half the squared
    norm, intercept unpenalised), minimised by L-BFGS-B so that bounds can apply.
    """
    import numpy as np
    from scipy.optimize import minimize
    from scipy.special import expit

    y = np.asarray(labels, dtype=float)
    weight = np.asarray(sample_weight, dtype=float) * c
    transposed = matrix.T.tocsr()

    def objective(theta: Any) -> tuple[float, Any]:
        z = matrix @ theta[:-1] + theta[-1]
        residual = weight * (expit(z) - y)
        loss = float(np.sum(weight * (np.logaddexp(0.0, z) - y * z)))
        coef = theta[:-1]
        gradient = np.append(transposed @ residual + coef, residual.sum())
        return loss + 0.5 * float(coef @ coef), gradient

    bounds = [(bound, None) for bound in lower] + [(None, None)]
    result = minimize(
        objective,
        np.zeros(matrix.shape[1] + 1),
        jac=True,
        method="L-BFGS-B",
        bounds=bounds,
        options={"maxiter": 10000},
    )
    if not result.success:
        raise RuntimeError(f"logistic regression did not converge: {result.message}")
    return [float(value) for value in result.x[:-1]], float(result.x[-1])


def export(
    names: list[str],
    negative: tuple[list[float], float],
    positive: tuple[list[float], float],
    prune: float,
    precision: int = 3,
) -> dict[str, Any]:
    """The fitted weights as the model file's `weights` object.

    Words whose two weights are both below `prune` in size are dropped: they barely move a
    score and would only make the file bigger.
    """
    tables: dict[str, dict[str, list[float]]] = {"p": {}, "n": {}}
    vader = {name.partition(":")[2]: [0.0, 0.0] for name in _DENSE}
    for name, a, b in zip(names, negative[0], positive[0], strict=True):
        pair = [round(a, precision), round(b, precision)]
        kind, _, word = name.partition(":")
        if kind == "vader":
            vader[word] = pair
        elif max(abs(pair[0]), abs(pair[1])) >= prune:
            tables[kind][word] = pair
    return {
        "bias": [round(negative[1], precision), round(positive[1], precision)],
        "vader": vader,
        "plain": dict(sorted(tables["p"].items())),
        "negated": dict(sorted(tables["n"].items())),
    }


def to_model(weights: dict[str, Any], calibration: dict[str, float]) -> Model:
    """A detector model from fitted weights."""
    document = {
        "features_version": FEATURES_VERSION,
        "calibration": calibration,
        "weights": weights,
    }
    return Model.from_json(document)


def score(text: str, model: Model) -> float:
    """The detector's score of `text` under `model` (as `sentiment.sentiment` computes it)."""
    if not text or text.isspace():
        return 0.0
    return max(-1.0, min(1.0, model.score(*probabilities(text, model))))


def train(sources: list[Source], settings: Settings, featurize: Featurizer | None = None) -> Model:
    """A model trained on `sources`, its operating point chosen by cross-validation on them
    unless `settings` fixes it."""
    featurize = featurize or Featurizer()
    examples = [example for source in sources for example in source.examples]
    weights = fit(examples, [featurize(e.text) for e in examples], settings)
    point = settings.operating_point
    if point is None:
        point = choose_operating_point(sources, settings, featurize)["operating_point"]
    return to_model(weights, calibration(settings, point))


def calibration(settings: Settings, operating_point: float) -> dict[str, float]:
    """The model file's `calibration` object."""
    return {
        "neutral": settings.neutral,
        "positive_below": settings.positive_below,
        "operating_point": operating_point,
    }


# --- cross-validation ----------------------------------------------------------------------


def out_of_fold(
    sources: list[Source], settings: Settings, featurize: Featurizer
) -> tuple[list[Example], list[tuple[float, float]]]:
    """Every example with its (P(negative), P(positive)) from the fold model that did not see
    it; folds stratified by source and label."""
    examples = [example for source in sources for example in source.examples]
    strata: dict[tuple[str, bool, bool], list[int]] = {}
    for index, example in enumerate(examples):
        strata.setdefault((example.source, example.negative, example.positive), []).append(index)
    fold_of = [0] * len(examples)
    rng = random.Random(settings.seed)
    for members in strata.values():
        rng.shuffle(members)
        for position, index in enumerate(members):
            fold_of[index] = position % settings.folds
    predicted: list[tuple[float, float]] = [(0.0, 0.0)] * len(examples)
    rows = [featurize(example.text) for example in examples]
    # (Probabilities do not depend on the calibration.)
    placeholder = calibration(settings, 0.5)
    for fold in range(settings.folds):
        train_rows = [i for i in range(len(examples)) if fold_of[i] != fold]
        weights = fit([examples[i] for i in train_rows], [rows[i] for i in train_rows], settings)
        model = to_model(weights, placeholder)
        for index in range(len(examples)):
            if fold_of[index] == fold:
                predicted[index] = probabilities(examples[index].text, model)
    return examples, predicted


def choose_operating_point(
    sources: list[Source], settings: Settings, featurize: Featurizer
) -> dict[str, Any]:
    """The operating point by cross-validation over the groups present (module docstring)."""
    examples, predicted = out_of_fold(sources, settings, featurize)
    by_source: dict[str, list[tuple[bool, float]]] = {}
    for example, (negative, _) in zip(examples, predicted, strict=True):
        by_source.setdefault(example.source, []).append((example.negative, negative))
    support = [p for name, pairs in by_source.items() if name not in _GROUPED for _, p in pairs]
    candidates = []
    for point in OPERATING_POINTS:
        flagged = sum(p >= point for p in support) / len(support) if support else 0.0
        group_f1 = []
        for names in GROUPS.values():
            scores = [
                _f1(by_source[name], point) for name in names if _two_classes(by_source, name)
            ]
            if scores:
                group_f1.append(sum(scores) / len(scores))
        mean = sum(group_f1) / len(group_f1) if group_f1 else 0.0
        candidates.append((flagged <= settings.max_support_flagged, mean, -point, flagged))
    allowed, mean, negated_point, flagged = max(candidates)
    return {
        "operating_point": -negated_point,
        "mean_group_f1": round(mean, 4),
        "support_flagged": round(flagged, 4),
        "support_cap_met": allowed,
    }


_GROUPED = frozenset(name for names in GROUPS.values() for name in names)


def _two_classes(by_source: dict[str, list[tuple[bool, float]]], name: str) -> bool:
    labels = {truth for truth, _ in by_source.get(name, [])}
    return labels == {True, False}


def _f1(pairs: list[tuple[bool, float]], point: float) -> float:
    tp = sum(1 for truth, p in pairs if truth and p >= point)
    flagged = sum(1 for _, p in pairs if p >= point)
    positives = sum(1 for truth, _ in pairs if truth)
    return 2 * tp / (flagged + positives) if tp else 0.0


def metrics(
    truth: Sequence[bool], predicted: Sequence[tuple[float, float]], model: Model
) -> dict[str, Any]:
    """Figures of (P(negative), P(positive)) pairs scored by `model`'s calibration.

    AUC ranks by -score (and by the negative probability); F1, precision and recall are at
    score <= the policy's default threshold; `best_f1` is the best over thresholds, for
    reference only. For texts of one class only, the share flagged.
    """
    from sklearn.metrics import f1_score, precision_score, recall_score, roc_auc_score

    scores = [max(-1.0, min(1.0, model.score(n, p))) for n, p in predicted]
    flagged = [score <= POLICY_THRESHOLD for score in scores]
    if not any(truth) or all(truth):
        return {"rows": len(truth), "flagged_share": round(sum(flagged) / len(flagged), 4)}
    best_f1, best_threshold = max(
        (f1_score(truth, [s <= t for s in scores], zero_division=0.0), t)
        for t in [x / 100 for x in range(-95, 0, 5)]
    )
    negative = [n for n, _ in predicted]
    return {
        "rows": len(truth),
        "negative": sum(truth),
        "auc": round(float(roc_auc_score(truth, [-s for s in scores])), 4),
        "auc_negative_probability": round(float(roc_auc_score(truth, negative)), 4),
        "f1": round(float(f1_score(truth, flagged, zero_division=0.0)), 4),
        "precision": round(float(precision_score(truth, flagged, zero_division=0.0)), 4),
        "recall": round(float(recall_score(truth, flagged, zero_division=0.0)), 4),
        "best_f1": round(float(best_f1), 4),
        "best_threshold": best_threshold,
    }


def cross_validate(
    sources: list[Source], settings: Settings, point: float, featurize: Featurizer
) -> dict[str, Any]:
    """Out-of-fold figures per source, at the operating point `point`."""
    examples, predicted = out_of_fold(sources, settings, featurize)
    # Only the calibration maps probabilities to scores: no weights needed.
    model = to_model(_NO_WEIGHTS, calibration(settings, point))
    report: dict[str, Any] = {}
    for source in sources:
        members = [i for i, example in enumerate(examples) if example.source == source.name]
        truth = [examples[i].negative for i in members]
        report[source.name] = metrics(truth, [predicted[i] for i in members], model)
    return report


_NO_WEIGHTS: dict[str, Any] = {
    "bias": [0.0, 0.0],
    "vader": {name.partition(":")[2]: [0.0, 0.0] for name in _DENSE},
    "plain": {},
    "negated": {},
}


# --- command line --------------------------------------------------------------------------


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m warmhandoff.streams.lab.training.sentiment",
        description="Train the sentiment model from labelled data (see the module docstring).",
    )
    defaults = Settings()
    parser.add_argument("--data", type=Path, required=True, help="the shared data folder")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="model file to write")
    parser.add_argument("--cv", type=int, default=0, help="folds of cross-validation (0: none)")
    parser.add_argument("--lodo", action="store_true", help="record leave-one-dataset-out figures")
    parser.add_argument(
        "--c",
        default=str(defaults.c),
        help="inverse L2 regularisation; several, comma-separated: chosen by LODO AUC",
    )
    parser.add_argument(
        "--min-count", type=int, default=defaults.min_count, help="texts a word must occur in"
    )
    parser.add_argument(
        "--word-floor",
        type=float,
        default=defaults.word_floor,
        help="lowest word weight, negative model",
    )
    parser.add_argument(
        "--prune",
        type=float,
        default=defaults.prune,
        help="drop words whose weights are all smaller",
    )
    parser.add_argument(
        "--neutral",
        type=float,
        default=defaults.neutral,
        help="P(negative) of a turn without sentiment",
    )
    parser.add_argument(
        "--positive-below",
        type=float,
        default=defaults.positive_below,
        help="P(negative) under which a turn can score positive",
    )
    parser.add_argument(
        "--operating-point",
        type=float,
        default=None,
        help="P(negative) that scores -0.6 (default: chosen by cross-validation)",
    )
    parser.add_argument(
        "--max-support-flagged",
        type=float,
        default=defaults.max_support_flagged,
        help="largest share of support queries the operating point may flag",
    )
    parser.add_argument(
        "--folds", type=int, default=defaults.folds, help="folds that choose the operating point"
    )
    parser.add_argument("--seed", type=int, default=defaults.seed, help="seed of the folds")
    parser.add_argument(
        "--weight",
        action="append",
        default=[],
        metavar="SOURCE=W",
        help="multiply a source's example weights (0 leaves it out)",
    )
    return parser


def command(
    settings: Settings, *, lodo: bool = False, cv: int = 0, strengths: str | None = None
) -> str:
    """The command line that trains with `settings` (the data folder written DATA);
    `strengths`, when given, is the `--c` list the L2 strength was chosen from."""
    parts = ["python -m warmhandoff.streams.lab.training.sentiment --data DATA"]
    if cv:
        parts.append(f"--cv {cv}")
    if lodo:
        parts.append("--lodo")
    parts.append(f"--c {strengths or settings.c} --min-count {settings.min_count}")
    parts.append(f"--prune {settings.prune}")
    parts.append(f"--word-floor {settings.word_floor}")
    parts.append(f"--neutral {settings.neutral} --positive-below {settings.positive_below}")
    if settings.operating_point is not None:
        parts.append(f"--operating-point {settings.operating_point}")
    parts.append(f"--max-support-flagged {settings.max_support_flagged}")
    parts.append(f"--folds {settings.folds} --seed {settings.seed}")
    parts += [f"--weight {name}={value}" for name, value in sorted(settings.weights.items())]
    return " ".join(parts)


def _settings(parser: argparse.ArgumentParser, options: argparse.Namespace) -> list[Settings]:
    weights = dict(DEFAULT_WEIGHTS)
    for item in options.weight:
        name, _, value = item.partition("=")
        try:
            weights[name] = float(value)
        except ValueError:
            parser.error(f"--weight {item}: expected SOURCE=NUMBER")
    try:
        strengths = [float(value) for value in options.c.split(",")]
    except ValueError:
        parser.error(f"--c {options.c}: expected numbers separated by commas")
    return [
        Settings(
            c=c,
            min_count=options.min_count,
            word_floor=options.word_floor,
            prune=options.prune,
            neutral=options.neutral,
            positive_below=options.positive_below,
            operating_point=options.operating_point,
            max_support_flagged=options.max_support_flagged,
            folds=options.folds,
            seed=options.seed,
            weights=weights,
        )
        for c in strengths
    ]


def build(argv: Sequence[str] | None = None) -> dict[str, Any]:
    """Train (and optionally evaluate) from the command line; write and return the model file."""
    from warmhandoff.streams.lab.eval.sentiment_lodo import ShippedRecipe, leave_one_dataset_out

    parser = _parser()
    options = parser.parse_args(argv)
    candidates = _settings(parser, options)
    sources = reweight(load_sources(options.data), candidates[0].weights)
    if not sources:
        parser.error(f"no training data found under {options.data}")
    featurize = Featurizer()
    evaluation: dict[str, Any] = {}
    settings = candidates[0]
    if len(candidates) > 1 or options.lodo:
        by_strength = {}
        for candidate in candidates:
            recipe = ShippedRecipe(candidate, featurize)
            by_strength[candidate.c] = leave_one_dataset_out(options.data, POLICY_THRESHOLD, recipe)
        if len(candidates) > 1:
            settings = max(candidates, key=lambda s: _mean_auc(by_strength[s.c]))
            evaluation["l2_by_lodo"] = {
                str(c): _mean_auc(report) for c, report in by_strength.items()
            }
            evaluation["l2_chosen"] = settings.c
        if by_strength[settings.c] is not None:
            evaluation["leave_one_dataset_out"] = by_strength[settings.c]

    examples = [example for source in sources for example in source.examples]
    fitted = fit(examples, [featurize(e.text) for e in examples], settings)
    if settings.operating_point is None:
        choice = choose_operating_point(sources, settings, featurize)
        evaluation["operating_point"] = choice
        point = float(choice["operating_point"])
    else:
        point = settings.operating_point
    if options.cv > 1:
        evaluation["cross_validated"] = {
            "folds": options.cv,
            "by_source": cross_validate(
                sources, replace(settings, folds=options.cv), point, featurize
            ),
        }
    model = to_model(fitted, calibration(settings, point))
    checks = {}
    for name, texts in support_turns(options.data).items():
        flagged = sum(score(text, model) <= POLICY_THRESHOLD for text in texts)
        checks[name] = {"rows": len(texts), "flagged_share": round(flagged / len(texts), 4)}
    if checks:
        evaluation["held_out_support_turns"] = checks
    document: dict[str, Any] = {
        "format": "warmhandoff.sentiment",
        "features_version": FEATURES_VERSION,
        "trained_by": command(
            settings,
            lodo=options.lodo,
            cv=options.cv,
            strengths=options.c if len(candidates) > 1 else None,
        ),
        "training_data": [
            {
                "source": source.name,
                "rows": len(source.examples),
                "fingerprint": fingerprint([e.text for e in source.examples]),
                "negative": sum(e.negative for e in source.examples),
                "positive": sum(e.positive for e in source.examples),
                "weight": settings.weights.get(source.name, 1.0),
                "mapping": source.mapping,
                "licence": source.licence,
            }
            for source in sources
        ],
        "calibration": calibration(settings, point),
        "evaluation": evaluation,
        "weights": fitted,
    }
    options.out.write_text(dump(document), encoding="utf-8")
    return document


def _mean_auc(report: dict[str, Any] | None) -> float:
    """The held-out AUC of a LODO report, averaged over its sets, then over its groups."""
    if report is None:
        return 0.0
    means = []
    for group in report["groups"].values():
        aucs = [figures["auc"] for figures in group["sets"].values() if figures["auc"] is not None]
        if aucs:
            means.append(sum(aucs) / len(aucs))
    return round(sum(means) / len(means), 4) if means else 0.0


def dump(document: dict[str, Any]) -> str:
    """The model file's JSON: readable metadata, then one line per word (small, diffable)."""
    head = {key: value for key, value in document.items() if key != "weights"}
    weights = document["weights"]
    lines = [json.dumps(head, indent=1, ensure_ascii=False)[:-2] + ',\n "weights": {']
    lines.append(f'  "bias": {json.dumps(weights["bias"])},')
    lines.append(f'  "vader": {json.dumps(weights["vader"], sort_keys=True)},')
    tables = ("plain", "negated")
    for table in tables:
        entries = [
            f"   {json.dumps(word, ensure_ascii=False)}: {json.dumps(pair)}"
            for word, pair in weights[table].items()
        ]
        closing = "  }" if table == tables[-1] else "  },"
        lines.append(f'  "{table}": {{\n' + ",\n".join(entries) + "\n" + closing)
    lines.append(" }\n}\n")
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of `python -m warmhandoff.streams.lab.training.sentiment`."""
    document = build(argv)
    sys.stdout.write(json.dumps(document["evaluation"], indent=1) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
