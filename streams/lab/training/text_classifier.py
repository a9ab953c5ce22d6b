"""Train the text classifier (`detect/text_model.json`): requests for a human and risk.

    pip install -e '.[train]'
    python -m warmhandoff.streams.lab.training.text_classifier --data ../shared/data

Learns from every development data set found (Banking77, CLINC150, NLU++; label mapping in
`text_labels`) and from the examples written for this project (`written/`), then measures
itself leave-one-dataset-out: for each development set, a model trained on the others and
the written examples scores the set left out. The written examples only ever train. Those
figures, the data, its licences and the command are recorded in the model file; the shipped
model learns from everything.

scikit-learn is needed here only (the `train` extra); the detector reads the JSON with a
dictionary and numpy.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from importlib.resources import files
from importlib.resources.abc import Traversable
from pathlib import Path
from typing import Any

from warmhandoff.streams.contract.errors import DatasetError
from warmhandoff.streams.detect.normalize import fold
from warmhandoff.streams.detect.text_classifier import (
    MODEL_FILE,
    MODEL_FORMAT,
    TextClassifier,
)
from warmhandoff.streams.detect.text_features import FEATURES_VERSION, features
from warmhandoff.streams.lab.eval.datasets import load_datasets
from warmhandoff.streams.lab.training.text_labels import HEADS, MAPPINGS, heads_of

DEFAULT_OUT = Path(__file__).parents[2] / "detect" / MODEL_FILE
WRITTEN = "written"


@dataclass(frozen=True, slots=True)
class Example:
    """One text, the heads it is positive for, and where it came from."""

    text: str
    heads: frozenset[str]
    source: str


@dataclass(frozen=True)
class Recipe:
    """How a model is trained (recorded in the model file)."""

    c: float = 1.0
    min_count: int = 2
    positive_weight: float = 2.0
    written_weight: float = 1.0
    #: Probability at which a risk head fires: the patterns in `detect/risk.py` find the
    #: plainly worded cases, the head adds the confident rest.
    threshold: float = 0.8
    #: Probability at which the human-request head fires: high, because the rules in
    #: `detect/human_request.py` already catch the plainly worded requests and the head's job
    #: is the rest (questions about reaching someone, typos, chat spelling), where a false
    #: alarm hands over a customer the bot could have served.
    human_threshold: float = 0.9
    prune: float = 0.02


def shipped_recipe() -> dict[str, Any]:
    """The recipe the shipped classifier was trained with (from its model file)."""
    raw = files("warmhandoff.streams.detect").joinpath(MODEL_FILE).read_text("utf-8")
    recipe: dict[str, Any] = json.loads(raw)["recipe"]
    return recipe


def development_examples(root: Path) -> tuple[dict[str, list[Example]], dict[str, Any]]:
    """Rows of each development set with heads mapped (adjacent rows left out), and a summary."""
    loaded = load_datasets(root)
    sets: dict[str, list[Example]] = {}
    summary: dict[str, Any] = {}
    for key in MAPPINGS:
        data = loaded.get(key)
        if data is None:
            continue
        rows: list[Example] = []
        left_out = 0
        for row in data.rows:
            heads = heads_of(key, row.labels)
            if heads is None:
                left_out += 1
                continue
            rows.append(Example(row.text, heads, key))
        sets[key] = rows
        counts = Counter(head for example in rows for head in example.heads)
        summary[key] = {
            "title": data.title,
            "licence": data.licence,
            "files": list(data.files),
            "rows": len(rows),
            "left_out_adjacent": left_out,
            "positives": {head: counts.get(head, 0) for head in HEADS},
        }
    return sets, summary


def written_examples(folder: Traversable | None = None) -> list[Example]:
    """The examples written for this project (package data under `written/`, or `folder`)."""
    folder = folder or files("warmhandoff.streams.lab.training").joinpath(WRITTEN)
    out: list[Example] = []
    for entry in sorted(folder.iterdir(), key=lambda p: p.name):
        if not entry.name.endswith(".jsonl"):
            continue
        for number, line in enumerate(entry.read_text(encoding="utf-8").splitlines(), 1):
            if not line.strip():
                continue
            try:
                item = json.loads(line)
                heads = frozenset(item["labels"])
                text = item["text"]
            except (json.JSONDecodeError, KeyError, TypeError) as exc:
                raise DatasetError(f"{entry.name}: line {number}: {exc}") from None
            unknown = heads - set(HEADS)
            if unknown:
                raise DatasetError(f"{entry.name}: line {number}: unknown labels {sorted(unknown)}")
            if not isinstance(text, str) or not text.strip():
                raise DatasetError(f"{entry.name}: line {number}: text is not a non-empty string")
            out.append(Example(text, heads, f"{WRITTEN}/{entry.name}"))
    return out


def fit(examples: Sequence[Example], recipe: Recipe) -> dict[str, Any]:
    """Train one logistic regression per head; the model as written to the file (no provenance)."""
    import numpy as np
    from scipy.sparse import csr_matrix
    from sklearn.linear_model import LogisticRegression

    rows = [features(fold(example.text)) for example in examples]
    counts: Counter[str] = Counter()
    for row in rows:
        counts.update(set(row))
    vocabulary = sorted(name for name, n in counts.items() if n >= recipe.min_count)
    column = {name: i for i, name in enumerate(vocabulary)}
    indptr: list[int] = [0]
    indices: list[int] = []
    for row in rows:
        indices.extend(column[name] for name in row if name in column)
        indptr.append(len(indices))
    matrix = csr_matrix(
        (np.ones(len(indices)), np.array(indices, dtype=np.int64), np.array(indptr)),
        shape=(len(rows), len(vocabulary)),
    )
    matrix.sum_duplicates()
    base = np.array(
        [recipe.written_weight if e.source.startswith(WRITTEN) else 1.0 for e in examples]
    )
    weights = np.zeros((len(vocabulary), len(HEADS)))
    bias = []
    for h, head in enumerate(HEADS):
        target = np.array([head in e.heads for e in examples], dtype=np.int64)
        sample = base * np.where(target == 1, recipe.positive_weight, 1.0)
        if target.min() == target.max():
            raise DatasetError(f"no positive and negative examples for {head}")
        model = LogisticRegression(C=recipe.c, solver="liblinear", max_iter=500)
        model.fit(matrix, target, sample_weight=sample)
        weights[:, h] = model.coef_[0]
        bias.append(round(float(model.intercept_[0]), 5))
    keep = np.abs(weights).max(axis=1) >= recipe.prune
    return {
        "format": MODEL_FORMAT,
        "features_version": FEATURES_VERSION,
        "heads": list(HEADS),
        "thresholds": [
            recipe.human_threshold if head == "human_request" else recipe.threshold
            for head in HEADS
        ],
        "bias": bias,
        "weights": {
            vocabulary[i]: [round(float(w), 4) for w in weights[i]] for i in np.flatnonzero(keep)
        },
    }


def score(model: TextClassifier, examples: Iterable[Example]) -> dict[str, Any]:
    """Per head: tp, fp, fn, tn, precision, recall, f1, and the share of plain rows tagged."""
    tally = {head: Counter[str]() for head in HEADS}
    plain = plain_tagged = total = 0
    for example in examples:
        total += 1
        found = set(model.found(fold(example.text)))
        for head in HEADS:
            truth, hit = head in example.heads, head in found
            tally[head]["tp" if truth and hit else "fn" if truth else "fp" if hit else "tn"] += 1
        if not example.heads:
            plain += 1
            plain_tagged += bool(found - {"human_request"})
    out: dict[str, Any] = {"n": total, "heads": {}}
    for head, c in tally.items():
        tp, fp, fn = c["tp"], c["fp"], c["fn"]
        precision = tp / (tp + fp) if tp + fp else None
        recall = tp / (tp + fn) if tp + fn else None
        f1 = 2 * tp / (2 * tp + fp + fn) if tp + fn else None
        out["heads"][head] = {
            "positives": tp + fn,
            "tp": tp,
            "fp": fp,
            "fn": fn,
            "precision": _round(precision),
            "recall": _round(recall),
            "f1": _round(f1),
        }
    out["plain"] = {
        "n": plain,
        "risk_tagged": plain_tagged,
        "rate": _round(plain_tagged / plain if plain else None),
    }
    return out


def leave_one_out(
    sets: dict[str, list[Example]], written: Sequence[Example], recipe: Recipe
) -> dict[str, Any]:
    """For each development set: a model trained on the others and `written` scores it."""
    out: dict[str, Any] = {}
    for held in sets:
        train = [e for key, rows in sets.items() if key != held for e in rows]
        model = TextClassifier(fit([*train, *written], recipe))
        out[held] = score(model, sets[held])
    return out


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 4)


def main(argv: Sequence[str] | None = None) -> int:
    """Command line: train, measure leave-one-dataset-out, write the model file."""
    parser = argparse.ArgumentParser(
        prog="python -m warmhandoff.streams.lab.training.text_classifier",
        description="Train the request-for-a-human and risk classifier.",
    )
    parser.add_argument(
        "--data", type=Path, required=True, help="folder laid out as ../shared/data"
    )
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="model file to write")
    parser.add_argument("--c", type=float, default=Recipe.c, help="inverse L2 strength")
    parser.add_argument("--positive-weight", type=float, default=Recipe.positive_weight)
    parser.add_argument("--written-weight", type=float, default=Recipe.written_weight)
    parser.add_argument("--threshold", type=float, default=Recipe.threshold)
    parser.add_argument("--human-threshold", type=float, default=Recipe.human_threshold)
    parser.add_argument("--no-write", action="store_true", help="measure only")
    args = parser.parse_args(argv)
    recipe = Recipe(
        c=args.c,
        positive_weight=args.positive_weight,
        written_weight=args.written_weight,
        threshold=args.threshold,
        human_threshold=args.human_threshold,
    )
    try:
        sets, summary = development_examples(args.data)
        written = written_examples()
    except DatasetError as exc:
        sys.stderr.write(f"error: {exc}\n")
        return 2
    lodo = leave_one_out(sets, written, recipe)
    sys.stdout.write(json.dumps(lodo, indent=1) + "\n")
    if args.no_write:
        return 0
    model = fit([e for rows in sets.values() for e in rows] + written, recipe)
    provenance = {
        "format": MODEL_FORMAT,
        "trained": datetime.now(UTC).date().isoformat(),
        "trained_by": "python -m warmhandoff.streams.lab.training.text_classifier "
        + " ".join(argv if argv is not None else sys.argv[1:]),
        "recipe": asdict(recipe),
        "training_data": {**summary, WRITTEN: _written_summary(written)},
        "leave_one_dataset_out": lodo,
    }
    model = {**provenance, **model}
    # One line per feature: the file diffs readably when the model is retrained.
    head = json.dumps(
        {k: v for k, v in model.items() if k != "weights"}, ensure_ascii=False, indent=1
    )
    rows = ",\n".join(
        f"  {json.dumps(name, ensure_ascii=False)}: {json.dumps(w)}"
        for name, w in model["weights"].items()
    )
    args.out.write_text(f'{head[:-2]},\n "weights": {{\n{rows}\n }}\n}}\n', encoding="utf-8")
    sys.stderr.write(f"wrote {args.out}: {len(model['weights'])} features\n")
    return 0


def _written_summary(written: Sequence[Example]) -> dict[str, Any]:
    counts = Counter(head for e in written for head in e.heads)
    return {
        "title": "examples written for this project (train only, never a test fold)",
        "licence": "the project's licence",
        "rows": len(written),
        "positives": {head: counts.get(head, 0) for head in HEADS},
    }


if __name__ == "__main__":
    raise SystemExit(main())
