"""Live KPIs over the learner's last labelled conversations: hand-built examples, then the
learner feeding the window as the runner does, checked against `warmhandoff report`."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from warmhandoff.agents.scenarios import Conversation, generate
from warmhandoff.streams.contract.models import (
    Action,
    Customer,
    Decision,
    HandoffEvent,
    LearningExample,
    Turn,
)
from warmhandoff.streams.contract.models import HandoffEventType as Kind
from warmhandoff.streams.core.pipeline import new_state, process_turn
from warmhandoff.streams.learning.kpis import KpiWindow
from warmhandoff.streams.learning.learner import Learner
from warmhandoff.streams.learning.model import LearnedModel
from warmhandoff.streams.offline.report import Streams, kpis
from warmhandoff.streams.policy import load_policy
from warmhandoff.streams.policy.model import Policy


def example(label: str, cid: str = "c", **outcome: Any) -> LearningExample:
    return LearningExample(
        example_id=label + str(outcome),
        conversation_id=cid,
        decision_id="d",
        label=label,
        features={},
        outcome=outcome,
    )


def test_kpis_over_the_window() -> None:
    window = KpiWindow(size=4)
    assert window.values()["escalation_rate"] is None
    window.add(example("bad_containment", escalated=False, csat=1, customer_turns=9))  # evicted
    window.add(example("good_containment", escalated=False, csat=5, customer_turns=2))
    window.add(example("bad_containment", "c-back", escalated=False, customer_turns=4))
    window.returned("c-back")  # the learner names a contained conversation its customer left
    window.add(
        example(
            "escalation_needed", escalated=True, csat=3, customer_turns=3,
            answer_seconds=30.0, handle_seconds=600.0, resolved=True, right_channel=False,
        )
    )  # fmt: skip
    window.add(
        example(
            "escalation_avoidable", escalated=True, customer_turns=1,
            answer_seconds=90.0, handle_seconds=60.0, resolved=False, right_channel=False,
        )
    )  # fmt: skip
    assert window.values() == {
        "escalation_rate": 0.5,
        "containment": 0.5,
        "deflection_quality": 0.5,
        "csat": 4.0,  # (5 + 3) / 2: the 1 was evicted
        "handle_time_seconds": 330.0,
        "speed_of_answer_seconds": 60.0,
        "customer_effort_turns": 2.5,  # (2 + 4 + 3 + 1) / 4
        "right_channel": 0.0,  # the needed one was re-queued, the avoidable one handed back
        "first_contact_resolution": 0.5,  # the good containment and the resolved escalation
    }


def test_a_return_marks_its_row_and_the_index_leaves_with_the_row() -> None:
    window = KpiWindow(size=2)
    window.add(example("escalation_needed", "a", escalated=True, resolved=True))
    window.add(example("bad_containment", "b", escalated=False, csat=1))
    # A low rating alone is no return: report counts the conversation resolved first time.
    assert window.values()["first_contact_resolution"] == 1.0
    window.returned("a")
    window.returned("unknown")  # not in the window (unlabelled, or gone): nothing to change
    assert window.values()["first_contact_resolution"] == 0.5
    window.add(example("good_containment", "c", escalated=False))  # "a" leaves the window
    window.returned("a")
    assert window.values()["first_contact_resolution"] == 1.0
    assert sorted(window._by_conversation) == ["b", "c"]  # bounded by the window


# The live path, as the runner drives it: decisions and events in time order through the
# learner, its examples into the window, then the returns it names.
T0 = datetime(2026, 11, 25, 16, 0, tzinfo=UTC)
TEMPLATES = {c.scenario.name: c for c in generate(20, seed=3, escalating_share=0.5, start=T0)}
# Escalated on the third turn, then the human's turns; and one the bot keeps.
ESCALATED, CONTAINED = TEMPLATES["repeated_fallback"], TEMPLATES["product_question"]


@pytest.fixture(scope="module")
def policy() -> Policy:
    return load_policy()


def conversation(template: Conversation, cid: str, customer: str, start: datetime) -> list[Turn]:
    """The template's turns as conversation `cid` of `customer`, a second apart from `start`."""
    return [
        t.model_copy(
            update={
                "conversation_id": cid,
                "ts": start + timedelta(seconds=i),
                "customer": Customer(id=customer),
            }
        )
        for i, t in enumerate(template.turns)
    ]


def decide(policy: Policy, turns: list[Turn]) -> list[Decision]:
    state = new_state(turns[0].conversation_id)
    out = []
    for t in turns:
        result = process_turn(state, t, policy, now=t.ts)
        assert result is not None and result.decision is not None
        out.append(result.decision)
    return out


def resolved(decisions: list[Decision], *, csat: int | None = None) -> list[HandoffEvent]:
    """The handoff accepted a minute after the escalation and resolved 20 minutes later."""
    [d] = [d for d in decisions if d.action is Action.escalate]
    assert d.handoff_id is not None
    at = d.ts + timedelta(minutes=1)
    kinds = [(Kind.accepted, at), (Kind.resolved, at + timedelta(minutes=20))]
    kinds += [(Kind.csat, at + timedelta(minutes=21))] if csat is not None else []
    return [
        HandoffEvent(
            event_id=f"{d.handoff_id}-{kind}", handoff_id=d.handoff_id,
            conversation_id=d.conversation_id, type=kind, ts=ts, source="test",
            csat=csat if kind is Kind.csat else None,
        )
        for kind, ts in kinds
    ]  # fmt: skip


class Live:
    """A learner and its KPI window, fed as `runner.LearnerProcess` feeds them."""

    def __init__(self) -> None:
        self.learner, self.window = Learner(LearnedModel()), KpiWindow()

    def feed(self, records: Sequence[Decision | HandoffEvent]) -> Live:
        for r in sorted(records, key=lambda r: r.ts):
            if isinstance(r, Decision):
                self._take(self.learner.on_decision(r, r.ts))
            else:
                self._take(self.learner.on_event(r, r.ts))
        return self

    def expire(self, now: datetime) -> Live:
        self._take(self.learner.expire(now))
        return self

    def fcr(self) -> float | None:
        return self.window.values()["first_contact_resolution"]

    def _take(self, examples: list[LearningExample]) -> None:
        for e in examples:
            self.window.add(e)
        for cid in self.learner.take_returns():
            self.window.returned(cid)


@pytest.mark.parametrize(
    ("customer", "after", "fcr"),
    [
        ("u-1", timedelta(hours=3), 0.0),  # the same customer within the window
        ("u-1", timedelta(hours=25), 1.0),  # the same customer, after the window
        ("u-2", timedelta(hours=3), 1.0),  # another customer
    ],
)
def test_a_return_after_a_resolved_escalation_is_not_first_contact_resolution(
    policy: Policy, customer: str, after: timedelta, fcr: float
) -> None:
    first = decide(policy, conversation(ESCALATED, "first", "u-1", T0))
    live = Live().feed([*first, *resolved(first, csat=5)])
    assert [r.label for r in live.window._rows] == ["escalation_needed"]
    assert live.fcr() == 1.0  # resolved by the human, labelled at once
    # The customer (or another) writes again: the escalation's row is already in the window.
    last_turn = max(d.ts for d in first)
    live.feed(decide(policy, conversation(CONTAINED, "second", customer, last_turn + after)))
    assert live.fcr() == fcr
    assert len(live.window._rows) == 1  # the new conversation is still in its window
    assert live.expire(last_turn + after + timedelta(days=2)).fcr() == (fcr + 1.0) / 2


def test_live_first_contact_resolution_equals_reports_on_the_same_stream(policy: Policy) -> None:
    plan = [  # conversation, template, customer, start
        ("a", ESCALATED, "u-1", T0),  # resolved, and u-1 is back 2 h later: not FCR
        ("b", CONTAINED, "u-1", T0 + timedelta(hours=2)),
        ("c", CONTAINED, "u-2", T0),  # contained, and u-2 is back 1 h later: not FCR
        ("d", ESCALATED, "u-2", T0 + timedelta(hours=1)),
        ("e", ESCALATED, "u-3", T0),  # resolved, no return
        ("f", CONTAINED, "u-4", T0),  # contained, no return
        ("g", CONTAINED, "u-5", T0),  # contained, rated 1, no return: FCR for report
        ("h", CONTAINED, "u-1", T0 + timedelta(hours=30)),  # u-1 after b's window
    ]
    turns: list[Turn] = []
    records: list[Decision | HandoffEvent] = []
    for cid, template, customer, start in plan:
        these = conversation(template, cid, customer, start)
        decisions = decide(policy, these)
        turns += these
        records += decisions
        if template is ESCALATED:
            records += resolved(decisions)  # no CSAT: labelled after the survey wait
    records.append(
        HandoffEvent(
            event_id="g-csat", handoff_id="g", conversation_id="g", type=Kind.csat,
            ts=T0 + timedelta(minutes=5), source="bot", csat=1,
        )
    )  # fmt: skip
    live = Live().feed(records).expire(T0 + timedelta(days=3))
    assert len(live.window._rows) == len(plan)  # every conversation labelled
    streams = Streams(
        turns=[t.model_dump(mode="json") for t in turns],
        decisions=[r.model_dump(mode="json") for r in records if isinstance(r, Decision)],
        events=[r.model_dump(mode="json") for r in records if isinstance(r, HandoffEvent)],
    )
    assert kpis(streams)["first_contact_resolution"] == 0.75  # all but a and c
    assert live.fcr() == 0.75
