"""Conversation-level detection: frustration rises when the customer is unhappy and stays low,
and nothing escalates, in conversations the bot handles well."""

from __future__ import annotations

from warmhandoff.streams.lab.eval.conversations import conversation_checks
from warmhandoff.streams.policy import load_policy


def test_frustration_follows_dissatisfaction_and_benign_conversations_stay_contained() -> None:
    policy = load_policy()
    figures = conversation_checks(policy, n=300, seed=5)["sets"]["simulated"]
    assert figures["benign"] >= 150 and figures["dissatisfied_turns"] >= 10
    assert figures["benign_escalation_rate"] <= 0.02
    assert figures["dissatisfied_rise_rate"] >= 0.95
    assert figures["benign_peak_frustration_max"] < policy.triggers.frustration.threshold
