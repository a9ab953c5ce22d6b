"""`warmhandoff eval --embeddings`: how its rows are judged and shown (without the extra: the
figures are copied from the default rows, as the blend would report them)."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest

from tests.unit.test_eval_cli import data_dir  # noqa: F401  (the tiny data folder fixture)
from warmhandoff.streams.lab.eval.detectors import evaluate
from warmhandoff.streams.lab.eval.table import render_table
from warmhandoff.streams.lab.eval.targets import EMBEDDING_SIGNALS, judge


@pytest.fixture
def report(data_dir: Path) -> dict[str, Any]:  # noqa: F811
    return evaluate(data_dir)


def with_embeddings(report: dict[str, Any]) -> dict[str, Any]:
    """`report` as `--embeddings` extends it, its +emb figures copied from the default ones."""
    out = copy.deepcopy(report)
    for signal in ("human_request", "risk"):
        for part in ("detector", "classifier"):
            out[signal][f"{part}+emb"] = copy.deepcopy(out[signal][part])
    risk = out["risk"]["detector+emb"]["sets"]["banking77"]["plain"]
    risk["rate"], risk["tagged"] = 0.5, risk["n"] // 2  # so one +emb target is missed
    speed = out["speed"]
    speed["embeddings"] = {
        "turns": 3,
        "cpu_seconds": 0.03,
        "us_per_turn": 10_000.0,
        "turns_per_second": 100,
        "install": "embeddings extra, an evenly spaced sample of 3 turns",
        "default_us_per_turn": 150.0,
        "detectors": {"text_classifier+emb": {"calls": 3, "us_per_call": 9_000.0}},
    }
    out["targets_embeddings"] = judge(out, embeddings=True)
    out["targets_met_embeddings"] = all(c["met"] for c in out["targets_embeddings"])
    return out


def test_embedding_targets_judge_the_blended_detector_and_its_cost(report: dict[str, Any]) -> None:
    extended = with_embeddings(report)
    judged = extended["targets_embeddings"]
    assert {c["signal"] for c in judged} <= set(EMBEDDING_SIGNALS)
    speed = [c for c in judged if c["signal"] == "speed"]
    assert speed == [speed[0]] and speed[0]["value"] == 10_000.0 and not speed[0]["met"]
    plain = [c for c in judged if c["metric"] == "false_tag_rate" and c["set"] == "banking77"]
    assert plain[0]["value"] == 0.5 and not plain[0]["met"]
    # the default targets are untouched
    assert extended["targets"] == report["targets"]


def test_the_table_shows_embedding_rows_only_when_measured(report: dict[str, Any]) -> None:
    plain = render_table(report)
    assert "+emb" not in plain and "embeddings extra" not in plain
    table = render_table(with_embeddings(report))
    assert table.startswith(plain.split("\nExplicit request")[0])
    assert "nlupp (detector+emb)" in table and "banking77 (classifier+emb)" in table
    row = next(line for line in table.splitlines() if line.startswith("  all (+emb)"))
    assert "10,000.0" in row and "NO" in row and "same turns: 150.0" in row
    judged = with_embeddings(report)["targets_embeddings"]
    met = sum(c["met"] for c in judged)
    assert table.rstrip().endswith(f"{met} of {len(judged)} met")
