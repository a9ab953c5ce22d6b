"""The survey after a conversation the bot kept: when it is asked, once, and how the answer
labels the conversation (the learner's clock is the `now` each call is given)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from warmhandoff.agents.scenarios import generate
from warmhandoff.streams.contract.models import (
    Action,
    Decision,
    DirectiveType,
    HandoffEvent,
    HandoffEventType,
)
from warmhandoff.streams.core.lifecycle import DEFAULT_TIMEOUTS, apply_event
from warmhandoff.streams.core.pipeline import new_state, process_turn
from warmhandoff.streams.learning.learner import Learner
from warmhandoff.streams.learning.model import LearnedModel
from warmhandoff.streams.learning.survey import ContainedSurvey, contained_survey_directive
from warmhandoff.streams.policy import load_policy
from warmhandoff.streams.policy.model import Policy

T0 = datetime(2026, 11, 25, 16, 0, tzinfo=UTC)
IDLE = timedelta(minutes=30)


@pytest.fixture(scope="module")
def policy() -> Policy:
    return load_policy()


def decisions_of(policy: Policy, *, escalating: bool) -> list[Decision]:
    """Every decision of one generated conversation that escalates, or that the bot keeps."""
    share = 1.0 if escalating else 0.0
    for conversation in generate(20, seed=5, escalating_share=share, start=T0):
        state = new_state(conversation.id)
        out = []
        for t in conversation.turns:
            result = process_turn(state, t, policy, now=t.ts)
            assert result is not None and result.decision is not None
            out.append(result.decision)
        handed_off = any(d.action is Action.escalate and d.handoff_id for d in out)
        # gather too is the learner's decision point: a handoff was decided
        decided = any(d.action in (Action.gather, Action.escalate) for d in out)
        if handed_off if escalating else not decided:
            return out
    raise AssertionError("no such conversation generated")


def event(
    handoff_id: str, cid: str, at: datetime, kind: str = "csat", csat: int | None = None
) -> HandoffEvent:
    """A lifecycle event; with `csat`, the bot's answer echoing the survey's handoff_id."""
    return HandoffEvent(
        event_id=f"{cid}-{kind}",
        handoff_id=handoff_id,
        conversation_id=cid,
        type=HandoffEventType(kind),
        ts=at,
        source="bot",
        csat=csat,
    )


def contained(policy: Policy) -> tuple[Learner, list[Decision]]:
    decisions = decisions_of(policy, escalating=False)
    learner = Learner(LearnedModel(), survey=ContainedSurvey(idle=IDLE))
    for d in decisions:
        assert learner.on_decision(d, d.ts) == []
    return learner, decisions


def test_an_idle_contained_conversation_is_surveyed_once(policy: Policy) -> None:
    learner, decisions = contained(policy)
    last = decisions[-1]
    assert learner.surveys_due(last.ts + IDLE - timedelta(seconds=1)) == []
    [survey] = learner.surveys_due(last.ts + IDLE)
    assert survey.type is DirectiveType.survey
    assert survey.conversation_id == survey.handoff_id == last.conversation_id
    assert survey.seq == last.seq and survey.ts == last.ts + IDLE
    # Stable id: a bot that reads it twice asks once.
    again = contained_survey_directive(last.conversation_id, last.seq, last.ts)
    assert survey.directive_id == again.directive_id
    assert learner.surveys_due(last.ts + IDLE + timedelta(minutes=5)) == []
    # The customer writes again after the survey, then goes quiet: not asked twice.
    late_turn = last.model_copy(update={"ts": last.ts + timedelta(hours=1), "seq": last.seq + 1})
    learner.on_decision(late_turn, late_turn.ts)
    assert learner.surveys_due(late_turn.ts + 2 * IDLE) == []


def test_a_turn_before_the_idle_period_ends_restarts_it(policy: Policy) -> None:
    learner, decisions = contained(policy)
    last = decisions[-1]
    assert learner.surveys_due(last.ts + timedelta(minutes=20)) == []
    more = last.model_copy(update={"ts": last.ts + timedelta(minutes=25), "seq": last.seq + 1})
    learner.on_decision(more, more.ts)
    assert learner.surveys_due(last.ts + IDLE + timedelta(minutes=1)) == []
    [survey] = learner.surveys_due(more.ts + IDLE)
    assert survey.seq == more.seq


def test_a_low_answer_makes_the_contained_conversation_bad_containment(policy: Policy) -> None:
    learner, decisions = contained(policy)
    cid, at = decisions[-1].conversation_id, decisions[-1].ts + IDLE
    [survey] = learner.surveys_due(at)
    assert survey.handoff_id is not None
    [example] = learner.on_event(event(survey.handoff_id, cid, at, csat=2), at)
    assert example.label == "bad_containment" and example.outcome["csat"] == 2
    assert example.outcome["escalated"] is False and cid not in learner.episodes


def test_the_worker_skips_a_contained_answer_without_changing_state(policy: Policy) -> None:
    """The answer also reaches the worker on handoff.events: not applied, not dead-lettered."""
    learner, decisions = contained(policy)
    cid, at = decisions[-1].conversation_id, decisions[-1].ts + IDLE
    [survey] = learner.surveys_due(at)
    assert survey.handoff_id is not None
    state = new_state(cid)
    before = state.dumps()
    outcome = apply_event(state, event(survey.handoff_id, cid, at, csat=1), at, DEFAULT_TIMEOUTS)
    assert outcome.rejected == "no_handoff" and not outcome.directives
    assert state.dumps() == before


def test_a_good_answer_keeps_good_containment_once_the_window_closes(policy: Policy) -> None:
    learner, decisions = contained(policy)
    cid, at = decisions[-1].conversation_id, decisions[-1].ts + IDLE
    [survey] = learner.surveys_due(at)
    assert survey.handoff_id is not None
    assert learner.on_event(event(survey.handoff_id, cid, at, csat=5), at) == []
    assert learner.expire(at + timedelta(hours=12)) == []
    [example] = learner.expire(at + timedelta(days=1))
    assert example.label == "good_containment" and example.outcome["csat"] == 5


def test_an_escalated_conversation_gets_no_contained_survey(policy: Policy) -> None:
    decisions = decisions_of(policy, escalating=True)
    learner = Learner(LearnedModel(), survey=ContainedSurvey(idle=IDLE))
    for d in decisions:
        learner.on_decision(d, d.ts)
    escalating = next(d for d in decisions if d.action is Action.escalate and d.handoff_id)
    assert learner.surveys_due(decisions[-1].ts + IDLE) == []
    # Resolved and answered (the worker's post-resolution survey): the episode is labelled.
    assert escalating.handoff_id is not None
    done = escalating.ts + timedelta(minutes=20)
    cid = escalating.conversation_id
    for kind in ("accepted", "resolved"):
        assert learner.on_event(event(escalating.handoff_id, cid, done, kind), done) == []
    [labelled] = learner.on_event(event(escalating.handoff_id, cid, done, csat=4), done)
    assert labelled.label.startswith("escalation_")
    # The bot talks on after the human and the conversation goes quiet: no second survey.
    after = decisions[-1].model_copy(
        update={"ts": done + timedelta(minutes=1), "action": Action.none, "handoff_id": None}
    )
    learner.on_decision(after, after.ts)
    assert cid in learner.episodes and learner.surveys_due(after.ts + IDLE) == []


def test_a_conversation_first_seen_idle_long_ago_is_not_surveyed(policy: Policy) -> None:
    learner, decisions = contained(policy)
    # The learner was behind (a restart, a backlog): asking hours later is noise.
    late = decisions[-1].ts + IDLE + learner.survey.late + timedelta(seconds=1)
    assert learner.surveys_due(late) == [] and not learner.idle_queue
    assert learner.surveys_due(late + IDLE) == []


def test_the_sample_is_a_stable_share_of_conversations(policy: Policy) -> None:
    ids = [f"conv-{i}" for i in range(2000)]
    half = ContainedSurvey(sample=0.5)
    asked = [cid for cid in ids if half.asks(cid)]
    assert 900 < len(asked) < 1100 and asked == [cid for cid in ids if half.asks(cid)]
    assert not any(ContainedSurvey(sample=0.0).asks(cid) for cid in ids)
    assert all(ContainedSurvey(sample=1.0).asks(cid) for cid in ids)
    decisions = decisions_of(policy, escalating=False)
    off = Learner(LearnedModel(), survey=ContainedSurvey(idle=IDLE, sample=0.0))
    for d in decisions:
        off.on_decision(d, d.ts)
    assert off.surveys_due(decisions[-1].ts + IDLE) == []
