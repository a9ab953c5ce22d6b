"""The contact centre driven event by event with a fake clock; queue health and alerts."""

from __future__ import annotations

from datetime import datetime, timedelta

from warmhandoff.streams.contract.models import PresenceState
from warmhandoff.streams.routing.centre import Centre
from warmhandoff.streams.routing.health import OLDEST_WAIT, SERVICE_LEVEL, alerts
from warmhandoff.streams.routing.router import ChangeKind

from .routing_helpers import T0, presence, request, small_policy


class Clock:
    """A fake clock the test moves by hand."""

    def __init__(self, start: datetime) -> None:
        self.now = start

    def advance(self, seconds: float) -> datetime:
        self.now += timedelta(seconds=seconds)
        return self.now


def centre() -> Centre:
    return Centre.from_policy(small_policy())


def test_a_free_agent_answers_at_once_and_nothing_is_announced() -> None:
    c, clock = centre(), Clock(T0)
    c.presence(presence("a1"), clock.now)
    step = c.arrive(request("h1"), clock.now)
    assert [ch.kind for ch in step.changes] == [ChangeKind.queued, ChangeKind.assigned]
    ((assignment, handoff, first),) = step.answered
    assert (assignment.agent_id, handoff.handoff_id, first) == ("a1", "h1", None)
    assert c.agents["a1"].active == 1 and not c.waiting


def test_estimates_follow_the_queue_as_it_changes() -> None:
    c, clock = centre(), Clock(T0)
    c.presence(presence("a1"), clock.now)
    c.arrive(request("h0"), clock.now)  # takes a1
    first = c.arrive(request("h1"), clock.advance(1))
    second = c.arrive(request("h2"), clock.advance(1))
    (u1,) = [u for u in first.updates if u.handoff_id == "h1"]
    (u2,) = [u for u in second.updates if u.handoff_id == "h2"]
    assert (u1.reason, u1.position, u2.position) == ("first", 1, 2)
    assert u2.estimate.point_seconds > u1.estimate.point_seconds
    # The customer ahead gives up: h2 moves up and hears about it when it is material.
    before = c.estimate(c.waiting["h2"], clock.now).point_seconds
    c.abandon("h1", clock.advance(5))
    assert c.view(c.waiting["h2"], clock.now).ahead == 0
    assert c.estimate(c.waiting["h2"], clock.now).point_seconds < before
    # Two agents join: h2 is answered; the announced estimate is kept with the answer.
    step = c.presence(presence("a2"), clock.advance(5))
    ((_, handoff, announced),) = step.answered
    assert handoff.handoff_id == "h2" and announced is not None
    assert announced.point_seconds == u2.estimate.point_seconds


def test_periodic_update_while_nothing_changes() -> None:
    c, clock = centre(), Clock(T0)
    c.presence(presence("a1"), clock.now)
    c.arrive(request("h0"), clock.now)
    c.arrive(request("h1"), clock.advance(1))
    assert c.tick(clock.advance(30)).updates == []
    (update,) = c.tick(clock.advance(31)).updates
    assert (update.handoff_id, update.reason) == ("h1", "periodic")


def test_a_finished_chat_frees_the_agent_and_measures_the_handle_time() -> None:
    c, clock = centre(), Clock(T0)
    c.presence(presence("a1"), clock.now)
    c.arrive(request("h0"), clock.now)
    c.arrive(request("h1"), clock.advance(10))
    step = c.finish("a1", "general", 250.0, clock.advance(240))
    assert [a.handoff_id for a, _, _ in step.answered] == ["h1"]
    assert list(c.stats["general"].handle_times) == [250.0]


def test_stale_presence_is_ignored_and_a_redelivered_handoff_changes_nothing() -> None:
    c, clock = centre(), Clock(T0)
    c.presence(presence("a1", ts=T0 + timedelta(seconds=5)), clock.now)
    c.presence(presence("a1", ts=T0, state=PresenceState.offline), clock.now)
    assert c.agents["a1"].state is PresenceState.available
    c.presence(presence("a1", ts=T0 + timedelta(seconds=6), state=PresenceState.away), clock.now)
    c.arrive(request("h1"), clock.now)
    assert c.arrive(request("h1"), clock.advance(1)).changes == []
    assert list(c.waiting) == ["h1"]


def test_a_taken_offer_leaves_the_queue_and_is_recorded() -> None:
    c, clock = centre(), Clock(T0)
    c.arrive(request("h1"), clock.now)
    step = c.answer_offer("h1", True, clock.advance(5))
    assert (step.changes[0].kind, step.changes[0].target) == (
        ChangeKind.accepted_offer,
        "right_channel",
    )
    assert not c.waiting
    c.arrive(request("h2"), clock.now)
    declined = c.answer_offer("h2", False, clock.advance(5))
    assert declined.changes[0].kind is ChangeKind.declined_offer and "h2" in c.waiting


def test_health_counts_the_sla_from_the_first_unmet_need() -> None:
    c, clock = centre(), Clock(T0)
    c.presence(presence("a1"), clock.now)
    # Answered at once, but the need was 30 s old: outside the 20 s SLA.
    c.arrive(request("late", first_unmet=T0 - timedelta(seconds=30)), clock.now)
    c.arrive(request("h2"), clock.now)
    c.abandon("h2", clock.advance(12))
    c.arrive(request("h3", created=clock.now), clock.now)
    (general,) = [h for h in c.health(clock.advance(20)) if h.queue == "general"]
    assert general.answered == 1 and general.abandoned == 1
    assert general.service_level == 0.0 and general.abandon_rate == 0.5
    assert general.asa_seconds == 0.0
    assert general.waiting == 1 and general.oldest_wait_seconds == 20.0
    assert general.agents_eligible == 1 and general.agents_available == 0
    assert general.sla_target == 0.8 and general.sla_seconds == 20


def test_alerts_fire_on_entering_and_leaving_the_state() -> None:
    c, clock = centre(), Clock(T0)
    c.arrive(request("h1"), clock.now)
    raised, active = alerts(c.health(clock.advance(21)), frozenset(), clock.now, min_outcomes=1)
    assert [(a.queue, a.kind, a.severity) for a in raised] == [("general", OLDEST_WAIT, "critical")]
    assert "past the SLA of 20 s" in raised[0].message
    again, active = alerts(c.health(clock.advance(5)), active, clock.now, min_outcomes=1)
    assert again == []
    c.abandon("h1", clock.advance(1))
    cleared, active = alerts(c.health(clock.now), active, clock.now, min_outcomes=1)
    kinds = sorted(a.kind for a in cleared)
    assert kinds == [f"{OLDEST_WAIT}_cleared", SERVICE_LEVEL]
    assert (("general", SERVICE_LEVEL)) in active
    assert len({a.alert_id for a in raised + cleared}) == len(raised + cleared)


def test_a_queue_the_policy_does_not_declare_is_a_routing_error() -> None:
    import pytest

    from warmhandoff.streams.routing.exceptions import UnknownQueue

    with pytest.raises(UnknownQueue, match="unknown queue 'nowhere'"):
        centre().arrive(request("h1", queue="nowhere"), T0)
