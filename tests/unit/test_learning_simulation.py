"""`simulate --learning`: deterministic, honest about what the model sees, and the proof."""

from __future__ import annotations

import pytest

from warmhandoff.streams.cli import main
from warmhandoff.streams.lab.simulation.learning import (
    LearningSimConfig,
    auc,
    precision_recall,
    run_learning_simulation,
)
from warmhandoff.streams.policy import load_policy
from warmhandoff.streams.policy.model import Policy


@pytest.fixture(scope="module")
def policy() -> Policy:
    return load_policy()


def test_auc_counts_ties_as_half_and_needs_both_classes() -> None:
    assert auc([True, False], [0.9, 0.1]) == 1.0
    assert auc([True, False], [0.1, 0.9]) == 0.0
    assert auc([True, False, True, False], [0.5, 0.5, 0.5, 0.5]) == 0.5
    assert auc([True, False, False], [0.8, 0.8, 0.1]) == 0.75
    assert auc([True, True], [0.1, 0.2]) is None


def test_precision_and_recall() -> None:
    assert precision_recall([True, True, False, False], [True, False, True, False]) == (0.5, 0.5)
    assert precision_recall([False], [False]) == (0.0, 0.0)


def test_same_seed_same_report_and_another_seed_another(policy: Policy) -> None:
    first = run_learning_simulation(policy, LearningSimConfig(conversations=240, seed=3))
    again = run_learning_simulation(policy, LearningSimConfig(conversations=240, seed=3))
    other = run_learning_simulation(policy, LearningSimConfig(conversations=240, seed=4))
    assert first == again
    assert first != other
    for key in ("learned_auc_first", "learned_auc_last", "static_auc"):
        assert first[key] is None or 0.0 <= first[key] <= 1.0


def test_the_learned_trigger_beats_the_static_rules_by_the_last_third(policy: Policy) -> None:
    # Held on seeds 1, 2, 3, 4, 5, 7, 11 and 42 (docs/learning.md): AUC margin
    # 0.07-0.12 and recall up on all eight; precision rose on seven of them, so only the
    # default seed's precision is asserted here.
    report = run_learning_simulation(policy, LearningSimConfig())
    assert report["learned_auc_last"] >= report["static_auc"] + 0.05
    assert report["learned_auc_last"] > report["learned_auc_first"]
    assert report["learned_recall"] >= report["static_recall"]
    assert report["learned_precision"] > report["static_precision"]


def test_the_cli_prints_the_report_keys(capsys: pytest.CaptureFixture[str]) -> None:
    import orjson

    assert main(["simulate", "--learning", "--json", "--conversations", "150", "--seed", "2"]) == 0
    report = orjson.loads(capsys.readouterr().out)
    for key in (
        "learned_auc_first",
        "learned_auc_last",
        "static_auc",
        "static_precision",
        "static_recall",
        "learned_precision",
        "learned_recall",
    ):
        assert key in report
    assert report["conversations"] == 150
