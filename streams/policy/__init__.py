"""The escalation policy: a validated YAML file and the pure decision that applies it."""

from __future__ import annotations

from warmhandoff.streams.policy.decide import DecisionContext, Verdict, decide
from warmhandoff.streams.policy.exceptions import PolicyError
from warmhandoff.streams.policy.loader import load_policy, parse_policy, policy_check
from warmhandoff.streams.policy.model import TRIGGER_CODES, Policy
from warmhandoff.streams.policy.triggers import evaluate_triggers

__all__ = [
    "TRIGGER_CODES",
    "DecisionContext",
    "Policy",
    "PolicyError",
    "Verdict",
    "decide",
    "evaluate_triggers",
    "load_policy",
    "parse_policy",
    "policy_check",
]
