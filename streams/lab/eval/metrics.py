"""Scores shared by the evaluation sections: confusion counts, ROC AUC, best threshold, shares."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True, slots=True)
class BinaryCounts:
    """Confusion counts of a binary detector; undefined ratios are 0.0."""

    tp: int = 0
    fp: int = 0
    fn: int = 0
    tn: int = 0

    @classmethod
    def of(cls, truth: Iterable[bool], predicted: Iterable[bool]) -> BinaryCounts:
        """Count a paired sequence of true and predicted labels."""
        counts = Counter(zip(truth, predicted, strict=True))
        return cls(
            counts[True, True], counts[False, True], counts[True, False], counts[False, False]
        )

    @property
    def precision(self) -> float:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else 0.0

    @property
    def recall(self) -> float:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else 0.0

    @property
    def f1(self) -> float:
        return 2 * self.tp / (2 * self.tp + self.fp + self.fn) if self.tp else 0.0

    def as_dict(self) -> dict[str, Any]:
        """Counts and ratios, ratios rounded to 4 places."""
        return {
            "n": self.tp + self.fp + self.fn + self.tn,
            "positives": self.tp + self.fn,
            "tp": self.tp,
            "fp": self.fp,
            "fn": self.fn,
            "tn": self.tn,
            "precision": round(self.precision, 4),
            "recall": round(self.recall, 4),
            "f1": round(self.f1, 4),
        }


def roc_auc(scores: Sequence[float], positive: Sequence[bool]) -> float | None:
    """ROC AUC by the rank formula (Mann-Whitney U), tied scores sharing their mean rank.

    None when either class is empty.
    """
    n_pos = sum(positive)
    n_neg = len(positive) - n_pos
    if not n_pos or not n_neg:
        return None
    order = sorted(range(len(scores)), key=scores.__getitem__)
    rank_sum = 0.0
    start = 0
    while start < len(order):
        end = start
        while end + 1 < len(order) and scores[order[end + 1]] == scores[order[start]]:
            end += 1
        mean_rank = (start + end) / 2 + 1  # ranks are 1-based
        rank_sum += mean_rank * sum(positive[i] for i in order[start : end + 1])
        start = end + 1
    return (rank_sum - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg)


def best_f1_threshold(scores: Sequence[float], positive: Sequence[bool]) -> tuple[float, float]:
    """The score threshold t maximising F1 of "score <= t is positive", and that F1."""
    n_pos = sum(positive)
    best = (min(scores, default=0.0), 0.0)
    tp = fp = 0
    order = sorted(range(len(scores)), key=scores.__getitem__)
    for index, i in enumerate(order):
        tp += positive[i]
        fp += not positive[i]
        last_of_tie = index + 1 == len(order) or scores[order[index + 1]] != scores[i]
        if last_of_tie and tp:
            f1 = 2 * tp / (tp + fp + n_pos)
            if f1 > best[1]:
                best = (scores[i], f1)
    return best


def share(count: int, n: int, count_key: str, rate_key: str) -> dict[str, Any]:
    """`{"n": n, count_key: count, rate_key: count / n}` (0.0 when n is 0), rounded."""
    return {"n": n, count_key: count, rate_key: round(count / n, 4) if n else 0.0}


def us(cpu_seconds: float, calls: int) -> float:
    """Microseconds per call, one decimal."""
    return round(cpu_seconds / calls * 1e6, 1) if calls else 0.0
