"""Score a replayed call log: the router's estimates against three simple yardsticks.

Scored callers are those who queued and were answered: their recorded wait is the truth.
RASE (root average squared error) and MAE of the point, the share of waits inside the
announced range and the range's median width; the same RASE for the naive formula (place in
line x average handle time / agents on shift), head of line (the current wait of the first in
line; 0 when nobody is) and last to enter service (the wait of the last queued caller of the
queue who was answered).

Abandoned callers are censored (they only tell us their wait was at least their patience), so
they are not in the errors: they are reported apart, as the shares whose patience ran out
before the range's low end, inside it, or after its high end.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Callable, Iterable
from datetime import datetime, timedelta
from typing import Any

from warmhandoff.streams.lab.simulation.trace_replay import Prediction

Group = Callable[[Prediction], str]


def report(predictions: list[Prediction], *, events: int) -> dict[str, Any]:
    """The whole run's figures, then by queue and priority, and by week of the trace."""
    queued = [p for p in predictions if p.queued]
    start = min((p.arrived for p in predictions), default=None)
    found = {"events": events, **score(queued)}
    found["by_queue_priority"] = _grouped(queued, lambda p: f"{p.queue} priority {p.priority}")
    found["by_queue"] = _grouped(queued, lambda p: p.queue)
    if start is not None:
        found["by_week"] = _grouped(queued, lambda p: week_of(p.arrived, start))
    return found


def week_of(at: datetime, start: datetime) -> str:
    """`week N`: the Nth run of seven days from the trace's first day (1-based)."""
    first = start.replace(hour=0, minute=0, second=0, microsecond=0)
    return f"week {(at - first) // timedelta(days=7) + 1}"


def _grouped(predictions: Iterable[Prediction], key: Group) -> dict[str, dict[str, Any]]:
    groups: dict[str, list[Prediction]] = {}
    for p in predictions:
        groups.setdefault(key(p), []).append(p)
    return {name: score(members) for name, members in sorted(groups.items())}


def score(predictions: Iterable[Prediction]) -> dict[str, Any]:
    """RASE, MAE, range coverage and width, the yardsticks, and the abandoned callers."""
    served = [p for p in predictions if not p.abandoned and p.waited is not None]
    gone = [p for p in predictions if p.abandoned and p.waited is not None]

    def rase(predict: Callable[[Prediction], float]) -> float | None:
        if not served:
            return None
        total = sum((predict(p) - _waited(p)) ** 2 for p in served)
        return round(math.sqrt(total / len(served)), 1)

    inside = sum(1 for p in served if p.low <= _waited(p) <= p.high)
    return {
        "callers": len(served),
        "rase_s": rase(lambda p: p.point),
        "mae_s": round(sum(abs(p.point - _waited(p)) for p in served) / len(served), 1)
        if served
        else None,
        "in_range_rate": round(inside / len(served), 4) if served else None,
        "median_width_s": statistics.median(p.high - p.low for p in served) if served else None,
        "naive_rase_s": rase(lambda p: p.naive),
        "hol_rase_s": rase(lambda p: p.hol),
        "les_rase_s": rase(lambda p: p.les),
        "abandoned": _abandoned(gone),
    }


def _abandoned(gone: list[Prediction]) -> dict[str, Any]:
    n = len(gone)
    before = sum(1 for p in gone if _waited(p) < p.low)
    after = sum(1 for p in gone if _waited(p) > p.high)
    return {
        "callers": n,
        "before_range": round(before / n, 4) if n else None,
        "inside_range": round((n - before - after) / n, 4) if n else None,
        "after_range": round(after / n, 4) if n else None,
    }


def _waited(p: Prediction) -> float:
    return p.waited if p.waited is not None else 0.0
