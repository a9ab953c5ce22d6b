"""A short run of `warmhandoff soak` so it keeps working: the report's shape, and every
offered turn decided once the offer stops. No timing is asserted."""

from __future__ import annotations

import json

import pytest

from .conftest import run_module

pytestmark = [pytest.mark.integration, pytest.mark.timeout(600)]

WINDOW_KEYS = {
    "index",
    "start_s",
    "duration_s",
    "offered",
    "decided",
    "decisions_per_s",
    "lag",
    "latency_ms",
    "worker_rss_mb",
    "worker_cpu_s",
    "sink_rss_mb",
    "sink_cpu_s",
    "load_cpu_s",
    "broker_rss_mb",
    "broker_cpu_s",
    "broker_disk_mb",
}


def test_soak_reports_every_window_and_drains() -> None:
    # Without --bootstrap the soak starts an embedded broker of its own.
    args = ["soak", "--minutes", "0.2", "--rate", "30", "--window", "3", "--json"]
    done = run_module("cli", *args, timeout=540)
    assert done.returncode == 0, done.stderr.decode()[-2000:]
    report = json.loads(done.stdout)
    assert report["offered_rate"] == 30
    assert report["broker"] == "embedded" and report["retention_minutes"] is None
    assert report["sustained_rate"] is None and report["fraction"] is None
    windows = report["windows"]
    assert [w["index"] for w in windows] == [0, 1, 2, 3]  # 12 s in 3 s windows
    for w in windows:
        assert set(w) == WINDOW_KEYS
        assert w["offered"] == 90
        assert w["worker_rss_mb"] > 0 and w["sink_rss_mb"] > 0 and w["broker_rss_mb"] > 0
        assert w["broker_disk_mb"] is None  # the embedded broker keeps records in memory
    assert report["offered"] == sum(w["offered"] for w in windows) == 360
    # Every offered turn got exactly one decision, and the lag drained to zero.
    assert report["decided"] == report["offered"]
    assert report["final_lag"] == 0 and report["drain_s"] is not None
    assert report["met"]["drain"] is True
    assert set(report["met"]) == {"windows", "throughput", "lag", "drain", "rss", "all"}
    for key in ("throughput_ratio_last_first", "lag_slope_per_min", "rss_growth"):
        assert isinstance(report[key], float), key
    assert report["worker_peak_rss_mb"] > 0
    # The simulated desk reports what it published and what it still held open.
    assert "open" in report["desk"] and all(n >= 0 for n in report["desk"].values())
