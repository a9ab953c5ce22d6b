"""The learned score in the pipeline: recorded in shadow mode, never overriding mandatory."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from warmhandoff.agents.scenarios import generate
from warmhandoff.streams.conversation import ConversationState
from warmhandoff.streams.learning.simulation import active_copy
from warmhandoff.streams.models import Action, Signals, Turn
from warmhandoff.streams.pipeline import new_state, process_turn
from warmhandoff.streams.policy import load_policy
from warmhandoff.streams.policy.model import Policy

T0 = datetime(2026, 11, 25, 16, 0, tzinfo=UTC)


@pytest.fixture(scope="module")
def policy() -> Policy:
    return load_policy()


def turn(seq: int, text: str, **extra: Any) -> Turn:
    return Turn.model_validate(
        {
            "conversation_id": "c-1",
            "seq": seq,
            "ts": (T0 + timedelta(seconds=10 * seq)).isoformat(),
            "role": "customer",
            "text": text,
            "channel": "chat",
            **extra,
        }
    )


def constant(score: float) -> Any:
    def scorer(signals: Signals, state: ConversationState) -> float:
        return score

    return scorer


def test_shadow_scores_are_recorded_and_change_no_decision(policy: Policy) -> None:
    conversations = generate(40, seed=5, escalating_share=0.5, start=T0)
    for score in (0.0, 1.0):
        for conversation in conversations:
            plain, scored = new_state(conversation.id), new_state(conversation.id)
            for t in conversation.turns:
                a = process_turn(plain, t, policy, now=t.ts)
                b = process_turn(scored, t, policy, now=t.ts, scorer=constant(score))
                assert a is not None and b is not None
                assert a.decision is not None and b.decision is not None
                assert b.decision.learned_score == score and a.decision.learned_score is None
                assert b.decision.action == a.decision.action
                assert b.decision.triggers == a.decision.triggers


def test_an_active_learned_trigger_escalates_a_quiet_turn(policy: Policy) -> None:
    active = active_copy(policy, 0.7, 0.35)
    result = process_turn(
        new_state("c-1"), turn(0, "where is my order?"), active, now=T0, scorer=constant(0.9)
    )
    assert result is not None and result.decision is not None
    assert result.decision.action in (Action.escalate, Action.gather)
    assert "learned" in [hit.code for hit in result.decision.triggers]


def test_a_low_score_holds_back_soft_triggers_but_never_a_mandatory_one(policy: Policy) -> None:
    active = active_copy(policy, 0.7, 0.35)
    angry = "This is the worst service ever, I am furious and disgusted."
    held = process_turn(new_state("c-1"), turn(0, angry), active, now=T0, scorer=constant(0.1))
    assert held is not None and held.decision is not None
    assert held.decision.action is Action.none
    assert "negative_sentiment" in [hit.code for hit in held.decision.triggers]
    ask = "I want to talk to a real person please"
    kept = process_turn(new_state("c-2"), turn(0, ask), active, now=T0, scorer=constant(0.0))
    assert kept is not None and kept.decision is not None
    assert kept.decision.action in (Action.escalate, Action.gather)
