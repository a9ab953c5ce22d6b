"""Conversation-level checks for `warmhandoff eval`: frustration and containment.

There are no labelled dissatisfied real conversations, so these come from the project's
scripted scenarios (`warmhandoff.agents.scenarios`: written for this project, not labelled
data, and reported as `simulated`): ordinary conversations the bot handles well, and
conversations where the customer repeats, corrects the bot or says it is not working.
Measured:
- `benign_escalation_rate`: share of conversations the bot handles well that got an escalate,
  gather or clarify (target <= 2%);
- `dissatisfied_rise_rate`: share of dissatisfied customer turns (a dissatisfaction cue or a
  repeat/rephrase) on which the frustration signal rose (or stayed at its ceiling);
- `dissatisfied_escalation_rate`: share of the scripted conversations with a dissatisfied
  customer turn that got an escalate or gather (by any trigger), and
  `dissatisfied_by_frustration`: how many of those carried `frustration` or
  `negative_sentiment`;
- `benign_peak_frustration_max` and `..._mean`: how high it got in conversations that went well.

Ordinary real conversations (MultiWOZ) are measured in `ordinary.py`.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from warmhandoff.agents.scenarios import BENIGN, generate
from warmhandoff.streams.contract.models import Role
from warmhandoff.streams.core.pipeline import new_state, process_turn
from warmhandoff.streams.policy.model import Policy

ESCALATING_ACTIONS = frozenset({"escalate", "gather", "clarify"})
HANDOFF_ACTIONS = frozenset({"escalate", "gather"})
EMOTION_TRIGGERS = frozenset({"frustration", "negative_sentiment"})
_START = datetime(2026, 1, 1, tzinfo=UTC)
_CEILING = 0.99


def conversation_checks(policy: Policy, *, n: int = 1000, seed: int = 11) -> dict[str, Any]:
    """Run simulated conversations through the pipeline; the figures above."""
    conversations = generate(n, seed=seed, escalating_share=0.3, start=_START, prefix="ev")
    benign = escalated_benign = dissatisfied = rose = 0
    unhappy = unhappy_escalated = by_emotion = 0
    peaks: list[float] = []
    for conversation in conversations:
        state = new_state(conversation.id)
        acted, handed, emotion, said = False, False, False, False
        previous, peak = 0.0, 0.0
        for turn in conversation.turns:
            result = process_turn(state, turn, policy, now=turn.ts)
            if result is None or result.signals is None or result.decision is None:
                continue
            action = result.decision.action.value
            acted = acted or action in ESCALATING_ACTIONS
            if action in HANDOFF_ACTIONS:
                handed = True
                emotion = emotion or any(
                    hit.code in EMOTION_TRIGGERS for hit in result.decision.triggers
                )
            signals = result.signals
            if signals.role is not Role.customer:
                continue
            if signals.dissatisfied or signals.repeat:
                said = True
                dissatisfied += 1
                rose += signals.frustration > previous or signals.frustration >= _CEILING
            previous = signals.frustration
            peak = max(peak, signals.frustration)
        if conversation.scenario.family == BENIGN:
            benign += 1
            escalated_benign += acted
            peaks.append(peak)
        elif said:
            unhappy += 1
            unhappy_escalated += handed
            by_emotion += emotion
    return {
        "sets": {
            "simulated": {
                "conversations": len(conversations),
                "benign": benign,
                "benign_escalated": escalated_benign,
                "benign_escalation_rate": round(escalated_benign / benign, 4) if benign else None,
                "benign_peak_frustration_max": round(max(peaks), 4) if peaks else None,
                "benign_peak_frustration_mean": round(sum(peaks) / len(peaks), 4)
                if peaks
                else None,
                "dissatisfied_turns": dissatisfied,
                "dissatisfied_rise_rate": round(rose / dissatisfied, 4) if dissatisfied else None,
                "dissatisfied_conversations": unhappy,
                "dissatisfied_escalated": unhappy_escalated,
                "dissatisfied_escalation_rate": round(unhappy_escalated / unhappy, 4)
                if unhappy
                else None,
                "dissatisfied_by_frustration": by_emotion,
                "frustration_threshold": policy.triggers.frustration.threshold,
            }
        }
    }
