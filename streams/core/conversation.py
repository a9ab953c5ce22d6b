"""Per-conversation state: what the pipeline remembers between turns.

One `ConversationState` per conversation lives in the Faust table `conversations` (RocksDB in
real workers), keyed by conversation_id on the same partition as its turns. Everything in it
is already redacted: card numbers, emails, phone numbers and national ids never reach the
table, its changelog or anything downstream.

Updates are idempotent under Kafka's at-least-once redelivery: `last_seq` is the highest turn
applied, and a turn at or below it is a replay and changes nothing.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

import orjson

STATE_VERSION = 1
MAX_FINGERPRINTS = 4
MAX_STEPS = 10
MAX_INTENTS = 5
MAX_ENTITY_VALUES = 5


@dataclass(slots=True)
class PendingTransfer:
    """An escalation decided but waiting for required fields (a `gather` was sent)."""

    decision_id: str
    seq: int
    ts: str  # ISO timestamp of the turn that decided the escalation
    deadline: str  # ISO timestamp: after it the transfer goes ahead, missing fields marked
    reason: str
    rule: str | None
    queue: str
    priority: int
    skills: list[str]
    language: str | None
    entitlement: str | None
    required_fields: list[str]
    disclosure: str | None
    next_steps: list[str]
    sla_seconds: int
    sla_target: float
    triggers: list[dict[str, Any]]


@dataclass(slots=True)
class ConversationState:
    """What the pipeline knows about one conversation (redacted, bounded in size)."""

    conversation_id: str
    v: int = STATE_VERSION
    last_seq: int = -1
    turns: int = 0
    customer_turns: int = 0
    sentiment_trend: float = 0.0
    frustration: float = 0.0  # dissatisfaction over the conversation, in [0, 1]
    low_confidence_streak: int = 0
    fallback_streak: int = 0
    failed_actions: int = 0
    # Bot actions that failed since the customer last wrote: the customer's next turn answers
    # them, and the dissatisfaction estimate counts them there (core/dissatisfaction.py).
    recent_failures: int = 0
    repeat_count: int = 0
    clarifications: int = 0
    fingerprints: list[list[str]] = field(default_factory=list)
    transcript: list[dict[str, Any]] = field(default_factory=list)
    entities: dict[str, list[str]] = field(default_factory=dict)
    fields: dict[str, str] = field(default_factory=dict)
    steps: list[dict[str, Any]] = field(default_factory=list)
    intents: list[str] = field(default_factory=list)
    customer: dict[str, Any] = field(default_factory=dict)
    attachments: list[dict[str, str | None]] = field(default_factory=list)
    locale: str | None = None
    channel: str | None = None
    redactions: int = 0
    escalations: int = 0
    handoff_id: str | None = None  # open handoff: the conversation is not escalated again
    first_unmet_need_ts: str | None = None
    first_unmet_need_seq: int | None = None
    pending: PendingTransfer | None = None
    # The lifecycle of the conversation's latest handoff (streams/core/lifecycle.py). It outlives
    # `handoff_id`, which is cleared on handback, so a late CSAT still finds its handoff.
    handoff_status: str | None = None  # a lifecycle.HandoffStatus value
    last_handoff_id: str | None = None
    handoff_deadline: str | None = None  # ISO: delivery or accept deadline, None when none
    delivery_attempts: int = 0
    reroutes: int = 0
    agent_id: str | None = None
    recent_event_ids: list[str] = field(default_factory=list)
    # The last published HandoffRequest (JSON, already redacted) while the handoff is open,
    # so a retry or re-route re-publishes exactly what sinks saw; dropped when it closes.
    handoff_request: dict[str, Any] | None = None

    def dumps(self) -> bytes:
        """Serialise for the table (compact JSON)."""
        return orjson.dumps(self)

    @classmethod
    def loads(cls, raw: bytes) -> ConversationState:
        """Read a state written by `dumps`."""
        data = orjson.loads(raw)
        pending = data.pop("pending", None)
        state = cls(**data)
        if pending is not None:
            state.pending = PendingTransfer(**pending)
        return state

    def as_dict(self) -> dict[str, Any]:
        """A plain dict (for tests and debugging)."""
        return asdict(self)


def remember(items: list[Any], item: Any, limit: int) -> None:
    """Append `item` and keep only the last `limit` items (in place)."""
    items.append(item)
    if len(items) > limit:
        del items[: len(items) - limit]


def merge_entities(known: dict[str, list[str]], found: dict[str, list[str]]) -> None:
    """Add newly found entity values, keeping first-seen order and a bounded count."""
    for kind, values in found.items():
        have = known.setdefault(kind, [])
        for value in values:
            if value not in have and len(have) < MAX_ENTITY_VALUES:
                have.append(value)
