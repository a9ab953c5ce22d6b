"""Label a decision with what happened next: the labelling rules, written down as code.

One label per conversation outcome, decided from facts the streams carry (the decision, the
handoff lifecycle events, a CSAT answer, whether the customer came back):

Escalated (a handoff was created):
1. `escalation_avoidable`: the human handed the conversation back to the bot, or resolved it
   within `quick_seconds` of accepting it (a plain answer the bot had). Resolution reasons
   in `PLAIN_ANSWER_REASONS` ("bot_answer", "faq", ...) also count as avoidable.
2. `escalation_late`: otherwise, if before the handoff the customer repeated themselves at
   least `late_repeats` times, asked for a human more than once, or frustration reached
   `late_frustration`: a human was needed and came too late.
3. `escalation_needed`: otherwise, once resolved (the human did substantive work).
   An escalation that was abandoned, cancelled or failed, or is not resolved yet, has no
   label (None): what the human would have done is unknown.

Contained (no handoff):
4. `bad_containment`: the customer came back within `return_window` or rated the
   conversation at most `low_csat`.
5. `good_containment`: neither, once `return_window` has passed since the conversation's
   last turn (before that: None, still pending).

For the learned trigger, `needed`, `late` and `bad_containment` are positives ("a human was
needed"), `avoidable` and `good_containment` negatives.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum


class Label(StrEnum):
    escalation_needed = "escalation_needed"
    escalation_avoidable = "escalation_avoidable"
    escalation_late = "escalation_late"
    bad_containment = "bad_containment"
    good_containment = "good_containment"


POSITIVE = frozenset({Label.escalation_needed, Label.escalation_late, Label.bad_containment})
"""Labels that say a human was needed."""

PLAIN_ANSWER_REASONS = frozenset({"bot_answer", "faq", "self_service", "no_action_needed"})


@dataclass(frozen=True, slots=True)
class LabelRules:
    """The thresholds of the rules above (CX operations may tune them)."""

    quick_seconds: float = 120.0
    late_repeats: int = 2
    late_frustration: float = 0.85
    return_window: timedelta = timedelta(hours=24)
    low_csat: int = 2


DEFAULT_RULES = LabelRules()


@dataclass(frozen=True, slots=True)
class Outcome:
    """What happened after the decision point of one conversation."""

    escalated: bool
    last_turn_at: datetime
    accepted_at: datetime | None = None
    resolved_at: datetime | None = None
    resolution_reason: str | None = None
    handed_back: bool = False
    ended_unserved: bool = False  # abandoned, cancelled or failed
    csat: int | None = None
    returned_at: datetime | None = None  # the customer's next contact, if any
    repeats_before_handoff: int = 0
    human_requests_before_handoff: int = 0
    peak_frustration_before_handoff: float = 0.0


def label(outcome: Outcome, *, now: datetime, rules: LabelRules = DEFAULT_RULES) -> Label | None:
    """The outcome's label, or None while it is unknown (see the module docstring)."""
    if outcome.escalated:
        return _escalation_label(outcome, rules)
    low = outcome.csat is not None and outcome.csat <= rules.low_csat
    returned = (
        outcome.returned_at is not None
        and outcome.returned_at - outcome.last_turn_at <= rules.return_window
    )
    if low or returned:
        return Label.bad_containment
    if now - outcome.last_turn_at >= rules.return_window:
        return Label.good_containment
    return None


def _escalation_label(outcome: Outcome, rules: LabelRules) -> Label | None:
    if outcome.handed_back:
        return Label.escalation_avoidable
    if outcome.resolved_at is None or outcome.ended_unserved:
        return None
    started = outcome.accepted_at or outcome.resolved_at
    quick = (outcome.resolved_at - started).total_seconds() <= rules.quick_seconds
    if quick or (outcome.resolution_reason or "").lower() in PLAIN_ANSWER_REASONS:
        return Label.escalation_avoidable
    if (
        outcome.repeats_before_handoff >= rules.late_repeats
        or outcome.human_requests_before_handoff > 1
        or outcome.peak_frustration_before_handoff >= rules.late_frustration
    ):
        return Label.escalation_late
    return Label.escalation_needed


def is_positive(found: Label) -> bool:
    """True when the label says a human was needed."""
    return found in POSITIVE
