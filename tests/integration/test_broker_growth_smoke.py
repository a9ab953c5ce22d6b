"""A short run of the embedded broker's growth probe so it keeps working.
It checks the report, not the figures: a benchmark is not a test."""

from __future__ import annotations

import json

import pytest

from .conftest import run_module

pytestmark = [pytest.mark.integration, pytest.mark.timeout(300)]


def test_the_probe_reports_a_round_trip_per_step_of_records_held() -> None:
    args = ["--steps", "0,40", "--batch", "5", "--probes", "3", "--json"]
    done = run_module("lab.bench.broker_growth", *args, timeout=240)
    assert done.returncode == 0, done.stderr.decode()[-2000:]
    rows = json.loads(done.stdout)["steps"]
    assert [row["records_held"] for row in rows] == [0, 40]
    assert all(row["round_trip_ms"] > 0 for row in rows)


def test_bad_steps_are_refused_with_the_reason() -> None:
    done = run_module("lab.bench.broker_growth", "--steps", "ten", timeout=60)
    assert done.returncode == 2
    assert b"--steps takes whole numbers" in done.stderr
