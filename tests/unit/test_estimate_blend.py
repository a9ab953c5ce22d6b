"""The blend of the queue model with the measured predictors, and the delay-history inputs."""

from __future__ import annotations

import random
from datetime import timedelta

from warmhandoff.streams.routing.blend import Blend
from warmhandoff.streams.routing.estimate import (
    MIN_CALIBRATION,
    Calibration,
    Option,
    QueueStats,
    QueueView,
    estimate_wait,
    predictors,
)

from .routing_helpers import T0


def features(model: float, head: float, seed: float = 0.0) -> tuple[float, ...]:
    return (1.0, model, head, seed, model)


def test_blend_starts_as_the_model_and_keeps_it_when_the_model_is_right() -> None:
    blend = Blend()
    assert blend.predict(features(80.0, 10.0)) == 80.0
    rng = random.Random(3)
    for _ in range(200):
        model = rng.uniform(10, 200)
        blend.observe(features(model, rng.uniform(0, 300)), model)
    assert not blend.earned()  # it cannot beat an exact model
    assert abs(blend.predict(features(120.0, 0.0)) - 120.0) < 5.0


def test_blend_leans_on_a_predictor_that_tracks_the_wait() -> None:
    blend = Blend()
    rng = random.Random(5)
    for _ in range(300):
        wait = rng.uniform(10, 200)
        blend.observe(features(rng.uniform(10, 200), wait + rng.gauss(0, 5)), wait)
    assert blend.earned()
    # Shrunk toward the model, but far nearer the predictor that tracks the wait.
    assert 100.0 < blend.predict(features(20.0, 150.0)) <= 160.0


def test_estimate_uses_the_blend_only_once_it_earned_it() -> None:
    stats = QueueStats(handle_prior_seconds=120.0)
    view = QueueView(
        ahead=2, slots=1, free=0, elapsed=(), agents=1, priority=3,
        waited_seconds=0.0, points_per_minute=1.0, head_seconds=400.0,
    )  # fmt: skip
    option = Option(0.0, view, [stats])
    fresh = estimate_wait([option], Calibration(), T0, blend=Blend())
    assert fresh.model_seconds == fresh.features[1]  # the queue model alone
    learned = Blend()
    for i in range(MIN_CALIBRATION * 4):
        head = 50.0 + i % 40 * 10
        learned.observe((1.0, 100.0, head, 100.0, 100.0), head)
    found = estimate_wait([option], Calibration(), T0, blend=learned)
    assert found.model_seconds > fresh.model_seconds + 100  # follows head of line


def test_predictors_read_the_queue_as_the_router_knows_it() -> None:
    stats = QueueStats(handle_prior_seconds=120.0)
    for minute in range(10):
        stats.add_handle_time(100.0, T0 + timedelta(minutes=minute))
    stats.add_outcome(T0, 0.0, abandoned=False)  # answered on arrival: no queue wait
    stats.add_outcome(T0, 42.0, abandoned=False)
    stats.add_outcome(T0, 0.0, abandoned=False)
    view = QueueView(
        ahead=1, slots=2, free=0, elapsed=(), agents=2, priority=3,
        waited_seconds=0.0, points_per_minute=1.0, head_seconds=30.0,
    )  # fmt: skip
    now = T0 + timedelta(minutes=10)
    found = predictors(90.0, Option(0.0, view, [stats]), now)
    # 10 completions over the 10 minutes since the first: one a minute; 2 to go: 120 s.
    assert found == (1.0, 90.0, 30.0, 42.0, 120.0)
