"""Live KPIs over the learner's last labelled conversations, on hand-built examples."""

from __future__ import annotations

from typing import Any

from warmhandoff.streams.learning.kpis import KpiWindow
from warmhandoff.streams.models import LearningExample


def example(label: str, **outcome: Any) -> LearningExample:
    return LearningExample(
        example_id=label + str(outcome),
        conversation_id="c",
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
    window.add(example("bad_containment", escalated=False, customer_turns=4))
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
