"""The escalation policy: a validated YAML file and the pure decision that applies it."""

from __future__ import annotations

from .decide import DecisionContext, Verdict, decide
from .exceptions import PolicyError
from .loader import load_policy, parse_policy, policy_check
from .model import TRIGGER_CODES, Policy
from .triggers import evaluate_triggers

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
