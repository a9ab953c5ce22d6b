"""Score a turn with a snapshot of the learned model, in pure Python (the worker's hot path).

The learner trains a river pipeline (`StandardScaler | LogisticRegression`, see `model.py`);
its snapshot is JSON: per-feature mean and variance, weights and intercept. `LinearScorer`
applies exactly river's arithmetic to them (standardise, dot product, sigmoid), so a worker
needs neither river nor numpy, and a snapshot read from a topic is data, never code (no
pickle crosses the trust boundary). `tests/unit/test_learning_model.py` checks the two agree.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import orjson

SNAPSHOT_FORMAT = "warmhandoff.learned.logreg/1"
MIN_EXAMPLES = 200  # turns a model must have learned before a worker uses its scores


class SnapshotError(ValueError):
    """A snapshot that is not a learned-model snapshot this version can read."""


@dataclass(frozen=True, slots=True)
class LinearScorer:
    """A frozen copy of the model: `score(features)` in [0, 1]."""

    # Standardising folded into the weights: w * (x - mean) / std = (w / std) * x - w * mean / std,
    # so a score is one multiply-add per feature.
    terms: tuple[tuple[str, float], ...]  # (name, weight / std); features without variance: 0
    intercept: float  # river's intercept less sum(weight * mean / std)
    examples: int  # how many labelled examples the model had learned
    version: str  # the snapshot's version, recorded with every score

    def score(self, x: Mapping[str, float]) -> float:
        """The probability that the conversation needs a human."""
        z = self.intercept
        for name, weight in self.terms:
            value = x.get(name)
            if value is not None:
                z += weight * value
        # Clamped like river's sigmoid, so huge margins do not overflow.
        z = max(-30.0, min(30.0, z))
        return 1.0 / (1.0 + math.exp(-z))

    @classmethod
    def from_snapshot(cls, data: bytes) -> LinearScorer:
        """Read a snapshot (`model.LearnedModel.snapshot`)."""
        doc = parse_snapshot(data)
        terms = []
        intercept = float(doc["intercept"])
        for name, weight in sorted(doc["weights"].items()):
            var = float(doc["vars"].get(name, 0.0))
            if var <= 0.0 or not weight:
                continue  # river scales a feature without variance to 0
            scaled = float(weight) / math.sqrt(var)
            terms.append((name, scaled))
            intercept -= scaled * float(doc["means"].get(name, 0.0))
        return cls(
            terms=tuple(terms),
            intercept=intercept,
            examples=int(doc["examples"]),
            version=str(doc["version"]),
        )


def parse_snapshot(data: bytes) -> dict[str, Any]:
    """The snapshot's JSON, checked for shape (SnapshotError otherwise)."""
    try:
        doc = orjson.loads(data)
    except orjson.JSONDecodeError as exc:
        raise SnapshotError(f"not JSON: {exc}") from None
    if not isinstance(doc, dict) or doc.get("format") != SNAPSHOT_FORMAT:
        raise SnapshotError(f"not a {SNAPSHOT_FORMAT} snapshot")
    for key in ("means", "vars", "counts", "weights"):
        table = doc.get(key)
        if not isinstance(table, dict) or not all(
            isinstance(v, int | float) and math.isfinite(v) for v in table.values()
        ):
            raise SnapshotError(f"{key}: expected an object of finite numbers")
    for key in ("intercept", "examples", "n_iterations"):
        value = doc.get(key)
        if not isinstance(value, int | float) or not math.isfinite(value):
            raise SnapshotError(f"{key}: expected a finite number")
    if not isinstance(doc.get("version"), str):
        raise SnapshotError("version: expected a string")
    return doc
