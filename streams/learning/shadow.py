"""A shadow policy beside the active one, live, on the decisions stream.

The learner (`warmhandoff learner --shadow-policy FILE`) applies the shadow policy's `decide`
to every decision the active policy made before its conversation's decision point, with the
same signals, learned score and clarifications asked, and counts where the two disagree
(`none`, `clarify` or `escalate`; the active `gather` is an escalation). When the
conversation's outcome is labelled, both policies' escalations are scored against it:
precision and recall of each, on live traffic, before the shadow goes live.

What it cannot see: where the shadow would have led the conversation (it is evaluated on the
active policy's path: once the active policy escalates, the conversation is the human's).
`warmhandoff policy diff` replays whole conversations offline for that.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from warmhandoff.streams.contract.models import Action, Decision
from warmhandoff.streams.policy.decide import DecisionContext, decide
from warmhandoff.streams.policy.model import Policy

ESCALATING = frozenset({Action.escalate, Action.gather})


@dataclass(slots=True)
class ShadowStats:
    """Disagreements and, over labelled conversations, each policy's hits and misses."""

    turns: int = 0
    disagreements: Counter[tuple[str, str]] = field(default_factory=Counter)  # (active, shadow)
    counts: Counter[str] = field(default_factory=Counter)  # e.g. "active_tp", "shadow_fn"

    def quality(self) -> dict[str, float | None]:
        """Precision and recall of each policy's escalations against the labels."""
        out: dict[str, float | None] = {}
        for who in ("active", "shadow"):
            tp, fp, fn = (self.counts[f"{who}_{k}"] for k in ("tp", "fp", "fn"))
            out[f"{who}_precision"] = tp / (tp + fp) if tp + fp else None
            out[f"{who}_recall"] = tp / (tp + fn) if tp + fn else None
        return out


class ShadowPolicy:
    """Decide every turn with `policy` too, and keep score."""

    def __init__(self, policy: Policy) -> None:
        self.policy = policy
        self.stats = ShadowStats()

    def check(self, d: Decision, clarifications: int) -> tuple[str, str]:
        """(active action, shadow action) on one turn before the decision point."""
        ctx = DecisionContext(clarifications=clarifications, learned_score=d.learned_score)
        shadow = decide(self.policy, d.signals, ctx).action
        active = Action.escalate if d.action in ESCALATING else d.action
        self.stats.turns += 1
        if shadow is not active:
            self.stats.disagreements[(active.value, shadow.value)] += 1
        return active.value, shadow.value

    def record(self, *, needed: bool, active: bool, shadow: bool) -> None:
        """One labelled conversation: did each policy escalate, and was a human needed."""
        for who, escalated in (("active", active), ("shadow", shadow)):
            if escalated and needed:
                self.stats.counts[f"{who}_tp"] += 1
            elif escalated:
                self.stats.counts[f"{who}_fp"] += 1
            elif needed:
                self.stats.counts[f"{who}_fn"] += 1
