"""The soak's bookkeeping and verdict, on plain values (streams/lab/bench/soak.py)."""

from __future__ import annotations

from typing import Any

import pytest

from warmhandoff.streams.contract.errors import WarmhandoffError
from warmhandoff.streams.contract.topics import load_topics
from warmhandoff.streams.lab.bench import soak
from warmhandoff.streams.lab.bench.soak import (
    Plan,
    Tally,
    capped_retention,
    lag_slope_per_min,
    throughput_ratio,
    verdict,
    window_rows,
)


def row(
    i: int, dps: float, lag: int, rss: float = 200.0, p99: float = 20.0, offered: float = 100
) -> dict[str, Any]:
    return {
        "index": i,
        "start_s": 30.0 * i,
        "duration_s": 30.0,
        "offered": round(offered * 30),
        "decided": round(dps * 30),
        "decisions_per_s": dps,
        "lag": lag,
        "latency_ms": {"p50": p99 / 4, "p99": p99},
        "worker_rss_mb": rss,
    }


def test_throughput_ratio_compares_last_third_with_first() -> None:
    rows = [row(i, dps, 0) for i, dps in enumerate([100, 100, 90, 90, 80, 80])]
    assert throughput_ratio(rows) == 0.8
    assert throughput_ratio(rows[:1]) is None


def test_lag_slope_is_turns_per_minute() -> None:
    rows = [row(i, 100, lag=10 + 5 * i) for i in range(4)]  # +5 every 30 s
    assert lag_slope_per_min(rows) == 10.0
    assert lag_slope_per_min(rows[:1]) is None


def test_verdict_judges_the_windows_after_warm_up() -> None:
    rows = [row(0, 50, 3, rss=100.0)] + [row(i, 100, 3, rss=105.0) for i in range(1, 7)]
    got = verdict(rows, offered_rate=100, final_lag=0, drain_s=0.2)
    assert got["throughput_ratio_last_first"] == 1.0  # the slow warm-up window is not judged
    assert got["rss_growth"] == 0.05
    assert got["window_misses"] == []
    assert got["met"] == {
        "windows": True,
        "throughput": True,
        "lag": True,
        "drain": True,
        "rss": True,
        "all": True,
    }


def test_verdict_flags_decay_growth_and_no_drain() -> None:
    rows = [row(i, 100 - 10 * i, lag=200 * i, rss=100 + 10 * i) for i in range(7)]
    got = verdict(rows, offered_rate=10, final_lag=5, drain_s=None)
    assert got["met"] == {
        "windows": False,
        "throughput": False,
        "lag": False,
        "drain": False,
        "rss": False,
        "all": False,
    }


def test_each_judged_window_must_keep_up_answer_fast_and_hold_the_lag() -> None:
    rows = [
        row(0, 10, 5000, p99=9000.0),  # warm-up: not judged
        row(1, 100, 3),
        row(2, 90, 3),  # decided 90% of what it offered
        row(3, 100, 3, p99=501.0),
        row(4, 100, 100),  # one second of offer behind
        row(5, 100, 3),
    ]
    got = verdict(rows, offered_rate=100, final_lag=0, drain_s=0.1)
    assert got["window_misses"] == [
        {"index": 2, "missed": ["throughput"]},
        {"index": 3, "missed": ["latency"]},
        {"index": 4, "missed": ["lag"]},
    ]
    assert got["met"]["windows"] is False and got["met"]["all"] is False
    empty = [row(0, 100, 3), {**row(1, 0, 3), "latency_ms": None}]
    assert verdict(empty, offered_rate=100, final_lag=0, drain_s=0.1)["window_misses"] == [
        {"index": 1, "missed": ["throughput", "latency"]}
    ]


def test_tally_buckets_by_record_time_and_counts_the_lag() -> None:
    tally = Tally()
    first = tally.open(0.0)
    tally.add(500.0, 10.0)
    first.offered, first.end_ms = 3, 1000.0
    second = tally.open(1000.0)
    tally.add(900.0, 20.0)  # read late, decided in the first window
    tally.add(1500.0, 30.0)
    second.offered, second.end_ms = 2, 2000.0
    tally.expect(5)
    tally.add(2100.0, 5.0)  # after the offer stopped
    assert not tally.done.is_set()
    tally.add(2200.0, 5.0)
    assert tally.done.is_set()
    rows = window_rows(tally.windows)
    assert [(r["offered"], r["decided"], r["lag"]) for r in rows] == [(3, 2, 1), (2, 1, 2)]
    assert rows[1]["decisions_per_s"] == 1.0
    assert rows[0]["latency_ms"] == {"p50": 10.0, "p99": 20.0}


@pytest.mark.parametrize(
    "plan",
    [
        Plan(0, None, 0.6, 30, 1),
        Plan(1, -5, 0.6, 30, 1),
        Plan(1, None, 1.5, 30, 1),
        Plan(1, None, 0.6, 30, 1, warmup=2),  # both windows would be warm-up
        Plan(1, None, 0.6, 30, 1, retention_minutes=0),
    ],
)
def test_plan_refuses_what_cannot_soak(plan: Plan) -> None:
    with pytest.raises(WarmhandoffError):
        plan.check()


def test_capped_retention_shortens_only_what_deletes_and_keeps_shorter_ones() -> None:
    topics = load_topics(prefix="soak-x.")
    capped = capped_retention(topics, 5)
    assert capped_retention(topics, None) is topics
    assert capped.keys() == topics.keys() and capped.prefix == "soak-x."
    seen_delete = seen_compact = False
    for key, spec in topics.items():
        after = capped.spec(key)
        assert after.name == spec.name
        if spec.deletes:
            seen_delete = True
            longer = spec.retention_ms is None or spec.retention_ms < 0
            longer = longer or spec.retention_ms > 300_000
            assert after.retention_ms == (300_000 if longer else spec.retention_ms)
        else:
            seen_compact = True
            assert after == spec  # compacted topics keep every key: nothing to cap
    assert seen_delete and seen_compact


def test_pinning_gives_the_worker_the_last_core_and_the_rest_the_others(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(soak, "available_cores", lambda: [0, 1, 2, 3])
    pinning = soak.Pinning.split()
    assert pinning.describe() == {"worker": [3], "others": [0, 1, 2]}
    monkeypatch.setattr(soak, "available_cores", lambda: [5])
    with pytest.raises(WarmhandoffError, match="--pin-worker needs at least 2 cores"):
        Plan(1, None, 0.6, 30, 1, pin_worker=True).check()
