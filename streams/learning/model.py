"""The online model behind the `learned` trigger: river's `StandardScaler | LogisticRegression`.

river learns one example at a time from a stream, which is how outcomes arrive. A logistic
regression keeps the worker's cost tiny (a dot product, `scorer.LinearScorer`) and its state
is a handful of numbers, so the snapshot is JSON (`scorer.SNAPSHOT_FORMAT`): restoring one
from a topic never unpickles anything. river is imported lazily: only the learner and the
simulation pay its import (about a second, numpy and scipy).
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Mapping
from typing import Any

import orjson

from warmhandoff.streams.contract.errors import MissingExtraError
from warmhandoff.streams.learning.scorer import SNAPSHOT_FORMAT, LinearScorer, parse_snapshot

LEARNING_RATE = 0.02
L2 = 1e-4


class LearnedModel:
    """Score and learn one turn's features at a time; snapshot to JSON and back."""

    def __init__(self, *, learning_rate: float = LEARNING_RATE, l2: float = L2) -> None:
        try:
            from river import compose, linear_model, optim, preprocessing
        except ImportError:
            raise MissingExtraError("the learned trigger's online model", "learner") from None

        self._scaler = preprocessing.StandardScaler()
        self._logreg = linear_model.LogisticRegression(optimizer=optim.SGD(learning_rate), l2=l2)
        self._pipeline = compose.Pipeline(self._scaler, self._logreg)
        self.learning_rate = learning_rate
        self.l2 = l2
        self.examples = 0
        self.positives = 0

    def score(self, x: Mapping[str, float]) -> float:
        """The probability that the conversation needs a human (0.5 before any learning)."""
        proba = self._pipeline.predict_proba_one(dict(x))
        return float(proba.get(True, 0.0))

    def learn(self, x: Mapping[str, float], label: bool) -> None:
        """Learn one labelled example."""
        self._pipeline.learn_one(dict(x), bool(label))
        self.examples += 1
        self.positives += int(bool(label))

    def snapshot(self, *, version: str = "") -> bytes:
        """The model's whole state as JSON bytes (what the learner publishes)."""
        doc: dict[str, Any] = {
            "schema_version": 1,
            "format": SNAPSHOT_FORMAT,
            "version": version or f"n{self.examples}",
            "examples": self.examples,
            "positives": self.positives,
            "learning_rate": self.learning_rate,
            "l2": self.l2,
            "counts": dict(self._scaler.counts),
            "means": dict(self._scaler.means),
            "vars": dict(self._scaler.vars),
            "weights": dict(self._logreg._weights),
            "intercept": float(self._logreg.intercept),
            "n_iterations": int(self._logreg.optimizer.n_iterations),
        }
        return orjson.dumps(doc, option=orjson.OPT_SORT_KEYS)

    @classmethod
    def restore(cls, data: bytes) -> LearnedModel:
        """A model that continues exactly where the snapshot's left off."""
        doc = parse_snapshot(data)
        model = cls(
            learning_rate=float(doc.get("learning_rate", LEARNING_RATE)),
            l2=float(doc.get("l2", L2)),
        )
        model._scaler.counts = Counter({k: int(v) for k, v in doc["counts"].items()})
        model._scaler.means = defaultdict(float, {k: float(v) for k, v in doc["means"].items()})
        model._scaler.vars = defaultdict(float, {k: float(v) for k, v in doc["vars"].items()})
        for name, weight in doc["weights"].items():
            model._logreg._weights[name] = float(weight)
        model._logreg.intercept = float(doc["intercept"])
        model._logreg.optimizer.n_iterations = int(doc["n_iterations"])
        model.examples = int(doc["examples"])
        model.positives = int(doc.get("positives", 0))
        return model

    def scorer(self) -> LinearScorer:
        """A frozen pure-Python copy for scoring (what a worker holds)."""
        return LinearScorer.from_snapshot(self.snapshot())
