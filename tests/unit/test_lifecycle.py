"""The handoff lifecycle as pure functions: the transition table, events, deadlines, cancels."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from itertools import count
from typing import Any

import pytest

from warmhandoff.streams.contract.models import DirectiveType, HandoffEvent, HandoffEventType, Turn
from warmhandoff.streams.core.conversation import ConversationState
from warmhandoff.streams.core.lifecycle import (
    CLOSED,
    MAX_EVENT_IDS,
    TRANSITIONS,
    HandoffStatus,
    Timeouts,
    apply_event,
    expire,
    is_cancel_request,
    next_deadline,
)
from warmhandoff.streams.core.pipeline import new_state, process_turn
from warmhandoff.streams.policy import load_policy

T0 = datetime(2026, 11, 25, 16, 0, tzinfo=UTC)
TIMEOUTS = Timeouts(delivery_seconds=30, accept_seconds=300, max_delivery_attempts=3)
S = HandoffStatus
E = HandoffEventType
_ids = count()

# The lifecycle written out independently of the code: (from, event) → to. Every pair not
# listed must be rejected. csat and replied are legal everywhere and never move the status.
EXPECTED: dict[tuple[str, str], str] = {
    ("requested", "delivered"): "delivered",
    ("requested", "queued"): "queued",
    ("requested", "offered"): "offered",
    ("requested", "accepted"): "accepted",
    ("delivered", "queued"): "queued",
    ("delivered", "offered"): "offered",
    ("delivered", "accepted"): "accepted",
    ("queued", "queued"): "queued",
    ("queued", "offered"): "offered",
    ("queued", "accepted"): "accepted",
    ("offered", "offered"): "offered",
    ("offered", "queued"): "queued",
    ("offered", "accepted"): "accepted",
    ("accepted", "accepted"): "accepted",
    ("accepted", "resolved"): "resolved",
    ("accepted", "handed_back"): "handed_back",
    ("accepted", "abandoned"): "abandoned",
    ("accepted", "transferred"): "queued",
}
for _waiting in ("requested", "delivered", "queued", "offered"):
    for _end in ("abandoned", "cancelled", "failed", "handed_back"):
        EXPECTED[(_waiting, _end)] = _end
    EXPECTED[(_waiting, "transferred")] = "queued"

ALL_PAIRS = [(s, e) for s in S for e in E if e not in (E.csat, E.replied)]


def handed_off(status: S = S.requested) -> ConversationState:
    """A conversation whose handoff was just requested, then put in `status`."""
    state = new_state("c-1")
    turn = Turn.model_validate(
        {"conversation_id": "c-1", "seq": 0, "ts": T0.isoformat(), "role": "customer",
         "text": "I want to talk to a human agent", "locale": "en-US"}
    )  # fmt: skip
    result = process_turn(state, turn, load_policy(), now=T0, timeouts=TIMEOUTS)
    assert result is not None and result.handoff is not None
    assert state.handoff_status == "requested"
    state.handoff_status = status.value
    if status in CLOSED:
        state.handoff_id = None
    return state


def event(state: ConversationState, kind: E, **extra: Any) -> HandoffEvent:
    data: dict[str, Any] = {
        "event_id": f"e-{next(_ids)}",
        "handoff_id": state.last_handoff_id,
        "conversation_id": "c-1",
        "type": kind.value,
        "ts": (T0 + timedelta(seconds=40)).isoformat(),
        "source": "crm:test",
        **extra,
    }
    return HandoffEvent.model_validate(data)


def test_the_transition_table_is_exactly_the_documented_lifecycle() -> None:
    table = {(s.value, e.value): t.value for s, row in TRANSITIONS.items() for e, t in row.items()}
    assert table == EXPECTED


@pytest.mark.parametrize(("status", "kind"), ALL_PAIRS, ids=lambda v: str(v))
def test_every_event_in_every_status_is_applied_or_rejected_as_the_table_says(
    status: S, kind: E
) -> None:
    state = handed_off(status)
    before = state.dumps()
    extra = {"queue": "billing"} if kind is E.transferred else {}
    out = apply_event(state, event(state, kind, **extra), T0 + timedelta(seconds=40), TIMEOUTS)
    expected = EXPECTED.get((status.value, kind.value))
    if expected is None:
        assert out.rejected in {"illegal_transition", "stale", "closed"}
        assert out.status is None and not out.directives and not out.events
        assert state.dumps() == before, "a rejected event must not change the state"
        return
    assert out.rejected is None
    assert out.status == S(expected) and state.handoff_status == expected
    kinds = [d.type for d in out.directives]
    if expected == "accepted" and status is not S.accepted:
        assert kinds == [DirectiveType.pause]
        assert state.handoff_id is not None and state.handoff_deadline is None
    elif S(expected) in CLOSED:
        assert kinds[-1] is DirectiveType.resume
        assert state.handoff_id is None and state.handoff_request is None
        if expected == "failed":
            assert kinds == [DirectiveType.status, DirectiveType.resume]
            assert "couldn't reach a specialist" in out.directives[0].message
        if expected == "abandoned":
            assert out.directives[0].message == ""  # the customer left: nothing is said
    elif kind is E.transferred:
        assert kinds == [DirectiveType.status]
        assert [r.routing.queue for r in out.requests] == ["billing"]
    else:
        assert kinds == []


def test_a_transfer_requeues_the_handoff_for_the_named_queue_and_tells_the_customer() -> None:
    state = handed_off(S.accepted)
    state.agent_id = "a-1"
    out = apply_event(state, event(state, E.transferred, queue="billing"), T0, TIMEOUTS)
    assert out.status is S.queued and state.handoff_status == "queued"
    assert state.agent_id is None and state.handoff_deadline is not None
    (request,) = out.requests
    assert request.handoff_id == state.handoff_id and request.routing.queue == "billing"
    (status,) = out.directives
    assert status.type is DirectiveType.status and status.queue == "billing"
    assert "billing team" in status.message
    accepted = apply_event(state, event(state, E.accepted, agent_id="a-2"), T0, TIMEOUTS)
    assert accepted.status is S.accepted and state.agent_id == "a-2"


def test_a_transfer_without_a_queue_is_rejected() -> None:
    state = handed_off(S.accepted)
    before = state.dumps()
    out = apply_event(state, event(state, E.transferred), T0, TIMEOUTS)
    assert out.rejected == "no_queue" and state.dumps() == before


def test_the_first_reply_is_recorded_without_moving_the_handoff() -> None:
    state = handed_off(S.accepted)
    out = apply_event(
        state, event(state, E.replied, reply="Hi, I can help", macro_id="greet"), T0, TIMEOUTS
    )
    assert out.rejected is None and out.status is S.accepted and not out.directives


def test_rejections_carry_a_reason() -> None:
    state = handed_off(S.queued)
    late = apply_event(state, event(state, E.delivered), T0, TIMEOUTS)
    assert late.rejected == "stale"  # the sink's ack after routing queued it
    jump = apply_event(state, event(state, E.resolved), T0, TIMEOUTS)
    assert jump.rejected == "illegal_transition"  # resolved without anyone accepting
    other = apply_event(state, event(state, E.accepted, handoff_id="h-old"), T0, TIMEOUTS)
    assert other.rejected == "not_current"
    wrong = apply_event(state, event(state, E.accepted, conversation_id="c-2"), T0, TIMEOUTS)
    assert wrong.rejected == "wrong_conversation"
    fresh = new_state("c-1")
    assert apply_event(fresh, event(state, E.delivered), T0, TIMEOUTS).rejected == "no_handoff"


@pytest.mark.parametrize("status", [S.delivered, S.queued, S.offered, S.accepted])
def test_one_sink_failing_does_not_fail_a_handoff_already_delivered(status: S) -> None:
    state = handed_off(status)
    before = state.dumps()
    out = apply_event(state, event(state, E.failed, source="sink:webhook"), T0, TIMEOUTS)
    assert out.rejected == "superseded" and state.dumps() == before
    # ...but the only sink failing before anything was delivered closes it, and says so.
    fresh = handed_off(S.requested)
    closed = apply_event(fresh, event(fresh, E.failed, source="sink:webhook"), T0, TIMEOUTS)
    assert closed.status is S.failed and closed.rejected is None


def test_events_are_deduplicated_by_id_within_a_bounded_memory() -> None:
    state = handed_off()
    delivered = event(state, E.delivered)
    assert apply_event(state, delivered, T0, TIMEOUTS).status is S.delivered
    assert apply_event(state, delivered, T0, TIMEOUTS).rejected == "duplicate"
    for _ in range(3 * MAX_EVENT_IDS):
        apply_event(state, event(state, E.queued), T0, TIMEOUTS)
    assert len(state.recent_event_ids) == MAX_EVENT_IDS


def test_csat_is_accepted_after_the_handoff_closed_and_changes_nothing() -> None:
    state = handed_off(S.accepted)
    apply_event(state, event(state, E.resolved), T0, TIMEOUTS)
    assert state.handoff_status == "resolved"
    out = apply_event(state, event(state, E.csat, csat=5), T0, TIMEOUTS)
    assert out.rejected is None and out.status is S.resolved and not out.directives
    assert apply_event(state, event(state, E.accepted), T0, TIMEOUTS).rejected == "closed"


def test_acceptance_measures_time_from_the_first_unmet_need() -> None:
    state = handed_off(S.queued)
    accepted = event(state, E.accepted, agent_id="a-7", ts=(T0 + timedelta(seconds=95)).isoformat())
    out = apply_event(state, accepted, T0 + timedelta(seconds=95), TIMEOUTS)
    assert out.time_to_accept == 95.0
    assert state.agent_id == "a-7"
    # A transfer between humans is not a second acceptance: no second pause.
    again = apply_event(state, event(state, E.accepted, agent_id="a-8"), T0, TIMEOUTS)
    assert again.directives == [] and again.time_to_accept is None and state.agent_id == "a-8"


def test_the_handback_resets_escalation_state_but_keeps_the_context() -> None:
    state = handed_off(S.accepted)
    state.frustration, state.sentiment_trend, state.repeat_count = 0.9, -0.8, 3
    state.fingerprints = [["refund", "where"]]
    transcript, entities, escalations = list(state.transcript), dict(state.entities), 1
    apply_event(state, event(state, E.resolved), T0, TIMEOUTS)
    assert (state.frustration, state.sentiment_trend, state.repeat_count) == (0.0, 0.0, 0)
    assert state.fingerprints == [] and state.first_unmet_need_ts is None
    assert state.handoff_id is None and state.last_handoff_id is not None
    assert state.transcript == transcript and state.entities == entities
    assert state.escalations == escalations


def test_sink_down_is_retried_then_failed_and_the_customer_is_told() -> None:
    state = handed_off()
    assert state.handoff_deadline == (T0 + timedelta(seconds=30)).isoformat()
    assert next_deadline(state) == state.handoff_deadline
    assert expire(state, T0 + timedelta(seconds=29), TIMEOUTS, {}) is None  # not due yet
    now = T0
    for attempt in (2, 3):
        now += timedelta(seconds=31)
        out = expire(state, now, TIMEOUTS, {})
        assert out is not None and out.deadline == "redelivered"
        assert [r.handoff_id for r in out.requests] == [state.handoff_id]
        assert state.delivery_attempts == attempt and not out.directives
    now += timedelta(seconds=31)
    out = expire(state, now, TIMEOUTS, {})
    assert out is not None and out.deadline == "failed" and out.status is S.failed
    assert [d.type for d in out.directives] == [DirectiveType.status, DirectiveType.resume]
    assert "couldn't reach a specialist" in out.directives[0].message
    assert [(e.type, e.reason) for e in out.events] == [(E.failed, "not_delivered")]
    assert state.handoff_id is None and next_deadline(state) is None
    # Its own failed event, read back from handoff.events, is recognised and not re-applied.
    assert apply_event(state, out.events[0], now, TIMEOUTS).rejected == "echo"


def test_a_delivered_handoff_nobody_accepts_is_rerouted_to_the_overflow_queue() -> None:
    state = handed_off()
    queue = state.handoff_request["routing"]["queue"] if state.handoff_request else None
    apply_event(state, event(state, E.delivered), T0 + timedelta(seconds=5), TIMEOUTS)
    due = T0 + timedelta(seconds=5 + 301)
    out = expire(state, due, TIMEOUTS, {queue: "overflow_desk"})  # type: ignore[dict-item]
    assert out is not None and out.deadline == "rerouted"
    assert [r.routing.queue for r in out.requests] == ["overflow_desk"]
    assert out.requests[0].handoff_id == state.handoff_id  # the same handoff, updated
    assert out.events[0].type is E.queued and out.events[0].reason == "rerouted_not_accepted"
    assert [d.type for d in out.directives] == [DirectiveType.status]
    assert "overflow desk" in out.directives[0].message


def test_without_an_overflow_the_customer_is_told_honestly_and_keeps_waiting() -> None:
    state = handed_off(S.queued)
    state.handoff_deadline = T0.isoformat()
    out = expire(state, T0, TIMEOUTS, {"general": None})
    assert out is not None and out.deadline == "still_waiting" and out.status is S.queued
    assert not out.requests and "still in line" in out.directives[0].message
    assert state.handoff_deadline == (T0 + timedelta(seconds=300)).isoformat()
    assert state.handoff_id is not None  # still waiting, still owned: no second escalation
    second = expire(state, T0 + timedelta(seconds=300), TIMEOUTS, {})
    assert second is not None
    assert second.directives[0].directive_id != out.directives[0].directive_id


def test_an_accepted_handoff_has_no_deadline() -> None:
    state = handed_off(S.queued)
    apply_event(state, event(state, E.accepted), T0, TIMEOUTS)
    assert expire(state, T0 + timedelta(days=1), TIMEOUTS, {}) is None


@pytest.mark.parametrize(
    "text",
    [
        "never mind, I don't need an agent anymore",
        "Nevermind, I figured it out",
        "please cancel the transfer",
        "I no longer need a human",
        "ya no necesito un agente, gracias",
        "olvídalo, no importa",
        "laissez tomber, je n'ai plus besoin d'un conseiller",
        "annulez la demande s'il vous plaît",
        "vergiss es, hat sich erledigt",
        "Ich brauche keinen Mitarbeiter mehr",
    ],
)
def test_cancel_requests_are_recognised(text: str) -> None:
    assert is_cancel_request(text)


@pytest.mark.parametrize(
    "text",
    [
        "don't cancel, I still want an agent",
        "I still want an agent",
        "please do not cancel the transfer",
        "never mind the refund, I want a human",
        "how much longer will the agent be?",
        "forget it, this is useless",
        "no canceles, todavía quiero un agente",
        "n'annulez pas, je veux toujours un conseiller",
        "bitte nicht abbrechen, ich brauche immer noch Hilfe",
        "I need a human now",
    ],
)
def test_wanting_the_human_is_not_a_cancel(text: str) -> None:
    assert not is_cancel_request(text)
