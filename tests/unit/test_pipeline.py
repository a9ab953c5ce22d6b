"""The pure pipeline: detect → decide → prepare → transfer on hand-built turns."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import orjson
import pytest

from warmhandoff.streams.contract.models import Action, DirectiveType, Turn
from warmhandoff.streams.core.conversation import ConversationState
from warmhandoff.streams.core.pipeline import StepResult, expire_gather, new_state, process_turn
from warmhandoff.streams.core.transfer import handoff_id
from warmhandoff.streams.policy import load_policy
from warmhandoff.streams.policy.model import Policy

T0 = datetime(2026, 11, 25, 16, 0, tzinfo=UTC)
CARD = "4111 1111 1111 1111"


@pytest.fixture(scope="module")
def policy() -> Policy:
    return load_policy()


def make_turn(seq: int, text: str, role: str = "customer", **extra: Any) -> Turn:
    data: dict[str, Any] = {
        "conversation_id": "c-1",
        "seq": seq,
        "ts": (T0 + timedelta(seconds=10 * seq)).isoformat(),
        "role": role,
        "text": text,
        "channel": "chat",
        "locale": "en-US",
        **extra,
    }
    return Turn.model_validate(data)


def run(
    policy: Policy, turns: list[Turn], state: ConversationState | None = None
) -> list[StepResult | None]:
    state = state or new_state("c-1")
    return [process_turn(state, t, policy, now=t.ts) for t in turns]


def test_explicit_request_for_a_human_produces_a_handoff_and_a_status(policy: Policy) -> None:
    state = new_state("c-1")
    first = process_turn(state, make_turn(0, "hi, where is my parcel?"), policy, now=T0)
    assert first is not None and first.decision is not None
    assert first.decision.action is Action.none and first.handoff is None
    res = process_turn(
        state, make_turn(1, "I want to talk to a real person please"), policy, now=T0
    )
    assert res is not None and res.handoff is not None and res.decision is not None
    assert res.decision.action is Action.escalate
    assert "human_request" in [t.code for t in res.decision.triggers]
    assert res.handoff.handoff_id == handoff_id("c-1", 1)
    assert res.decision.handoff_id == res.handoff.handoff_id
    assert res.handoff.routing.queue == "general"
    assert res.handoff.policy_version == policy.version
    assert [d.type for d in res.directives][-1] is DirectiveType.status
    status = res.directives[-1]
    # The worker cannot see the desk: no wait is invented; the router announces it.
    assert status.wait is None and res.handoff.wait is None
    assert "wait" in status.message and not any(ch.isdigit() for ch in status.message)


def test_a_replayed_turn_changes_nothing(policy: Policy) -> None:
    state = new_state("c-1")
    turn = make_turn(0, "I need a human agent now")
    assert process_turn(state, turn, policy, now=T0) is not None
    before = state.dumps()
    assert process_turn(state, turn, policy, now=T0) is None
    assert state.dumps() == before


def test_never_escalated_twice_while_handed_off(policy: Policy) -> None:
    results = run(
        policy,
        [
            make_turn(0, "let me speak to an agent"),
            make_turn(1, "hello?? I want a human, this is useless"),
            make_turn(2, "I want to speak to a manager"),
        ],
    )
    handoffs = [r.handoff for r in results if r is not None and r.handoff is not None]
    assert len(handoffs) == 1
    later = results[2]
    assert later is not None and later.decision is not None
    assert later.decision.action is Action.owned
    assert later.decision.handoff_id == handoffs[0].handoff_id


def test_low_confidence_clarifies_first_then_escalates(policy: Policy) -> None:
    low = {"nlu": {"intent": "unknown", "confidence": 0.2}}
    results = run(
        policy,
        [
            make_turn(0, "the thing with the stuff", **low),
            make_turn(1, "the other thing then", **low),
        ],
    )
    first, second = results
    assert first is not None and first.decision is not None
    assert first.decision.action is Action.clarify
    assert [d.type for d in first.directives] == [DirectiveType.clarify]
    assert second is not None and second.decision is not None
    assert second.decision.action is Action.escalate and second.handoff is not None
    # The SLA clock started at the first unmet need, not at the handoff.
    assert second.handoff.first_unmet_need_at == T0
    deadline = second.handoff.routing.sla_deadline
    assert deadline == T0 + timedelta(seconds=second.handoff.routing.sla_seconds)


def test_missing_required_fields_are_gathered_before_a_verified_transfer(policy: Policy) -> None:
    state = new_state("c-1")
    asked = process_turn(
        state, make_turn(0, "I was charged twice for the same order"), policy, now=T0
    )
    assert asked is not None and asked.decision is not None
    assert asked.decision.action is Action.gather and asked.handoff is None
    assert asked.directives[0].type is DirectiveType.gather
    assert "account_id" in asked.directives[0].fields
    answer = make_turn(
        1,
        "my account number is 12345678",
        customer={"id": "u-7", "verified": True},
        nlu={"intent": "provide_account", "confidence": 0.9, "slots": {"account_id": "12345678"}},
    )
    done = process_turn(state, answer, policy, now=answer.ts)
    assert done is not None and done.handoff is not None
    assert done.handoff.routing.queue == "payments"
    assert done.handoff.bundle.fields["account_id"] == "12345678"
    assert done.handoff.bundle.missing_fields == []
    types = [d.type for d in done.directives]
    assert types == [DirectiveType.disclose, DirectiveType.status]
    # The trigger that started it is recorded with the decision that transferred.
    assert "risk.payments" in [t.code for t in done.handoff.triggers]


def test_gather_times_out_and_transfers_marking_what_is_missing(policy: Policy) -> None:
    state = new_state("c-1")
    process_turn(
        state, make_turn(0, "someone used my card, I don't recognise this payment"), policy, now=T0
    )
    assert state.pending is not None
    deadline = datetime.fromisoformat(state.pending.deadline)
    assert expire_gather(state, policy, now=deadline - timedelta(seconds=1)) is None
    res = expire_gather(state, policy, now=deadline)
    assert res is not None and res.handoff is not None
    assert res.handoff.bundle.missing_fields == ["account_id"]
    assert state.pending is None and state.handoff_id == res.handoff.handoff_id
    assert expire_gather(state, policy, now=deadline) is None


def test_card_numbers_never_reach_state_or_outputs(policy: Policy) -> None:
    state = new_state("c-1")
    results = run(
        policy,
        [
            make_turn(0, f"my card {CARD} was charged twice, cvv 123"),
            make_turn(1, "four one one one one one one one one one one one one one one one"),
            make_turn(2, "just get me a human, email me at jane.doe@example.com"),
        ],
        state,
    )
    blobs = [state.dumps()]
    for r in results:
        assert r is not None
        for model in (r.signals, r.decision, r.handoff, *r.directives):
            if model is not None:
                blobs.append(model.model_dump_json().encode())
    text = b"\n".join(blobs)
    assert b"4111" not in text and b"jane.doe" not in text
    assert state.redactions >= 3


def test_bundle_carries_summary_steps_entities_and_next_steps(policy: Policy) -> None:
    results = run(
        policy,
        [
            make_turn(0, "where is my refund for order #A12345? it has been two weeks"),
            make_turn(
                1,
                "Let me check that.",
                role="bot",
                bot={"action": "lookup_refund", "status": "failed"},
            ),
            make_turn(2, "this is not working, I want to talk to a person"),
        ],
    )
    last = results[-1]
    assert last is not None and last.handoff is not None
    bundle = last.handoff.bundle
    assert "refund" in bundle.summary.wants
    assert "lookup_refund (failed)" in bundle.summary.tried
    assert "asked for a human" in bundle.summary.why
    assert [s.action for s in bundle.steps_tried] == ["lookup_refund"]
    assert any("lookup_refund" in step for step in bundle.next_steps)
    assert len(bundle.transcript) == 3
    assert bundle.transcript[1].role.value == "bot"


def test_state_round_trips_through_its_table_encoding(policy: Policy) -> None:
    state = new_state("c-1")
    process_turn(state, make_turn(0, "I was charged twice"), policy, now=T0)
    assert state.pending is not None
    again = ConversationState.loads(state.dumps())
    assert again == state
    assert orjson.loads(state.dumps())["conversation_id"] == "c-1"


def test_ordinary_conversation_is_not_escalated(policy: Policy) -> None:
    ok = {"nlu": {"intent": "order_status", "confidence": 0.95}}
    results = run(
        policy,
        [
            make_turn(0, "hi, where is my order?", **ok),
            make_turn(
                1,
                "It arrives tomorrow.",
                role="bot",
                bot={"action": "lookup_order", "status": "ok"},
            ),
            make_turn(2, "great, thanks a lot!", **ok),
        ],
    )
    assert all(r is not None and r.handoff is None for r in results)
    assert all(
        r is not None and r.decision is not None and r.decision.action is Action.none
        for r in results
    )


def test_national_phone_numbers_are_read_in_the_locale_region(policy: Policy) -> None:
    state = new_state("c-1")
    turn = make_turn(0, "call me back on 020 7946 0958 please", locale="en-GB")
    process_turn(state, turn, policy, now=T0)
    assert "7946" not in state.transcript[0]["text"]
    assert "[PHONE]" in state.transcript[0]["text"]


def test_the_sentiment_trend_starts_neutral_and_follows_the_conversation(policy: Policy) -> None:
    from warmhandoff.streams.core.detection import TREND_WEIGHT

    state = new_state("c-1")
    first = process_turn(state, make_turn(0, "this is awful, I hate this service"), policy, now=T0)
    assert first is not None and first.signals is not None
    score = first.signals.sentiment
    assert score < -0.3
    # One message moves the conversation's mood only part of the way ...
    assert first.signals.sentiment_trend == pytest.approx(TREND_WEIGHT * score)
    second = process_turn(state, make_turn(1, "awful, truly awful, I hate it"), policy, now=T0)
    assert second is not None and second.signals is not None
    # ... and repeated unhappiness moves it further.
    assert second.signals.sentiment_trend < first.signals.sentiment_trend


@pytest.mark.parametrize(
    "customer",
    [
        {
            "id": "u-7",
            "tier": "gold",
            "verified": True,
            "churn_risk": 0.4,
            "lifetime_value": 1200.0,
            "accessibility": ["screen_reader"],
            "segment": "smb",
        },
        {"id": "u-8"},
        {"tier": "silver", "accessibility": []},
    ],
)
def test_the_customer_record_kept_is_the_turns_without_empty_fields(
    policy: Policy, customer: dict[str, Any]
) -> None:
    state = new_state("c-1")
    turn = make_turn(0, "hello", customer=customer)
    process_turn(state, turn, policy, now=T0)
    assert turn.customer is not None
    assert state.customer == turn.customer.model_dump(exclude_none=True)
    assert list(state.customer) == list(turn.customer.model_dump(exclude_none=True))
    if "accessibility" in state.customer:
        assert state.customer["accessibility"] is not turn.customer.accessibility
