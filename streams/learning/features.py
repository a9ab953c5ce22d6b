"""Per-turn features for the learned trigger: numbers from `Signals` and conversation state.

Every feature is a float and every call returns the same keys in the same order, so the
model's scaler sees each feature on every example. What is deliberately left out: any text,
ids, the intent name (unbounded and deployment-specific: deflection candidates look at
intents separately, `streams/learning/insights.py`), and anything about the outcome.
Counts are capped so one runaway conversation cannot dominate the scaler's variance.
"""

from __future__ import annotations

import math

from warmhandoff.streams.contract.models import Signals
from warmhandoff.streams.core.conversation import ConversationState

RISKS = ("payments", "cancellation", "identity", "fraud", "compliance")
CHANNELS = ("chat", "voice", "email", "sms", "social")
PREMIUM_TIERS = frozenset({"gold", "platinum", "vip", "premium", "enterprise"})
CAP = 10.0

FEATURES: tuple[str, ...] = (
    "sentiment",
    "sentiment_trend",
    "frustration",
    "human_request",
    "confidence",
    "confidence_missing",
    "low_confidence_streak",
    "fallback_streak",
    "repeat",
    "repeat_count",
    "dissatisfied",
    *(f"risk_{name}" for name in RISKS),
    "vip",
    "premium_tier",
    "churn_risk",
    "lifetime_value_log",
    "language_mismatch",
    "accessibility",
    "system_boundary",
    "revenue",
    "turn_index",
    "customer_turns",
    "failed_actions",
    "clarifications",
    "role_customer",
    *(f"channel_{name}" for name in CHANNELS),
)
"""The feature names, in the order `features` returns them."""


def _capped(value: float) -> float:
    return value if value < CAP else CAP


def features(signals: Signals, state: ConversationState) -> dict[str, float]:
    """The feature dict of one turn, after detection updated `state` with it (the worker)."""
    return features_from(
        signals,
        customer_turns=state.customer_turns,
        failed_actions=state.failed_actions,
        clarifications=state.clarifications,
    )


def features_from(
    signals: Signals, *, customer_turns: int, failed_actions: int, clarifications: int
) -> dict[str, float]:
    """The feature dict from the signals and three counters the learner rebuilds from the
    decisions stream (`learner.py`), so training and scoring see the same numbers."""
    risk = signals.risk
    confidence = signals.confidence
    tier = signals.tier.lower() if signals.tier else ""
    channel = signals.channel.value if signals.channel is not None else ""
    ltv = signals.lifetime_value
    found = {
        "sentiment": signals.sentiment,
        "sentiment_trend": signals.sentiment_trend,
        "frustration": signals.frustration,
        "human_request": 1.0 if signals.human_request else 0.0,
        # A turn without NLU is not a confident one nor an unsure one: neutral 1.0 plus a flag.
        "confidence": 1.0 if confidence is None else confidence,
        "confidence_missing": 1.0 if confidence is None else 0.0,
        "low_confidence_streak": _capped(float(signals.low_confidence_streak)),
        "fallback_streak": _capped(float(signals.fallback_streak)),
        "repeat": 1.0 if signals.repeat else 0.0,
        "repeat_count": _capped(float(signals.repeat_count)),
        "dissatisfied": 1.0 if signals.dissatisfied else 0.0,
    }
    for name in RISKS:
        found[f"risk_{name}"] = 1.0 if name in risk else 0.0
    found.update(
        {
            "vip": 1.0 if signals.vip else 0.0,
            "premium_tier": 1.0 if tier in PREMIUM_TIERS else 0.0,
            "churn_risk": signals.churn_risk or 0.0,
            "lifetime_value_log": math.log10(1.0 + ltv) if ltv else 0.0,
            "language_mismatch": 1.0 if signals.language_mismatch else 0.0,
            "accessibility": 1.0 if signals.accessibility else 0.0,
            "system_boundary": 1.0 if signals.system_boundary is not None else 0.0,
            "revenue": 1.0 if signals.revenue else 0.0,
            "turn_index": _capped(float(signals.seq)),
            "customer_turns": _capped(float(customer_turns)),
            "failed_actions": _capped(float(failed_actions)),
            "clarifications": _capped(float(clarifications)),
            "role_customer": 1.0 if signals.role.value == "customer" else 0.0,
        }
    )
    for name in CHANNELS:
        found[f"channel_{name}"] = 1.0 if channel == name else 0.0
    return found
