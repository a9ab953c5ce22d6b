"""The blend: least-squares weights of the wait predictors over recently answered customers.

The queue model (streams/routing/estimate.py) is one predictor among several the router
knows when a customer joins: head of line, last to enter service, position over the measured
completion rate. The blend learns, online and only from customers already answered, how to
mix them, shrunk toward the queue model alone, and is used only while it has beaten the model
on recent customers. Pure: no clock, no I/O.
"""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass, field

#: Answered customers the blend must have scored before it may replace the queue model.
MIN_SCORED = 30


def _solve(matrix: list[list[float]], vector: list[float]) -> list[float] | None:
    """Gaussian elimination with partial pivoting; None when singular."""
    n = len(vector)
    a = [[*row, vector[i]] for i, row in enumerate(matrix)]
    for col in range(n):
        pivot = max(range(col, n), key=lambda r: abs(a[r][col]))
        if abs(a[pivot][col]) < 1e-12:
            return None
        a[col], a[pivot] = a[pivot], a[col]
        for r in range(col + 1, n):
            f = a[r][col] / a[col][col]
            if f:
                for c in range(col, n + 1):
                    a[r][c] -= f * a[col][c]
    x = [0.0] * n
    for r in range(n - 1, -1, -1):
        x[r] = (a[r][n] - sum(a[r][c] * x[c] for c in range(r + 1, n))) / a[r][r]
    return x


@dataclass(slots=True)
class Blend:
    """Least-squares weights of the predictors over recently answered customers.

    Ridge-shrunk toward the queue model alone (weight 1 on it, 0 elsewhere), as if
    `prior_customers` customers had confirmed it; each predictor's penalty is scaled by its
    mean square so seconds and counts weigh alike. Unknown features (an empty tuple) are
    not learned from.
    """

    size: int = 2000
    prior_customers: float = 20.0
    _recent: deque[tuple[tuple[float, ...], float]] = field(default_factory=deque)
    _xtx: list[list[float]] = field(default_factory=list)
    _xty: list[float] = field(default_factory=list)
    _weights: list[float] | None = None
    _errors: deque[tuple[float, float]] = field(default_factory=deque)  # (model, blend) squared
    _error_sums: list[float] = field(default_factory=lambda: [0.0, 0.0])

    @property
    def samples(self) -> int:
        """Customers observed."""
        return len(self._recent)

    def observe(self, features: tuple[float, ...], actual: float) -> None:
        """An answered customer: the predictors when they joined, and what they waited."""
        if not features or not all(math.isfinite(x) for x in features):
            return
        # Scored before learning from this customer: the blend's error out of sample.
        errors = ((features[1] - actual) ** 2, (self.predict(features) - actual) ** 2)
        self._errors.append(errors)
        self._error_sums = [a + b for a, b in zip(self._error_sums, errors, strict=True)]
        if len(self._errors) > self.size:
            old_errors = self._errors.popleft()
            self._error_sums = [a - b for a, b in zip(self._error_sums, old_errors, strict=True)]
        if not self._xtx:
            self._xtx = [[0.0] * len(features) for _ in features]
            self._xty = [0.0] * len(features)
        self._add(features, max(0.0, actual), 1.0)
        self._recent.append((features, max(0.0, actual)))
        if len(self._recent) > self.size:
            old, y = self._recent.popleft()
            self._add(old, y, -1.0)
        self._weights = None

    def _add(self, x: tuple[float, ...], y: float, sign: float) -> None:
        for i, xi in enumerate(x):
            self._xty[i] += sign * xi * y
            row = self._xtx[i]
            for j, xj in enumerate(x):
                row[j] += sign * xi * xj

    def earned(self) -> bool:
        """Whether the blend beat the queue model alone on the recent customers."""
        model, blended = self._error_sums
        return len(self._errors) >= MIN_SCORED and blended < model

    def predict(self, features: tuple[float, ...]) -> float:
        """The blended wait (the queue model, features[1], until anyone was observed)."""
        if not self._recent or len(features) != len(self._xty):
            return features[1]
        if self._weights is None:
            n = len(self._recent)
            prior = [0.0] * len(features)
            prior[1] = 1.0
            matrix = [row[:] for row in self._xtx]
            vector = self._xty[:]
            for i in range(len(features)):
                penalty = self.prior_customers * max(matrix[i][i] / n, 1e-9)
                matrix[i][i] += penalty
                vector[i] += penalty * prior[i]
            self._weights = _solve(matrix, vector) or prior
        return max(0.0, sum(w * x for w, x in zip(self._weights, features, strict=True)))
