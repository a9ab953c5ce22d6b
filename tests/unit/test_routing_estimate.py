"""Wait estimates: Erlang C, the position model, calibration, and when to tell the customer."""

from __future__ import annotations

import math
import random
from datetime import timedelta

import pytest

from warmhandoff.streams.contract.models import WaitEstimate
from warmhandoff.streams.routing.estimate import (
    MIN_HANDLE_SAMPLES,
    Announcement,
    Calibration,
    Option,
    QueueStats,
    QueueView,
    erlang_c_wait,
    estimate_wait,
    naive_wait,
    ordinal,
    position_wait,
    update_message,
    update_reason,
)

from .routing_helpers import T0


def view(**fields: object) -> QueueView:
    base: dict[str, object] = {
        "ahead": 0,
        "slots": 2,
        "free": 0,
        "elapsed": (),
        "agents": 2,
        "priority": 3,
        "waited_seconds": 0.0,
        "points_per_minute": 1.0,
    }
    return QueueView(**{**base, **fields})  # type: ignore[arg-type]


def stats(*handle_times: float, prior: float = 300.0) -> QueueStats:
    found = QueueStats(handle_prior_seconds=prior)
    for seconds in handle_times:
        found.add_handle_time(seconds)
    return found


def erlang_c_closed_form(load: float, servers: int) -> float:
    top = load**servers / math.factorial(servers) * servers / (servers - load)
    return top / (sum(load**k / math.factorial(k) for k in range(servers)) + top)


@pytest.mark.parametrize(("load", "servers"), [(2.0, 3), (8.5, 10), (0.5, 1), (19.0, 25)])
def test_erlang_c_matches_the_textbook_formula(load: float, servers: int) -> None:
    handle = 180.0
    expected = erlang_c_closed_form(load, servers) * handle / (servers - load)
    assert erlang_c_wait(load / handle, handle, servers) == pytest.approx(expected, rel=1e-9)


def test_erlang_c_saturated_and_idle() -> None:
    assert erlang_c_wait(1.0, 10.0, 5) == math.inf  # 10 Erlangs on 5 agents
    assert erlang_c_wait(0.0, 10.0, 5) == 0.0
    assert erlang_c_wait(0.1, 10.0, 0) == math.inf


def test_naive_formula() -> None:
    assert naive_wait(3, 240.0, 4) == 180.0
    assert naive_wait(1, 240.0, 0) == math.inf


def test_free_slot_means_no_wait_and_position_adds_wait() -> None:
    s = [stats()]
    assert position_wait(view(free=1), s, T0) == 0.0
    waits = [position_wait(view(ahead=k), s, T0) for k in range(5)]
    assert waits == sorted(waits) and waits[0] > 0
    assert position_wait(view(slots=0), s, T0) == math.inf


def test_more_slots_shorter_wait() -> None:
    s = [stats()]
    assert position_wait(view(slots=4, ahead=3), s, T0) < position_wait(view(ahead=3), s, T0)


def test_chats_near_their_end_free_a_slot_sooner() -> None:
    measured = stats(*[300.0 + 10 * i for i in range(-10, 10)])
    assert measured.samples >= MIN_HANDLE_SAMPLES
    fresh = position_wait(view(elapsed=(5.0, 5.0)), [measured], T0)
    ending = position_wait(view(elapsed=(280.0, 290.0)), [measured], T0)
    assert ending < fresh / 3


def test_abandonment_ahead_shortens_the_wait() -> None:
    patient, leaving = stats(), stats()
    for i in range(20):
        leaving.add_outcome(T0, 60.0, abandoned=i % 2 == 0)
    assert leaving.abandon_rate() > 0
    assert position_wait(view(ahead=6), [leaving], T0) < position_wait(view(ahead=6), [patient], T0)


def test_more_urgent_arrivals_lengthen_a_low_priority_wait() -> None:
    busy = stats()
    for i in range(60):
        busy.add_arrival(T0 + timedelta(seconds=10 * i), priority=1)
    now = T0 + timedelta(minutes=10)
    low = position_wait(view(ahead=2, priority=4), [busy], now)
    top = position_wait(view(ahead=2, priority=1), [busy], now)
    assert low > top
    # the longer a customer has waited, the fewer can still jump ahead
    aged = position_wait(view(ahead=2, priority=4, waited_seconds=170.0), [busy], now)
    assert top <= aged < low


def test_the_earliest_option_wins() -> None:
    s = [stats()]
    now_only = estimate_wait([Option(0.0, view(slots=1, ahead=4), s)], Calibration(), T0)
    relaxed = estimate_wait(
        [Option(0.0, view(slots=1, ahead=4), s), Option(30.0, view(slots=10, free=3), s)],
        Calibration(),
        T0,
    )
    assert relaxed.model_seconds == pytest.approx(30.0)
    assert relaxed.model_seconds < now_only.model_seconds


def test_nobody_on_shift_gives_a_wide_honest_range() -> None:
    found = estimate_wait(
        [Option(0.0, view(slots=0), [stats()])], Calibration(), T0, unknown_seconds=1200
    )
    assert (found.wait.low_seconds, found.wait.high_seconds) == (300, 1200)


def test_calibration_covers_the_chosen_share() -> None:
    rng = random.Random(4)
    calibration = Calibration(coverage=0.86)
    for _ in range(400):
        predicted = rng.uniform(30, 300)
        calibration.observe(predicted, predicted * rng.lognormvariate(0.2, 0.5))
    inside = 0
    for _ in range(2000):
        predicted = rng.uniform(30, 300)
        actual = predicted * rng.lognormvariate(0.2, 0.5)
        _, low, high = calibration.bounds(predicted)
        inside += low <= actual <= high
    assert 0.82 <= inside / 2000 <= 0.90
    point, _, _ = calibration.bounds(100.0)
    assert point > 100.0  # debiased toward the measured median (actuals run 22% long)


def test_calibration_ignores_a_wait_it_could_not_predict() -> None:
    calibration = Calibration()
    calibration.observe(math.inf, 40.0)
    assert calibration.samples == 0


def wait(low: int, high: int) -> WaitEstimate:
    return WaitEstimate(low_seconds=low, high_seconds=high, method="queue-model")


@pytest.mark.parametrize(
    ("seconds_since", "new", "expected"),
    [
        (10, wait(120, 240), None),  # same range, said recently
        (10, wait(130, 250), None),  # moved 10 s: not material
        (10, wait(300, 480), "changed"),  # middle moved 210 s
        (10, wait(20, 60), "changed"),  # shorter, materially
        (60, wait(120, 240), "periodic"),
    ],
)
def test_when_to_update_the_customer(
    seconds_since: int, new: WaitEstimate, expected: str | None
) -> None:
    last = Announcement(T0, wait(120, 240), 3)
    now = T0 + timedelta(seconds=seconds_since)
    assert update_reason(last, new, 2, now) == expected
    assert update_reason(None, new, 2, now) == "first"


def test_status_messages_say_position_and_range() -> None:
    text = update_message(wait(180, 300), 2, "periodic")
    assert "you are 2nd in line" in text and "about 3 to 5 minutes" in text
    assert "now about 20 to 60 seconds" in update_message(wait(20, 60), 1, "changed")
    assert [ordinal(n) for n in (1, 2, 3, 4, 11, 12, 13, 21, 22, 101)] == [
        "1st", "2nd", "3rd", "4th", "11th", "12th", "13th", "21st", "22nd", "101st",
    ]  # fmt: skip
