"""Wait history: the recent actual waits of answered customers who joined in a similar state.

A snapshot predictor in the manner of queue mining: a customer who joins with two ahead of
them and the same priority is likely to wait about as long as the last customers who joined
that way. The state is the number of customers ahead (capped into a few buckets) and the
priority; each bucket keeps the waits of its last `size` answered customers. A bucket with
fewer than `min_samples` falls back to the ahead bucket alone (any priority), and that to
nothing (the caller's own model). Only customers already answered are learned from, so a
prediction never reads the future. Bounded memory, O(1) per prediction. Pure: no clock, no
I/O.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field

#: Upper ends of the buckets of customers ahead: 0, 1, 2, 3, 4-6, 7 or more.
AHEAD_BUCKETS = (0, 1, 2, 3, 6)


def ahead_bucket(ahead: int) -> int:
    """The bucket of `ahead` customers ahead (0 .. len(AHEAD_BUCKETS))."""
    for index, upper in enumerate(AHEAD_BUCKETS):
        if ahead <= upper:
            return index
    return len(AHEAD_BUCKETS)


@dataclass(slots=True)
class _Window:
    """The last `size` waits and their sum."""

    size: int
    waits: deque[float] = field(default_factory=deque)
    total: float = 0.0

    def add(self, wait: float) -> None:
        self.waits.append(wait)
        self.total += wait
        if len(self.waits) > self.size:
            self.total -= self.waits.popleft()

    def mean(self) -> float:
        return self.total / len(self.waits)


@dataclass(slots=True)
class WaitHistory:
    """Recent waits of answered customers by the state they joined in (see the docstring)."""

    size: int = 50
    min_samples: int = 10
    _fine: dict[tuple[int, int], _Window] = field(default_factory=dict)
    _coarse: dict[int, _Window] = field(default_factory=dict)

    @staticmethod
    def situation(ahead: int, priority: int) -> tuple[int, int]:
        """The state a customer joins in: (ahead bucket, priority)."""
        return ahead_bucket(ahead), priority

    def observe(self, situation: tuple[int, ...], waited: float) -> None:
        """A customer who joined in `situation` was answered after `waited` seconds."""
        if len(situation) != 2:
            return  # no situation recorded (nothing was announced)
        bucket, priority = situation
        wait = max(0.0, waited)
        self._fine.setdefault((bucket, priority), _Window(self.size)).add(wait)
        self._coarse.setdefault(bucket, _Window(self.size)).add(wait)

    def predict(self, situation: tuple[int, int]) -> float | None:
        """The mean recent wait of the customers who joined so (None: too few answered)."""
        fine = self._fine.get(situation)
        if fine is not None and len(fine.waits) >= self.min_samples:
            return fine.mean()
        coarse = self._coarse.get(situation[0])
        if coarse is not None and len(coarse.waits) >= self.min_samples:
            return coarse.mean()
        return None
