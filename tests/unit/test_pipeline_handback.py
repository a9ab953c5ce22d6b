"""Ownership and handback in the pure pipeline: no second escalation while a human owns the
conversation, a fresh start after the handback, and the customer's cancel."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from warmhandoff.streams.contract.models import (
    Action,
    DirectiveType,
    HandoffEvent,
    HandoffEventType,
    Turn,
)
from warmhandoff.streams.core.conversation import ConversationState
from warmhandoff.streams.core.lifecycle import DEFAULT_TIMEOUTS, apply_event
from warmhandoff.streams.core.pipeline import StepResult, new_state, process_turn
from warmhandoff.streams.core.transfer import handoff_id
from warmhandoff.streams.policy import load_policy
from warmhandoff.streams.policy.model import Policy

T0 = datetime(2026, 11, 25, 16, 0, tzinfo=UTC)
ANGRY = [
    "my parcel never arrived",
    "this is not working, it still hasn't arrived",
    "that's wrong, the tracking is useless, I'm annoyed",
    "this is ridiculous, still nothing",
    "I'm really fed up with this",
]
# Mildly negative: escalates on the old context (frustration 1.0), not on a fresh start.
ANGRY_ISH = "still no parcel, this is slow"


@pytest.fixture(scope="module")
def policy() -> Policy:
    return load_policy()


def turn(seq: int, text: str, role: str = "customer") -> Turn:
    return Turn.model_validate(
        {"conversation_id": "c-1", "seq": seq, "ts": (T0 + timedelta(seconds=10 * seq)).isoformat(),
         "role": role, "text": text, "locale": "en-US", "channel": "chat"}
    )  # fmt: skip


def step(state: ConversationState, policy: Policy, seq: int, text: str) -> StepResult:
    result = process_turn(state, turn(seq, text), policy, now=T0 + timedelta(seconds=10 * seq))
    assert result is not None and result.decision is not None
    return result


def lifecycle(state: ConversationState, kind: HandoffEventType, n: int) -> list[DirectiveType]:
    event = HandoffEvent(
        event_id=f"e-{n}",
        handoff_id=state.last_handoff_id or "",
        conversation_id="c-1",
        type=kind,
        ts=T0 + timedelta(minutes=n),
        source="crm:test",
        agent_id="a-1",
    )
    out = apply_event(state, event, T0 + timedelta(minutes=n), DEFAULT_TIMEOUTS)
    assert out.rejected is None, out.rejected
    return [d.type for d in out.directives]


def escalate(state: ConversationState, policy: Policy) -> int:
    """Angry turns until the first handoff; returns the next seq."""
    for seq, text in enumerate(ANGRY):
        result = step(state, policy, seq, text)
        # One complaint is not yet a dissatisfied conversation; the second one makes it so.
        if seq == 2:
            assert result.handoff is not None and result.decision.action is Action.escalate
        elif seq > 2:
            assert result.handoff is None and result.decision.action is Action.owned
    return len(ANGRY)


def test_no_second_escalation_while_owned_and_a_fresh_start_after_the_handback(
    policy: Policy,
) -> None:
    state = new_state("c-1")
    seq = escalate(state, policy)
    assert state.frustration == pytest.approx(1.0)
    assert state.handoff_status == "requested" and state.handoff_request is not None
    assert lifecycle(state, HandoffEventType.delivered, 1) == []
    assert lifecycle(state, HandoffEventType.accepted, 2) == [DirectiveType.pause]
    # While the human owns it, even a demand for a human escalates nothing.
    owned = step(state, policy, seq, "I want a manager right now, this is unacceptable")
    assert owned.decision.action is Action.owned and owned.handoff is None
    # What the old context would have done with a mildly negative turn: escalate again.
    stale = ConversationState.loads(state.dumps())
    stale.handoff_id = None
    assert step(stale, policy, seq + 1, ANGRY_ISH).decision.action is Action.escalate
    # Resolved: resume, and the same turn on the reset state escalates nothing.
    assert lifecycle(state, HandoffEventType.resolved, 3) == [DirectiveType.resume]
    assert state.handoff_id is None and state.escalations == 1
    after = step(state, policy, seq + 1, ANGRY_ISH)
    assert after.decision.action is Action.none and after.handoff is None
    # A genuinely new request is a new handoff with a new id.
    again = step(state, policy, seq + 2, "I need to talk to a human agent please")
    assert again.handoff is not None
    assert again.handoff.handoff_id == handoff_id("c-1", 2) != handoff_id("c-1", 1)
    # The transcript survived the handback: the new human sees the whole conversation.
    assert again.handoff.bundle.transcript[0].seq <= 1


def test_the_customer_cancels_a_handoff_before_a_human_accepts_it(policy: Policy) -> None:
    state = new_state("c-1")
    first = step(state, policy, 0, "I want to talk to a human agent")
    assert first.handoff is not None
    hid = first.handoff.handoff_id
    result = step(state, policy, 1, "never mind, I don't need an agent anymore")
    assert result.decision.action is Action.none and result.decision.handoff_id == hid
    assert [d.type for d in result.directives] == [DirectiveType.resume]
    assert "cancelled the transfer" in result.directives[0].message
    assert [(e.type, e.handoff_id, e.reason) for e in result.events] == [
        (HandoffEventType.cancelled, hid, "customer_cancelled")
    ]
    assert state.handoff_id is None and state.handoff_status == "cancelled"
    # A desk's late `accepted` for the withdrawn handoff is not applied.
    event = HandoffEvent(
        event_id="late", handoff_id=hid, conversation_id="c-1",
        type=HandoffEventType.accepted, ts=T0, source="crm:test",
    )  # fmt: skip
    assert apply_event(state, event, T0, DEFAULT_TIMEOUTS).rejected == "closed"


def test_no_cancel_once_a_human_accepted_and_no_cancel_when_they_still_want_one(
    policy: Policy,
) -> None:
    state = new_state("c-1")
    step(state, policy, 0, "I want to talk to a human agent")
    keep = step(state, policy, 1, "don't cancel, I still want an agent")
    assert not keep.events and not keep.directives and state.handoff_status == "requested"
    lifecycle(state, HandoffEventType.accepted, 1)
    late = step(state, policy, 2, "never mind, I don't need an agent anymore")
    assert not late.events and not late.directives and state.handoff_id is not None
    assert state.handoff_status == "accepted"  # the human decides now


def test_the_customer_withdraws_a_transfer_still_gathering_fields(policy: Policy) -> None:
    state = new_state("c-1")
    gather = step(state, policy, 0, "I was charged twice for one order")
    assert gather.decision.action is Action.gather and state.pending is not None
    result = step(state, policy, 1, "never mind, I'll sort it out myself, no need for an agent")
    assert [d.type for d in result.directives] == [DirectiveType.resume]
    assert state.pending is None and state.handoff_id is None and not result.events
    assert result.handoff is None


def test_a_state_stored_before_the_lifecycle_fields_still_loads() -> None:
    state = new_state("c-1")
    data = state.as_dict()
    for name in ("handoff_status", "last_handoff_id", "handoff_deadline", "delivery_attempts",
                 "reroutes", "agent_id", "recent_event_ids", "handoff_request"):  # fmt: skip
        del data[name]
    import orjson

    loaded = ConversationState.loads(orjson.dumps(data))
    assert loaded.handoff_status is None and loaded.recent_event_ids == []
