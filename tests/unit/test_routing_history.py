"""The wait history: recent waits of answered customers by the state they joined in."""

from __future__ import annotations

from datetime import timedelta

from warmhandoff.streams.routing.blend import Blend
from warmhandoff.streams.routing.centre import Centre
from warmhandoff.streams.routing.estimate import (
    Calibration,
    Option,
    QueueStats,
    QueueView,
    estimate_wait,
)
from warmhandoff.streams.routing.history import AHEAD_BUCKETS, WaitHistory, ahead_bucket

from .routing_helpers import T0, presence, request, small_policy


def view(ahead: int, priority: int = 3) -> QueueView:
    return QueueView(
        ahead=ahead, slots=2, free=0, elapsed=(), agents=2, priority=priority,
        waited_seconds=0.0, points_per_minute=1.0,
    )  # fmt: skip


def test_buckets_of_customers_ahead() -> None:
    assert [ahead_bucket(n) for n in (0, 1, 2, 3, 4, 6, 7, 50)] == [0, 1, 2, 3, 4, 4, 5, 5]
    assert ahead_bucket(10**6) == len(AHEAD_BUCKETS)


def test_nothing_is_predicted_before_enough_customers_were_answered() -> None:
    history = WaitHistory(min_samples=3)
    here = WaitHistory.situation(2, 3)
    assert history.predict(here) is None
    history.observe(here, 40.0)
    history.observe(here, 60.0)
    assert history.predict(here) is None
    history.observe(here, 80.0)
    assert history.predict(here) == 60.0


def test_a_thin_bucket_falls_back_to_the_same_place_in_line_of_any_priority() -> None:
    history = WaitHistory(min_samples=3)
    for wait in (100.0, 110.0, 120.0):
        history.observe(WaitHistory.situation(1, 2), wait)
    # Priority 3 with one ahead has nobody yet: priority 2's waits at that place stand in.
    assert history.predict(WaitHistory.situation(1, 3)) == 110.0
    # A different place in line has nothing to fall back on.
    assert history.predict(WaitHistory.situation(5, 3)) is None
    for wait in (10.0, 20.0, 30.0):
        history.observe(WaitHistory.situation(1, 3), wait)
    assert history.predict(WaitHistory.situation(1, 3)) == 20.0  # its own bucket now


def test_only_the_last_waits_count_and_memory_stays_bounded() -> None:
    history = WaitHistory(size=4, min_samples=1)
    here = WaitHistory.situation(0, 3)
    for wait in (1000.0, 1000.0, 10.0, 20.0, 30.0, 40.0):
        history.observe(here, wait)
    assert history.predict(here) == 25.0
    history.observe((), 5000.0)  # an estimate with no recorded situation teaches nothing
    assert history.predict(here) == 25.0


def test_the_estimate_records_its_situation_and_reads_only_the_past() -> None:
    stats = QueueStats(handle_prior_seconds=120.0)
    history = WaitHistory(min_samples=2)
    option = Option(0.0, view(ahead=1, priority=2), [stats])
    before = estimate_wait([option], Calibration(), T0, blend=Blend(), history=history)
    assert before.situation == WaitHistory.situation(1, 2)
    assert before.features[-1] == before.features[1]  # no history yet: the model stands in
    for wait in (300.0, 500.0):
        history.observe(before.situation, wait)
    after = estimate_wait(
        [option], Calibration(), T0 + timedelta(seconds=1), blend=Blend(), history=history
    )
    assert after.features[-1] == 400.0
    assert before.features[-1] != 400.0  # what was announced earlier did not move


def test_the_centre_learns_the_history_only_from_answered_customers() -> None:
    centre = Centre.from_policy(small_policy())
    history = centre.histories["general"] = WaitHistory(min_samples=1)
    centre.presence(presence("a1"), T0)
    centre.arrive(request("h0"), T0)  # takes a1
    centre.arrive(request("h1"), T0 + timedelta(seconds=1))  # first in line
    centre.arrive(request("h2"), T0 + timedelta(seconds=2))  # one ahead
    first, second = WaitHistory.situation(0, 3), WaitHistory.situation(1, 3)
    assert centre.first["h1"].situation == first and centre.first["h2"].situation == second
    centre.abandon("h2", T0 + timedelta(seconds=30))  # gave up: a censored wait
    assert history.predict(first) is None and history.predict(second) is None
    step = centre.finish("a1", "general", 60.0, T0 + timedelta(seconds=61))
    assert [h.handoff_id for _, h, _ in step.answered] == ["h1"]
    assert history.predict(first) == 60.0 and history.predict(second) is None


def test_an_earned_blend_is_announced_as_it_is_and_calibration_sets_the_range() -> None:
    stats = QueueStats(handle_prior_seconds=120.0)
    option = Option(0.0, view(ahead=2), [stats])
    blend = Blend()
    for i in range(200):
        head = float(100 + i % 50)
        blend.observe((1.0, 100.0, head, 100.0, 100.0, 100.0), head)
    assert blend.earned()
    spread = Calibration()
    for i in range(200):
        spread.observe(100.0, 60.0 + i)  # waits from 60 to 259 s around a 100 s prediction
    found = estimate_wait([option], spread, T0, blend=blend, history=WaitHistory())
    # The least-squares blend already aims at the mean wait: the point is its figure.
    assert found.point_seconds == found.model_seconds
    assert found.wait.low_seconds <= found.point_seconds <= found.wait.high_seconds
    skewed = Calibration()
    for _ in range(200):
        skewed.observe(10.0, 300.0)  # every wait far above its prediction
    found = estimate_wait([option], skewed, T0, blend=blend, history=WaitHistory())
    assert found.point_seconds > 10 * found.model_seconds  # pulled into its own range
    assert found.wait.low_seconds <= found.point_seconds <= found.wait.high_seconds
