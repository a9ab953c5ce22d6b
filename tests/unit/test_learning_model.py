"""The learned trigger's features, online model, JSON snapshot and pure scorer."""

from __future__ import annotations

import random
from datetime import UTC, datetime

import orjson
import pytest

from warmhandoff.streams.contract.models import Signals
from warmhandoff.streams.core.pipeline import new_state
from warmhandoff.streams.learning.features import FEATURES, features
from warmhandoff.streams.learning.model import LearnedModel
from warmhandoff.streams.learning.scorer import LinearScorer, SnapshotError

T0 = datetime(2026, 11, 25, 16, 0, tzinfo=UTC)


def signals(**extra: object) -> Signals:
    return Signals(conversation_id="c-1", seq=3, ts=T0, role="customer", **extra)  # type: ignore[arg-type]


def test_features_have_every_name_in_order_and_read_the_signals() -> None:
    state = new_state("c-1")
    state.customer_turns, state.failed_actions = 2, 14
    x = features(
        signals(
            sentiment=-0.7,
            human_request=True,
            risk=["fraud"],
            tier="Gold",
            channel="voice",
            lifetime_value=999.0,
        ),
        state,
    )
    assert tuple(x) == FEATURES
    assert all(isinstance(v, float) for v in x.values())
    assert x["sentiment"] == -0.7 and x["human_request"] == 1.0
    assert x["risk_fraud"] == 1.0 and x["risk_payments"] == 0.0
    assert x["premium_tier"] == 1.0 and x["channel_voice"] == 1.0 and x["channel_chat"] == 0.0
    assert x["lifetime_value_log"] == pytest.approx(3.0)
    assert x["confidence"] == 1.0 and x["confidence_missing"] == 1.0
    assert x["customer_turns"] == 2.0 and x["failed_actions"] == 10.0  # capped
    assert x["turn_index"] == 3.0


def _trained(n: int, seed: int = 1) -> tuple[LearnedModel, random.Random]:
    rng = random.Random(seed)
    model = LearnedModel()
    for _ in range(n):
        x = {"a": rng.random(), "b": rng.random(), "const": 1.0}
        model.learn(x, x["a"] + 0.3 * rng.random() > 0.7)
    return model, rng


def test_the_model_learns_a_separable_signal() -> None:
    model, _ = _trained(2000)
    assert model.score({"a": 0.95, "b": 0.5, "const": 1.0}) > 0.8
    assert model.score({"a": 0.05, "b": 0.5, "const": 1.0}) < 0.2


def test_a_restored_snapshot_scores_and_keeps_learning_exactly_like_the_original() -> None:
    model, rng = _trained(300)
    copy = LearnedModel.restore(model.snapshot())
    probe = {"a": 0.8, "b": 0.1, "const": 1.0}
    assert copy.score(probe) == model.score(probe)
    assert copy.examples == 300
    for _ in range(50):
        x = {"a": rng.random(), "b": rng.random(), "const": 1.0}
        model.learn(x, x["a"] > 0.5)
        copy.learn(x, x["a"] > 0.5)
    assert copy.snapshot() == model.snapshot()


def test_the_pure_scorer_matches_river_on_the_snapshot() -> None:
    model, rng = _trained(500)
    scorer = LinearScorer.from_snapshot(model.snapshot(version="v9"))
    assert scorer.examples == 500 and scorer.version == "v9"
    for _ in range(20):
        x = {"a": rng.random(), "b": rng.random(), "const": 1.0}
        assert scorer.score(x) == pytest.approx(model.score(x), abs=1e-12)


def test_a_snapshot_is_json_data_and_a_bad_one_is_refused() -> None:
    model, _ = _trained(10)
    doc = orjson.loads(model.snapshot())
    assert doc["format"] == "warmhandoff.learned.logreg/1"
    with pytest.raises(SnapshotError):
        LinearScorer.from_snapshot(b"\x80\x04pickle")
    doc["weights"]["a"] = "1; import os"
    with pytest.raises(SnapshotError):
        LearnedModel.restore(orjson.dumps(doc))
