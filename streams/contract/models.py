"""Wire models: the JSON value of every topic in topics.yaml.

Every model carries `schema_version`. Inputs the project owns (turn events, handoff events,
agent presence) forbid unknown fields so a typo is a dead letter with a reason, not a
silently ignored field; bots put their own data under `metadata`. Changes to published
models are additive only: new optional fields, never a renamed or retyped one (docs/operations.md,
"Schema evolution").
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Annotated, Any, Literal, Self

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

SCHEMA_VERSION = 1

MAX_TEXT_CHARS = 20_000
MAX_ATTACHMENTS = 20

Id = Annotated[str, Field(min_length=1, max_length=200)]
Short = Annotated[str, Field(max_length=200)]
Unit = Annotated[float, Field(ge=0.0, le=1.0)]


class Channel(StrEnum):
    chat = "chat"
    voice = "voice"
    email = "email"
    sms = "sms"
    social = "social"


class Role(StrEnum):
    customer = "customer"
    bot = "bot"
    agent = "agent"
    system = "system"


class BotStatus(StrEnum):
    ok = "ok"
    failed = "failed"
    not_permitted = "not_permitted"
    unavailable = "unavailable"


_set = object.__setattr__


@dataclass(frozen=True, slots=True)
class _Layout:
    """What `_Out.trusted` needs to know about a model's fields."""

    order: tuple[str, ...]  # declared order, which is the JSON order
    required: frozenset[str]  # no default, or a list or dict default that must not be shared
    defaults: tuple[tuple[str, Any], ...]


_LAYOUTS: dict[type[BaseModel], _Layout] = {}


def _layout(cls: type[BaseModel]) -> _Layout:
    found = _LAYOUTS.get(cls)
    if found is None:
        fields = cls.model_fields
        found = _LAYOUTS[cls] = _Layout(
            order=tuple(fields),
            required=frozenset(
                name
                for name, info in fields.items()
                if info.is_required() or isinstance(info.default, list | dict | set)
            ),
            defaults=tuple((name, info.default) for name, info in fields.items()),
        )
    return found


class _In(BaseModel):
    """An input the project owns: strict about unknown fields."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class _Out(BaseModel):
    """An output the project publishes."""

    model_config = ConfigDict(extra="forbid")

    @classmethod
    def trusted(cls, **values: Any) -> Self:
        """Build from values the pipeline computed itself, already of the declared types.

        Validation costs 3-5 µs a model, as much as a detector, on every turn; values built
        from a validated `Turn` and the detectors need none. Fields keep the declared order,
        so the JSON is exactly the validated model's. Fields with a list or dict default must
        be given (a shared default would leak between instances); others default as declared.
        Given every field in declared order, nothing is copied. Not for models with private
        attributes or a post-init hook (no wire model has either).
        """
        layout = _layout(cls)
        if tuple(values) != layout.order:
            unknown = values.keys() - set(layout.order)
            if unknown or not layout.required <= values.keys():
                missing = sorted(layout.required - values.keys())
                raise TypeError(f"{cls.__name__}: missing {missing}, unknown {sorted(unknown)}")
            values = {name: values.get(name, default) for name, default in layout.defaults}
        model = cls.__new__(cls)
        _set(model, "__dict__", values)
        _set(model, "__pydantic_fields_set__", set(values))
        _set(model, "__pydantic_extra__", None)
        _set(model, "__pydantic_private__", None)
        return model


# --- conversation.turns ---------------------------------------------------------------


class Customer(_In):
    id: Short | None = None
    tier: Short | None = None
    verified: bool | None = None
    churn_risk: Unit | None = None
    lifetime_value: Annotated[float, Field(ge=0.0)] | None = None
    accessibility: Annotated[list[Short], Field(max_length=20)] = []
    segment: Short | None = None


class Nlu(_In):
    intent: Short | None = None
    confidence: Unit | None = None
    fallback: bool = False
    slots: Annotated[dict[Short, Short], Field(max_length=50)] = {}


class BotAction(_In):
    action: Short
    status: BotStatus = BotStatus.ok
    detail: Short | None = None


class Attachment(_In):
    name: Short
    url: Annotated[str, Field(max_length=2000)] | None = None
    content_type: Short | None = None
    size_bytes: Annotated[int, Field(ge=0)] | None = None


class Turn(_In):
    """One conversation turn, published by a bot on `conversation.turns`."""

    schema_version: Literal[1] = 1
    event_id: Id | None = None
    conversation_id: Id
    seq: Annotated[int, Field(ge=0, le=2**53)]
    ts: AwareDatetime
    channel: Channel | None = None
    role: Role
    text: Annotated[str, Field(max_length=MAX_TEXT_CHARS)]
    locale: Annotated[str, Field(max_length=35)] | None = None
    customer: Customer | None = None
    nlu: Nlu | None = None
    bot: BotAction | None = None
    journey_stage: Short | None = None
    attachments: Annotated[list[Attachment], Field(max_length=MAX_ATTACHMENTS)] = []
    metadata: Annotated[dict[Short, str | int | float | bool | None], Field(max_length=50)] = {}


# --- conversation.signals -------------------------------------------------------------


class SystemBoundary(_Out):
    action: str
    status: BotStatus


class Signals(_Out):
    """Detector output for one turn. Scores are in fixed ranges so thresholds are portable."""

    schema_version: Literal[1] = 1
    conversation_id: str
    seq: int
    ts: datetime
    role: Role
    channel: Channel | None = None
    # [-1, 1], this turn (customer turns only; 0 otherwise), read in context: a turn that
    # only declines, closes or thanks ("no, thank you") is never negative
    sentiment: float = 0.0
    sentiment_trend: float = 0.0  # smoothed customer sentiment over the conversation
    frustration: float = 0.0  # [0, 1], the customer's dissatisfaction over the conversation
    human_request: bool = False
    confidence: float | None = None  # the bot's NLU confidence for this turn
    low_confidence_streak: int = 0
    fallback_streak: int = 0
    repeat: bool = False  # customer repeated or rephrased an earlier turn
    repeat_count: int = 0
    dissatisfied: bool = False  # explicit cue: "not working", "that's wrong", ...
    # This turn alone is sharply dissatisfied: an insult, a threat to leave, or an unhappy
    # turn said with anger, swearing or shouting.
    sharp: bool = False
    risk: list[str] = []  # families without the `risk.` prefix
    vip: bool = False
    tier: str | None = None
    churn_risk: float | None = None
    lifetime_value: float | None = None
    language: str = "und"  # ISO 639-1, "und" when the text is too short or unclear to tell
    language_confidence: float = 0.0
    language_hint: str | None = None  # with "und": the likeliest language, if any
    bot_language: str | None = None  # from the turn's locale
    language_mismatch: bool = False
    accessibility: list[str] = []
    system_boundary: SystemBoundary | None = None
    revenue: list[str] = []  # purchase, upgrade, retention
    intent: str | None = None
    # The bot's id of the customer (a pseudonymous id, never a name): the learner tells a
    # customer who comes back within 24 hours from a contained conversation by it.
    customer_id: str | None = None


# --- escalation.decisions -------------------------------------------------------------


class Action(StrEnum):
    """What the pipeline did on a turn (replay's `action`)."""

    none = "none"  # nothing to do
    clarify = "clarify"  # low confidence: the bot asks a clarifying question first
    gather = "gather"  # escalation decided; the bot collects required fields first
    escalate = "escalate"  # handoff request produced
    owned = "owned"  # a human owns the conversation: the bot assists, nothing escalates


class TriggerHit(_Out):
    code: str
    value: float | str | bool | list[str] | None = None
    threshold: float | str | list[str] | None = None


class Routing(_Out):
    queue: str
    skills: list[str] = []
    language: str | None = None
    entitlement: str | None = None
    channel: Channel | None = None
    priority: int
    sla_seconds: int
    sla_target: float
    sla_deadline: datetime


class Decision(_Out):
    schema_version: Literal[1] = 1
    decision_id: str
    conversation_id: str
    seq: int
    ts: datetime  # the turn's timestamp
    action: Action
    reason: str
    triggers: list[TriggerHit] = []
    priority: int | None = None
    queue: str | None = None
    skills: list[str] = []
    missing_fields: list[str] = []
    handoff_id: str | None = None
    policy_version: str
    signals: Signals
    # Added with the learned trigger: the learned model's score on this turn (shadow or
    # active), or None when no model is loaded; recorded whatever the trigger's mode, never
    # used in shadow.
    learned_score: float | None = None


# --- handoff.requests -----------------------------------------------------------------


class TranscriptLine(_Out):
    seq: int
    ts: datetime
    role: Role
    text: str  # redacted


class Step(_Out):
    seq: int
    action: str
    status: BotStatus
    detail: str | None = None


class Identity(_Out):
    customer_id: str | None = None
    verified: bool = False
    tier: str | None = None


class Summary(_Out):
    wants: str
    tried: str
    why: str
    text: str


class SuggestedReply(_Out):
    """A first reply the human may send as is or edit: from the policy's starting set, or
    ranked from what agents sent before and how those handoffs ended."""

    text: str  # redacted; customer-facing
    macro_id: str | None = None
    source: Literal["policy", "learned"] = "policy"
    score: float | None = None  # smoothed share of uses that ended well (learned only)
    uses: int = 0  # handoffs it was sent in (learned only)


class Bundle(_Out):
    transcript: list[TranscriptLine]
    entities: dict[str, list[str]]
    identity: Identity
    steps_tried: list[Step]
    intents: list[str] = []
    summary: Summary
    next_steps: list[str]
    fields: dict[str, str] = {}
    missing_fields: list[str] = []
    disclosure_shown: bool = False
    attachments: list[dict[str, str | None]] = []
    accessibility: list[str] = []
    redactions: int = 0
    suggested_replies: list[SuggestedReply] = []


class WaitEstimate(_Out):
    low_seconds: int
    high_seconds: int
    method: str


class CaseRef(_Out):
    """The customer's case this handoff belongs to: sinks upsert on `key`, so handoffs of one
    customer on one topic within the policy's window share a case, whichever sink instance
    writes it."""

    key: str
    customer_id: str
    topic: str


class HandoffRequest(_Out):
    schema_version: Literal[1] = 1
    handoff_id: str
    conversation_id: str
    escalation_number: int
    decision_id: str
    created_at: datetime
    turn_ts: datetime  # the turn that completed the decision (latency is measured from it)
    first_unmet_need_at: datetime  # the SLA clock starts here
    channel: Channel | None = None
    triggers: list[TriggerHit]
    routing: Routing
    # The live router announces the real wait (status directives with position and range);
    # at request time there is none yet. Kept for the CRM when a router sets it.
    wait: WaitEstimate | None = None
    policy_version: str
    bundle: Bundle
    case: CaseRef | None = None  # None without a customer id: the sink opens a new case


# --- bot.directives -------------------------------------------------------------------


class DirectiveType(StrEnum):
    status = "status"  # tell the customer where they stand and the wait
    gather = "gather"  # ask for the listed fields
    disclose = "disclose"  # show the disclosure text before the transfer
    clarify = "clarify"  # ask a clarifying question
    pause = "pause"  # stop answering: a human owns the conversation (assist mode)
    resume = "resume"  # the bot owns the conversation again
    survey = "survey"  # ask the one-question CSAT survey; the answer comes back as a csat event


class Directive(_Out):
    schema_version: Literal[1] = 1
    directive_id: str
    conversation_id: str
    type: DirectiveType
    ts: datetime
    seq: int  # the turn that caused it
    handoff_id: str | None = None
    message: str  # a customer-facing text the bot may use as is
    fields: list[str] = []
    queue: str | None = None
    wait: WaitEstimate | None = None
    position: int | None = None


# --- deadletter -----------------------------------------------------------------------


class DeadLetter(_Out):
    schema_version: Literal[1] = 1
    reason: str  # a short code: not_utf8, not_json, invalid, too_large, unsupported_version,
    # wrong_key, wrong_partition
    error: str  # what exactly is wrong (no customer text)
    stage: str
    source_topic: str
    partition: int
    offset: int
    key_b64: str | None = None
    value_b64: str  # the original bytes, redacted of card numbers where decodable
    received_at: datetime


# --- handoff.events, agent.presence, queue.health, alerts, learning.examples ----------


class HandoffEventType(StrEnum):
    delivered = "delivered"
    queued = "queued"
    offered = "offered"
    accepted = "accepted"
    resolved = "resolved"
    abandoned = "abandoned"
    cancelled = "cancelled"
    failed = "failed"
    handed_back = "handed_back"
    csat = "csat"
    transferred = "transferred"  # the human moved the handoff to another queue (`queue`)
    replied = "replied"  # the human's first reply to the customer (`reply`, `macro_id`)


class HandoffEvent(_In):
    schema_version: Literal[1] = 1
    event_id: Id
    handoff_id: Id
    conversation_id: Id
    type: HandoffEventType
    ts: AwareDatetime
    source: Short
    agent_id: Short | None = None
    queue: Short | None = None
    reason: Short | None = None
    csat: Annotated[int, Field(ge=1, le=5)] | None = None
    reply: Annotated[str, Field(max_length=4000)] | None = None  # redacted by the desk
    macro_id: Short | None = None


class PresenceState(StrEnum):
    available = "available"
    busy = "busy"
    away = "away"
    offline = "offline"


class AgentPresence(_In):
    schema_version: Literal[1] = 1
    agent_id: Id
    ts: AwareDatetime
    state: PresenceState
    skills: Annotated[dict[Short, Annotated[int, Field(ge=1, le=10)]], Field(max_length=100)] = {}
    languages: Annotated[list[Short], Field(max_length=50)] = []
    channels: Annotated[list[Channel], Field(max_length=5)] = []
    capacity: Annotated[int, Field(ge=0, le=100)] = 1
    active: Annotated[int, Field(ge=0)] = 0
    tiers: Annotated[list[Short], Field(max_length=20)] = []


class QueueHealth(_Out):
    schema_version: Literal[1] = 1
    queue: str
    ts: datetime
    waiting: int
    oldest_wait_seconds: float
    agents_available: int
    service_level: float | None = None  # None: nobody answered or abandoned in the window
    sla_target: float
    sla_seconds: int
    # Added with routing; defaults keep older producers valid.
    agents_eligible: int = 0  # on shift with the queue's skills, language and tier
    answered: int = 0  # in the window
    abandoned: int = 0  # in the window
    asa_seconds: float | None = None  # average speed of answer (time in the queue)
    abandon_rate: float | None = None  # abandoned / (answered + abandoned)
    overflow_engaged: bool = False  # service level below target or oldest wait past SLA
    window_seconds: float | None = None  # the window the figures cover


class Alert(_Out):
    schema_version: Literal[1] = 1
    alert_id: str
    ts: datetime
    kind: str
    severity: Literal["info", "warning", "critical"]
    queue: str | None = None
    message: str


class LearningExample(_Out):
    schema_version: Literal[1] = 1
    example_id: str
    conversation_id: str
    decision_id: str
    handoff_id: str | None = None
    label: str
    features: dict[str, Any]
    outcome: dict[str, Any] = {}


class LearnedModelSnapshot(_Out):
    """The learned trigger's model on `learning.model` (compacted, key "learned"): JSON
    numbers only, so restoring one never runs code (streams/learning/scorer.py)."""

    schema_version: Literal[1] = 1
    format: str  # "warmhandoff.learned.logreg/1"
    version: str
    examples: int
    positives: int = 0
    learning_rate: float
    l2: float
    counts: dict[str, int]
    means: dict[str, float]
    vars: dict[str, float]
    weights: dict[str, float]
    intercept: float
    n_iterations: int


# --- replay ---------------------------------------------------------------------------


class ReplayLine(_Out):
    """One line of `warmhandoff replay` output (DESIGN.md, "Offline replay")."""

    conversation_id: str | None
    seq: int | None
    action: Action | Literal["rejected"]
    triggers: list[str] = []
    priority: int | None = None
    queue: str | None = None
    handoff_id: str | None = None
    missing_fields: list[str] = []
    reason: str | None = None
    signals: dict[str, Any] = {}


TOPIC_MODELS: dict[str, type[BaseModel]] = {
    "conversation.turns": Turn,
    "conversation.signals": Signals,
    "escalation.decisions": Decision,
    "handoff.requests": HandoffRequest,
    "bot.directives": Directive,
    "handoff.events": HandoffEvent,
    "agent.presence": AgentPresence,
    "queue.health": QueueHealth,
    "alerts": Alert,
    "learning.examples": LearningExample,
    "deadletter": DeadLetter,
}
"""The value model of every public topic, by its logical name in topics.yaml."""
