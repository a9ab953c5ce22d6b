"""The live router's pure core: records in, routing events, directives, health and alerts out."""

from __future__ import annotations

from datetime import timedelta

from warmhandoff.streams.contract.models import DirectiveType, HandoffEvent, HandoffEventType
from warmhandoff.streams.routing.centre import Centre
from warmhandoff.streams.services.router.service import SOURCE, Outputs, RouterCore

from .routing_helpers import T0, presence, request, small_policy


def core() -> RouterCore:
    return RouterCore(Centre.from_policy(small_policy()), health_every_seconds=30)


def event(kind: HandoffEventType, hid: str, at_seconds: float, **fields: object) -> HandoffEvent:
    return HandoffEvent(
        event_id=f"e-{hid}-{kind.value}-{at_seconds}",
        handoff_id=hid,
        conversation_id=f"c-{hid}",
        type=kind,
        ts=T0 + timedelta(seconds=at_seconds),
        source="crm",
        **fields,  # type: ignore[arg-type]
    )


def test_assignment_is_published_as_offered_and_waiters_hear_their_wait() -> None:
    router = core()
    router.presence(presence("a1"), T0)
    first = router.request(request("h1"), T0)
    assert [(e.type, e.agent_id, e.source) for e in first.events] == [
        (HandoffEventType.offered, "a1", SOURCE)
    ]
    assert first.directives == []
    second = router.request(request("h2"), T0 + timedelta(seconds=1))
    (status,) = second.directives
    assert status.type is DirectiveType.status and status.conversation_id == "c-h2"
    assert status.position == 1 and status.wait is not None
    assert "you are 1st in line" in status.message
    # A redelivered request publishes nothing.
    assert router.request(request("h2"), T0 + timedelta(seconds=2)).directives == []


def test_resolved_frees_the_agent_for_the_next_customer() -> None:
    router = core()
    router.presence(presence("a1"), T0)
    router.request(request("h1"), T0)
    router.request(request("h2"), T0 + timedelta(seconds=1))
    accepted = event(HandoffEventType.accepted, "h1", 2, agent_id="a1", queue="general")
    assert router.event(accepted, T0 + timedelta(seconds=2)).events == []
    done = router.event(event(HandoffEventType.resolved, "h1", 200), T0 + timedelta(seconds=200))
    assert [(e.handoff_id, e.type) for e in done.events] == [("h2", HandoffEventType.offered)]
    assert list(router.centre.stats["general"].handle_times) == [198.0]
    # A redelivered event, or the router's own event coming back, changes nothing.
    again = event(HandoffEventType.resolved, "h1", 200)
    assert router.event(again, T0 + timedelta(seconds=201)).events == []
    before = dict(router.centre.agents)
    assert router.event(done.events[0], T0 + timedelta(seconds=201)) == Outputs()
    assert router.centre.agents == before


def test_abandoned_leaves_the_queue() -> None:
    router = core()
    router.request(request("h1"), T0)
    router.event(event(HandoffEventType.abandoned, "h1", 30), T0 + timedelta(seconds=30))
    assert not router.centre.waiting


def test_ticks_publish_health_and_alerts_when_due() -> None:
    router = core()
    router.request(request("h1"), T0)
    out = router.tick(T0 + timedelta(seconds=25))
    assert {h.queue for h in out.health} == {"general", "billing", "vip", "sales"}
    assert [a.kind for a in out.alerts] == ["oldest_wait_past_sla"]
    assert router.tick(T0 + timedelta(seconds=40)).health == []  # not due yet
    assert router.tick(T0 + timedelta(seconds=56)).health != []


def test_out_of_hours_request_tells_the_customer_when_a_reply_comes() -> None:
    router = core()
    saturday = T0 + timedelta(days=3)
    out = router.request(
        request("s1", queue="sales", skills=("sales",), created=saturday), saturday
    )
    (status,) = out.directives
    assert "opened a ticket" in status.message and "Monday" in status.message


def test_health_sets_the_queue_gauges() -> None:
    from warmhandoff.streams.runtime.metrics import REGISTRY
    from warmhandoff.streams.services.router.service import observe_health

    router = core()
    router.request(request("h1"), T0)
    observe_health(router.tick(T0 + timedelta(seconds=25)).health)

    def gauge(name: str) -> float | None:
        return REGISTRY.get_sample_value(name, {"queue": "general"})

    assert gauge("warmhandoff_queue_waiting") == 1
    assert gauge("warmhandoff_queue_oldest_wait_seconds") == 25
    assert gauge("warmhandoff_queue_service_level_target_ratio") == 0.8


def test_a_long_wait_offers_the_right_channel_to_the_customer() -> None:
    router = core()
    # Nobody on shift for general: the wait is unknown (up to 20 minutes), over 300 s.
    out = router.request(request("h1"), T0)
    (offer,) = [d for d in out.directives if "call you back" in d.message]
    assert offer.handoff_id == "h1" and "longer than usual" in offer.message
    assert [c for c in router.centre.waiting.values() if c.offered]


def test_the_customer_taking_a_callback_leaves_the_queue() -> None:
    router = core()
    router.request(request("h1"), T0)  # nobody on shift: h1 waits
    assert "h1" in router.centre.waiting
    declined = event(HandoffEventType.queued, "h1", 5, reason="keep_waiting")
    router.event(declined, T0 + timedelta(seconds=5))
    assert "h1" in router.centre.waiting
    took = event(HandoffEventType.queued, "h1", 9, reason="callback")
    router.event(took, T0 + timedelta(seconds=9))
    assert "h1" not in router.centre.waiting
    # An ordinary re-queue (another queue) is not an answer to an offer.
    router.request(request("h2"), T0 + timedelta(seconds=10))
    moved = event(HandoffEventType.queued, "h2", 11, reason="rerouted_not_accepted")
    router.event(moved, T0 + timedelta(seconds=11))
    assert "h2" in router.centre.waiting
