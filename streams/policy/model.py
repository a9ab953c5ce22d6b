"""The escalation policy file, as pydantic models.

CX operations own this file (default.yaml is the shipped example and documents every
field). Every model forbids unknown fields so a misspelt key is an error, not a silently
ignored setting. Field validators raise ValueError with the exact wording the loader shows
(`must be between -1 and 1, got 3`); checks that need the whole document (does that queue
exist?) live in checks.py. `Policy.compiled` holds the lookup tables `decide` uses.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from enum import StrEnum
from functools import cached_property
from typing import TYPE_CHECKING, Annotated, Any, Literal, Self

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, model_validator

from warmhandoff.streams.contract.models import BotStatus, Channel
from warmhandoff.streams.policy.checks import ReferenceErrors, reference_problems, suggest
from warmhandoff.streams.policy.hours import parse_hours
from warmhandoff.streams.policy.topics import REVENUE_KINDS, TOPICS

if TYPE_CHECKING:
    from warmhandoff.streams.policy.compiled import CompiledPolicy

TRIGGER_CODES = (
    "human_request",
    "negative_sentiment",
    "frustration",
    "low_confidence",
    "repeated_fallback",
    "risk.payments",
    "risk.cancellation",
    "risk.identity",
    "risk.fraud",
    "risk.compliance",
    "vip",
    "churn_risk",
    "language_mismatch",
    "accessibility",
    "system_boundary",
    "revenue_opportunity",
    "learned",
)
"""Every trigger code, in the order triggers are evaluated and reported."""


def _show(value: float) -> str:
    return f"{value:g}"


def _between(low: float, high: float) -> AfterValidator:
    def check(value: float) -> float:
        if not low <= value <= high:
            raise ValueError(f"must be between {_show(low)} and {_show(high)}, got {_show(value)}")
        return value

    return AfterValidator(check)


def _matches(pattern: str, what: str) -> AfterValidator:
    compiled = re.compile(pattern)

    def check(value: str) -> str:
        if not compiled.fullmatch(value):
            raise ValueError(f"{value!r} is not a valid {what}")
        return value

    return AfterValidator(check)


def _known_trigger(code: str) -> str:
    if code not in TRIGGER_CODES:
        raise ValueError(f"unknown trigger {code!r}{suggest(code, TRIGGER_CODES)}")
    return code


def _known_topic(topic: str) -> str:
    if topic not in TOPICS:
        hint = suggest(topic, TOPICS) or f" (topics: {', '.join(TOPICS)})"
        raise ValueError(f"unknown topic {topic!r}{hint}")
    return topic


def _valid_hours(text: str) -> str:
    parse_hours(text)
    return text


Score = Annotated[float, _between(-1, 1)]
Unit = Annotated[float, _between(0, 1)]
Priority = Annotated[int, _between(1, 5)]
Count = Annotated[int, _between(0, 100)]
Seconds = Annotated[int, _between(0, 86_400)]
# Names end up in metric labels and CRM routing keys: keep them plain.
Name = Annotated[str, _matches(r"[a-z][a-z0-9_]{0,63}", "name (lower case, digits, _)")]
Language = Annotated[str, _matches(r"[a-z]{2,3}", "ISO 639-1 language code such as 'es'")]
Label = Annotated[str, Field(min_length=1, max_length=200)]
Text = Annotated[str, Field(min_length=1, max_length=2000)]
TriggerCode = Annotated[str, AfterValidator(_known_trigger)]
Topic = Annotated[str, AfterValidator(_known_topic)]
Hours = Annotated[str, AfterValidator(_valid_hours)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Effect(StrEnum):
    escalate = "escalate"  # can start a handoff on its own
    priority = "priority"  # never escalates alone; counts in rules and priority boosts


class LearnedMode(StrEnum):
    shadow = "shadow"  # scored and recorded by the caller, never fires
    active = "active"


# --- triggers ---------------------------------------------------------------------------


class Trigger(_Strict):
    """Settings every trigger shares."""

    enabled: bool = True
    mandatory: bool = False  # escalates regardless: skips clarify-first and learned holds
    effect: Effect = Effect.escalate


class HumanRequestTrigger(Trigger):
    mandatory: bool = True


class ComplianceTrigger(Trigger):
    mandatory: bool = True


class NegativeSentimentTrigger(Trigger):
    threshold: Score = -0.6  # fires when this turn's sentiment <= threshold ...
    # ... and the turn is sharp (Signals.sharp); false: any turn at or below the threshold
    sharp_only: bool = True
    trend_threshold: Score | None = None  # also fires when sentiment_trend <= this


class FrustrationTrigger(Trigger):
    threshold: Unit = 0.7  # fires when frustration >= threshold


class LowConfidenceTrigger(Trigger):
    threshold: Unit = 0.45  # fires when the bot's confidence < threshold
    clarify_first: bool = True
    max_clarifications: Count = 1


class RepeatedFallbackTrigger(Trigger):
    min_streak: Annotated[int, _between(1, 100)] = 2


class VipTrigger(Trigger):
    effect: Effect = Effect.priority
    tiers: list[Label] = []
    min_lifetime_value: Annotated[float, _between(0, 1e12)] | None = None
    detector_flag: bool = True  # also honour Signals.vip set by the detect stage


class ChurnRiskTrigger(Trigger):
    effect: Effect = Effect.priority
    threshold: Unit = 0.7  # fires when churn_risk >= threshold


class LanguageMismatchTrigger(Trigger):
    min_confidence: Unit = 0.5  # of the language identification


class AccessibilityTrigger(Trigger):
    needs: list[Label] = []  # needs that require a human; empty: any need


class SystemBoundaryTrigger(Trigger):
    statuses: Annotated[list[BotStatus], Field(min_length=1)] = [
        BotStatus.failed,
        BotStatus.not_permitted,
        BotStatus.unavailable,
    ]

    @model_validator(mode="after")
    def _no_ok(self) -> SystemBoundaryTrigger:
        if BotStatus.ok in self.statuses:
            raise ValueError("statuses: 'ok' is not a system boundary")
        return self


class RevenueTrigger(Trigger):
    kinds: Annotated[list[Label], Field(min_length=1)] = list(REVENUE_KINDS)


class LearnedTrigger(_Strict):
    """A model's escalation score; shadow by default so it changes nothing until switched on."""

    enabled: bool = True
    mode: LearnedMode = LearnedMode.shadow
    threshold: Unit = 0.8  # active: fires when score >= threshold
    # Active: a score below this holds back non-mandatory escalations (never mandatory ones).
    suppress_below: Unit | None = None

    @model_validator(mode="after")
    def _suppress_below_threshold(self) -> LearnedTrigger:
        if self.suppress_below is not None and self.suppress_below >= self.threshold:
            raise ValueError(
                f"suppress_below ({_show(self.suppress_below)}) must be below "
                f"threshold ({_show(self.threshold)})"
            )
        return self


class Triggers(_Strict):
    """One entry per trigger code; an omitted trigger runs with the defaults shown here."""

    human_request: HumanRequestTrigger = HumanRequestTrigger()
    negative_sentiment: NegativeSentimentTrigger = NegativeSentimentTrigger()
    frustration: FrustrationTrigger = FrustrationTrigger()
    low_confidence: LowConfidenceTrigger = LowConfidenceTrigger()
    repeated_fallback: RepeatedFallbackTrigger = RepeatedFallbackTrigger()
    risk_payments: Trigger = Field(default_factory=Trigger, alias="risk.payments")
    risk_cancellation: Trigger = Field(default_factory=Trigger, alias="risk.cancellation")
    risk_identity: Trigger = Field(default_factory=Trigger, alias="risk.identity")
    risk_fraud: Trigger = Field(default_factory=Trigger, alias="risk.fraud")
    risk_compliance: ComplianceTrigger = Field(
        default_factory=ComplianceTrigger, alias="risk.compliance"
    )
    vip: VipTrigger = VipTrigger()
    churn_risk: ChurnRiskTrigger = ChurnRiskTrigger()
    language_mismatch: LanguageMismatchTrigger = LanguageMismatchTrigger()
    accessibility: AccessibilityTrigger = AccessibilityTrigger()
    system_boundary: SystemBoundaryTrigger = SystemBoundaryTrigger()
    revenue_opportunity: RevenueTrigger = RevenueTrigger()
    learned: LearnedTrigger = LearnedTrigger()

    def by_code(self) -> dict[str, Trigger]:
        """The settings of every trigger except `learned`, keyed by trigger code."""
        found: dict[str, Trigger] = {}
        for name, field in type(self).model_fields.items():
            value = getattr(self, name)
            if isinstance(value, Trigger):
                found[field.alias or name] = value
        return found


# --- rules and boosts -------------------------------------------------------------------


class Condition(_Strict):
    """When a rule or boost applies. Every stated part must hold; an empty one always does."""

    any: list[TriggerCode] = []  # at least one (or min_triggers) of these fired
    all: list[TriggerCode] = []  # every one of these fired
    min_triggers: Annotated[int, _between(1, 20)] | None = None
    channels: list[Channel] = []
    intents: list[Label] = []
    tiers: list[Label] = []
    revenue: list[Label] = []  # Signals.revenue kinds, e.g. retention


class Rule(_Strict):
    """Where an escalation goes. Rules are tried in order; the first match wins."""

    name: Name
    description: str = ""
    when: Condition = Condition()
    queue: Name
    priority: Priority
    skills: list[Label] | None = None  # replaces the queue's skills when given
    entitlement: Label | None = None  # else the customer's tier, when the queue serves it


class PriorityBoost(_Strict):
    """Make matching escalations more urgent: priority minus `by`, never above 1."""

    when: Condition
    by: Annotated[int, _between(1, 4)] = 1


# --- what the bot finishes itself -------------------------------------------------------


class Capability(_Strict):
    """A flow the bot finishes itself (selling tickets, a password reset, a refund's status).

    A turn is in the flow when its NLU intent is one of `intents` (any case; with at least
    `min_confidence` when set) or, on a turn without an intent, when a topic in `topics` was
    detected. On such a turn the flow's topics do not fire their trigger (a revenue kind its
    part of `revenue_opportunity`, a risk family `risk.<family>`) and neither do the triggers
    in `defer`: unless the bot cannot finish (its action failed on the turn) or the customer
    insists (asks for a human, repeats the ask, the frustration trigger fires), and then
    everything fires as usual. Checks that need the whole policy (a mandatory trigger or
    topic, duplicate names, an intent in two flows) are in checks.py.
    """

    name: Name
    description: str = ""
    intents: list[Label] = []  # the bot's NLU intents for the flow, any case
    min_confidence: Unit | None = None  # the NLU confidence an intent needs to count
    topics: list[Topic] = []
    defer: list[TriggerCode] = []

    @model_validator(mode="after")
    def _recognised_and_holds_something(self) -> Capability:
        if not self.intents and not self.topics:
            raise ValueError("a flow needs `intents` or `topics`: how a turn is known to be in it")
        if not self.topics and not self.defer:
            raise ValueError("a flow needs `topics` or `defer`: what the bot finishes itself")
        if self.min_confidence is not None and not self.intents:
            raise ValueError("min_confidence applies to `intents`, and the flow lists none")
        return self


class SelfService(_Strict):
    """The earlier form of a capability, kept with its meaning: `defer` holds, whatever happens.

    On a turn whose intent is listed with at least `min_confidence`, the `defer` triggers do
    not fire, even when the customer insists or the bot's action fails (other triggers still
    fire). `bot_capabilities` replaces it; policy files that still have it load unchanged.
    """

    name: Name
    description: str = ""
    intents: Annotated[list[Label], Field(min_length=1)]  # the bot's NLU intent, any case
    min_confidence: Unit  # the bot's NLU confidence on the turn must be at least this
    defer: Annotated[list[TriggerCode], Field(min_length=1)]


# --- queues -----------------------------------------------------------------------------


def _positive_share(value: float) -> float:
    if not 0 < value <= 1:
        raise ValueError(f"must be above 0 and at most 1, got {_show(value)}")
    return value


class Sla(_Strict):
    """Service level: `target` share of handoffs answered within `seconds`."""

    target: Annotated[float, AfterValidator(_positive_share)] = 0.8
    seconds: Annotated[int, _between(1, 86_400)] = 20


class RelaxStep(_Strict):
    """One step of routing relaxation, taken when a handoff has waited `after_seconds`."""

    after_seconds: Seconds
    drop_optional_skills: bool = False  # optional skills stop being required
    widen_to: Name | None = None  # the handoff may go to this broader queue's agents

    @model_validator(mode="after")
    def _does_something(self) -> RelaxStep:
        if not self.drop_optional_skills and self.widen_to is None:
            raise ValueError("a relax step needs drop_optional_skills: true or widen_to")
        return self


# What a customer facing a long wait is offered instead of waiting: a human calls back
# when free, or an asynchronous ticket answered within the queue's expected response time.
# A Literal, not an enum, so a dumped policy stays plain YAML.
Offer = Literal["callback", "ticket"]


class RightChannel(_Strict):
    """Offer `offer` instead of waiting when the predicted wait exceeds `after_seconds`."""

    after_seconds: Seconds = 300
    offer: Offer = "callback"


class Queue(_Strict):
    """A human desk: who can take the handoff, how fast, and what must be ready first."""

    description: str = ""
    skills: Annotated[list[Label], Field(min_length=1)]
    optional_skills: list[Label] = []
    languages: list[Language] = []  # empty: routing checks agents' languages only
    channels: list[Channel] = []  # empty: every channel
    entitlement: list[Label] = []  # customer tiers served; empty: all
    sla: Sla = Sla()
    required_fields: list[Label] = []
    verified: bool = False  # verified humans only; needs a disclosure
    disclosure: Text | None = None
    playbook: list[Text] = []
    overflow: Name | None = None
    hours: Hours | None = None
    # Routing: relaxation steps in order of `after_seconds`, the right-channel
    # offer, and how soon a ticket (out of hours, or the offer taken) is answered.
    relax: list[RelaxStep] = []
    right_channel: RightChannel | None = None
    ticket_response_seconds: Annotated[int, _between(60, 604_800)] = 14_400

    @model_validator(mode="after")
    def _relax_in_order(self) -> Queue:
        times = [step.after_seconds for step in self.relax]
        if times != sorted(times):
            raise ValueError(f"relax: steps must be in order of after_seconds, got {times}")
        return self


class Defaults(_Strict):
    """What applies when no rule says otherwise."""

    queue: Name
    priority: Priority = 3
    gather_timeout_seconds: Annotated[int, _between(0, 3600)] = 120
    transcript_turns: Annotated[int, _between(1, 500)] = 20
    language: Language = "en"
    # Routing: a waiting handoff gains this many priority points per minute of
    # wait (1 = a minute of waiting is worth one priority level); the handle time assumed
    # until a queue has measured its own.
    priority_points_per_minute: Annotated[float, _between(0, 60)] = 1.0
    handle_time_seconds: Annotated[int, _between(1, 86_400)] = 300
    # Credited waiting: a waiting handoff of this priority counts as having waited this many
    # seconds more, in the queue's order and in its wait estimate (a head start finer than a
    # priority level).
    priority_credit_seconds: dict[Priority, Annotated[float, _between(0, 86_400)]] = {}


class Cases(_Strict):
    """How handoffs attach to the customer's open case in the CRM."""

    # A handoff for a customer with a case on the same topic opened less than this ago
    # attaches to that case instead of opening another.
    attach_window_hours: Annotated[float, _between(0, 8760)] = 72.0


class ReplyTemplate(_Strict):
    """A first reply for the human: the starting set of suggested replies, before outcomes
    rank what agents actually send."""

    macro_id: Name
    text: Text
    triggers: list[TriggerCode] = []  # offered when one of these fired; empty: any trigger
    topics: list[Name] = []  # offered for these case topics; empty: any topic


class Policy(_Strict):
    """A whole escalation policy file."""

    version: Annotated[str, Field(min_length=1, max_length=100)]
    description: str = ""
    triggers: Triggers = Triggers()
    bot_capabilities: list[Capability] = []
    self_service: list[SelfService] = []  # the earlier form of bot_capabilities
    rules: list[Rule] = []
    priority_boosts: list[PriorityBoost] = []
    queues: Annotated[dict[Name, Queue], Field(min_length=1)]
    language_routing: dict[Language, Name] = {}
    playbooks: dict[Label, list[Text]] = {}
    defaults: Defaults
    cases: Cases = Cases()
    replies: list[ReplyTemplate] = []

    @model_validator(mode="after")
    def _references(self) -> Policy:
        problems = reference_problems(self.model_dump(by_alias=True, mode="json"))
        if problems:
            raise ReferenceErrors(problems)
        return self

    @cached_property
    def compiled(self) -> CompiledPolicy:
        """Lookup tables for `decide`, built once per policy object."""
        from warmhandoff.streams.policy.compiled import (
            compile_policy,  # compiled.py imports this module
        )

        return compile_policy(self)

    def model_copy(self, *, update: Mapping[str, Any] | None = None, deep: bool = False) -> Self:
        """A copy whose decision tables are rebuilt from its own fields."""
        copied = super().model_copy(update=update, deep=deep)
        copied.__dict__.pop("compiled", None)  # cached_property state is copied with __dict__
        return copied
