"""The learner's join: decisions + lifecycle events -> labelled examples, features as scored."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from warmhandoff.agents.scenarios import generate
from warmhandoff.streams.contract.models import Action, Decision, HandoffEvent, Signals
from warmhandoff.streams.core.conversation import ConversationState
from warmhandoff.streams.core.pipeline import new_state, process_turn
from warmhandoff.streams.learning.features import features
from warmhandoff.streams.learning.learner import Learner
from warmhandoff.streams.learning.model import LearnedModel
from warmhandoff.streams.policy import load_policy
from warmhandoff.streams.policy.model import Policy

T0 = datetime(2026, 11, 25, 16, 0, tzinfo=UTC)


@pytest.fixture(scope="module")
def policy() -> Policy:
    return load_policy()


def run(policy: Policy, n: int = 60) -> tuple[list[Decision], dict[str, list[dict[str, float]]]]:
    """Decisions of `n` generated conversations, and the features the worker scored."""
    decisions: list[Decision] = []
    scored: dict[str, list[dict[str, float]]] = {}
    for conversation in generate(n, seed=9, escalating_share=0.5, start=T0):
        state = new_state(conversation.id)

        def scorer(signals: Signals, st: ConversationState) -> float:
            scored.setdefault(st.conversation_id, []).append(features(signals, st))
            return 0.5

        for t in conversation.turns:
            result = process_turn(state, t, policy, now=t.ts, scorer=scorer)
            assert result is not None and result.decision is not None
            decisions.append(result.decision)
    return decisions, scored


def event(d: Decision, kind: str, at: datetime, **extra: Any) -> HandoffEvent:
    assert d.handoff_id is not None
    return HandoffEvent(
        event_id=f"{d.handoff_id}-{kind}",
        handoff_id=d.handoff_id,
        conversation_id=d.conversation_id,
        type=kind,  # type: ignore[arg-type]
        ts=at,
        source="test",
        **extra,
    )


def test_the_learner_rebuilds_exactly_the_features_the_worker_scored(policy: Policy) -> None:
    decisions, scored = run(policy)
    learner = Learner(LearnedModel())
    for d in decisions:
        learner.on_decision(d, d.ts)
    assert learner.episodes
    for cid, ep in learner.episodes.items():
        # up to the decision point, turn for turn
        assert ep.examples == scored[cid][: len(ep.examples)]


def test_escalations_are_labelled_from_the_lifecycle_and_learned(policy: Policy) -> None:
    decisions, _ = run(policy)
    model = LearnedModel()
    learner = Learner(model)
    for d in decisions:
        learner.on_decision(d, d.ts)
    escalations = [d for d in decisions if d.action is Action.escalate and d.handoff_id]
    first, second = escalations[0], escalations[1]
    at = first.ts + timedelta(minutes=1)
    assert learner.on_event(event(first, "accepted", at), at) == []
    done = at + timedelta(minutes=20)
    # resolved: waits for the survey answer (up to an hour), which then joins the example
    assert learner.on_event(event(first, "resolved", done), done) == []
    [example] = learner.on_event(event(first, "csat", done, csat=4), done)
    assert example.label == "escalation_needed" and example.handoff_id == first.handoff_id
    assert example.outcome["csat"] == 4 and example.outcome["handle_seconds"] == 1200.0
    assert example.outcome["resolved"] is True and example.outcome["right_channel"] is True
    assert model.examples == example.outcome["turns_learned"] > 0
    assert first.conversation_id not in learner.episodes
    # a quick resolution with no survey answer: avoidable, once the survey wait is over
    at = second.ts + timedelta(minutes=1)
    # ...after the router moved it to its overflow queue: not the right channel
    moved = event(second, "queued", at, queue="general", reason="overflow")
    learner.on_event(moved, at)
    learner.on_event(event(second, "accepted", at), at)
    learner.on_event(event(second, "resolved", at + timedelta(seconds=40)), at)
    assert [e.label for e in learner.expire(at + timedelta(minutes=30))] == []
    later = learner.expire(at + timedelta(hours=2))
    [avoidable] = [e for e in later if e.conversation_id == second.conversation_id]
    assert avoidable.label == "escalation_avoidable"
    assert avoidable.outcome["resolved"] is True and avoidable.outcome["right_channel"] is False


def test_contained_conversations_are_labelled_when_the_window_closes(policy: Policy) -> None:
    decisions, _ = run(policy)
    learner = Learner(LearnedModel())
    for d in decisions:
        learner.on_decision(d, d.ts)
    contained = [cid for cid, ep in learner.episodes.items() if not ep.escalated]
    assert contained
    assert learner.expire(T0 + timedelta(hours=12)) == []
    examples = learner.expire(T0 + timedelta(days=2))
    labels = {e.conversation_id: e.label for e in examples}
    assert all(labels[cid] == "good_containment" for cid in contained)
    again = [e.example_id for e in examples]
    assert len(set(again)) == len(again)


def test_events_read_before_their_decisions_are_joined_when_the_decisions_arrive(
    policy: Policy,
) -> None:
    decisions, _ = run(policy)
    escalations = [d for d in decisions if d.action is Action.escalate and d.handoff_id]
    first = escalations[0]
    at = first.ts + timedelta(minutes=1)
    later = first.ts + timedelta(days=1)  # past the survey wait
    learner = Learner(LearnedModel())
    early = [event(first, "accepted", at), event(first, "resolved", at + timedelta(minutes=30))]
    for e in early:  # the events' topic was read first
        assert learner.on_event(e, later) == []
    assert set(learner.early) == {first.conversation_id}
    found = []
    for d in decisions:
        found += learner.on_decision(d, later)
    [example] = [e for e in found if e.conversation_id == first.conversation_id]
    assert example.label == "escalation_needed" and example.outcome["handle_seconds"] == 1800.0
    assert first.conversation_id not in learner.early
    # Events whose decision never comes are dropped once the return window has passed.
    stray = event(escalations[1], "accepted", at).model_copy(update={"conversation_id": "zz"})
    learner.on_event(stray, at)
    learner.expire(at + timedelta(hours=23))
    assert "zz" in learner.early
    learner.expire(at + timedelta(hours=25))
    assert "zz" not in learner.early


def test_a_survey_answer_joins_its_own_handoff_or_a_contained_conversation(policy: Policy) -> None:
    decisions, _ = run(policy)
    learner = Learner(LearnedModel())
    for d in decisions:
        learner.on_decision(d, d.ts)
    contained = next(cid for cid, ep in learner.episodes.items() if not ep.escalated)
    answer = HandoffEvent(
        event_id="s-1", handoff_id=contained, conversation_id=contained, type="csat",  # type: ignore[arg-type]
        ts=T0 + timedelta(minutes=5), source="bot", csat=1,
    )  # fmt: skip
    [example] = learner.on_event(answer, T0 + timedelta(minutes=5))
    assert example.label == "bad_containment" and example.outcome["csat"] == 1
    escalated = next(cid for cid, ep in learner.episodes.items() if ep.handoff_id)
    foreign = answer.model_copy(update={"conversation_id": escalated, "handoff_id": "other"})
    assert learner.on_event(foreign, T0) == [] and learner.episodes[escalated].csat is None


def test_a_customer_back_within_a_day_makes_the_contained_conversation_bad(
    policy: Policy,
) -> None:
    benign = next(
        c for c in generate(40, seed=3, escalating_share=0.0, start=T0) if c.turns[0].customer
    )
    customer = benign.turns[0].customer
    assert customer is not None and customer.id

    def decisions_of(cid: str, start: datetime) -> list[Decision]:
        state = new_state(cid)
        out = []
        for i, t in enumerate(benign.turns):
            turn = t.model_copy(update={"conversation_id": cid, "ts": start + timedelta(seconds=i)})
            result = process_turn(state, turn, policy, now=turn.ts)
            assert result is not None and result.decision is not None
            out.append(result.decision)
        return out

    first = decisions_of("first", T0)
    assert all(d.signals.customer_id == customer.id for d in first)
    learner = Learner(LearnedModel())
    for d in first:
        assert learner.on_decision(d, d.ts) == []  # contained: waits for the return window
    # The same customer starts another conversation three hours later.
    examples = [
        e
        for d in decisions_of("second", T0 + timedelta(hours=3))
        for e in learner.on_decision(d, d.ts)
    ]
    assert [(e.conversation_id, e.label) for e in examples] == [("first", "bad_containment")]
    # A visit after the window leaves the earlier conversation's label to the window.
    later = Learner(LearnedModel())
    for d in first:
        later.on_decision(d, d.ts)
    settled = later.expire(T0 + timedelta(days=2))
    assert [(e.conversation_id, e.label) for e in settled] == [("first", "good_containment")]
