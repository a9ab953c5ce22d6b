"""A short run of `warmhandoff bench` so it keeps working; no timing is asserted."""

from __future__ import annotations

import json

import pytest

from .conftest import run_module

pytestmark = [pytest.mark.integration, pytest.mark.timeout(600)]


def test_bench_runs_every_phase_and_matches_replay() -> None:
    done = run_module("cli", "bench", "--seconds", "0.5", "--json", timeout=540)
    assert done.returncode == 0, done.stderr.decode()[-2000:]
    result = json.loads(done.stdout)
    for key in (
        "aiokafka_relay_turns_per_s",
        "faust_relay_turns_per_s",
        "pipeline_turns_per_s",
        "pipeline_vs_aiokafka",
        "pipeline_vs_faust",
        "cpu_s_per_1k_turns",
        "peak_rss_mb",
    ):
        assert result[key] > 0, key
    for kind in ("decision", "handoff"):
        assert set(result["latency_ms"][kind]) >= {"p50", "p99", "p999"}
    assert result["scale_out"]["two_workers_turns_per_s"] > 0
    # librdkafka's default partitioner misplaces most conversations among 8 partitions.
    assert result["misplaced"]["share_misplaced"] > 0.5
    assert result["misplaced"]["cpu_s_per_1k_turns_misplaced"] > 0
    # Correctness is not traded: every turn the worker decided equals replay's decision.
    check = result["outputs_match_replay"]
    assert check == {"compared": result["backlog_turns"], "differ": 0, "missing": 0}
    assert result["state_bytes_per_conversation"] > 0
