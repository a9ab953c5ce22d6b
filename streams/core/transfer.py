"""Transfer stage logic: deterministic ids, the handoff request and the bot directives.

Ids are uuid5 of the conversation and what they name (the escalation number, the turn), so
reprocessing a turn after a crash yields the same ids and every consumer can deduplicate.
No wait is announced here: the worker has no view of the desk. The live router
(streams/routing) estimates the wait from the queue and tells the customer their place in line
and a range. Pure: no Faust, no Kafka.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Sequence
from datetime import datetime, timedelta

from warmhandoff.streams.contract.models import (
    Bundle,
    Channel,
    Directive,
    DirectiveType,
    HandoffRequest,
    Routing,
    TriggerHit,
    WaitEstimate,
)
from warmhandoff.streams.core.case import case_for
from warmhandoff.streams.core.conversation import ConversationState, PendingTransfer

NAMESPACE = uuid.UUID("6f1d2c9e-1f6b-5b6e-9a57-7761726d6861")
_NAMESPACE_BYTES = NAMESPACE.bytes


def _uuid5(name: str) -> str:
    """`str(uuid.uuid5(NAMESPACE, name))` without the UUID object (a third of the cost).

    Every turn gets a decision id, so this runs per turn; a unit test checks it against
    `uuid.uuid5`.
    """
    digest = bytearray(
        hashlib.sha1(_NAMESPACE_BYTES + name.encode(), usedforsecurity=False).digest()[:16]
    )
    digest[6] = (digest[6] & 0x0F) | 0x50  # version 5
    digest[8] = (digest[8] & 0x3F) | 0x80  # RFC 4122 variant
    h = digest.hex()
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


def handoff_id(conversation_id: str, escalation_number: int) -> str:
    """The id of a conversation's n-th handoff (stable across reprocessing)."""
    return _uuid5(f"handoff/{conversation_id}/{escalation_number}")


def decision_id(conversation_id: str, seq: int, cause: str = "turn") -> str:
    """The id of the decision taken on a turn (or on a timer for that turn)."""
    return _uuid5(f"decision/{conversation_id}/{seq}/{cause}")


def directive_id(conversation_id: str, seq: int, kind: DirectiveType) -> str:
    """The id of a directive caused by a turn."""
    return _uuid5(f"directive/{conversation_id}/{seq}/{kind.value}")


def describe_wait(wait: WaitEstimate) -> str:
    """An honest range in words: "about 2 to 4 minutes"."""
    low, high = wait.low_seconds, wait.high_seconds
    if high < 90:
        return f"about {max(1, low)} to {high} seconds"
    return f"about {max(1, round(low / 60))} to {max(2, round(high / 60))} minutes"


def build_request(
    state: ConversationState,
    pending: PendingTransfer,
    bundle: Bundle,
    *,
    turn_ts: datetime,
    now: datetime,
    wait: WaitEstimate | None = None,
    policy_version: str,
    case_window_hours: float = 72.0,
) -> HandoffRequest:
    """The handoff request for the conversation's next escalation (state already counted)."""
    started = datetime.fromisoformat(state.first_unmet_need_ts or pending.ts)
    channel = Channel(state.channel) if state.channel else None
    hid = handoff_id(state.conversation_id, state.escalations)
    triggers = [TriggerHit.model_validate(t) for t in pending.triggers]
    case = case_for(
        bundle.identity.customer_id,
        (t.code for t in triggers),
        started,
        case_window_hours,
        handoff_id=hid,
    )
    return HandoffRequest(
        handoff_id=hid,
        conversation_id=state.conversation_id,
        escalation_number=state.escalations,
        decision_id=pending.decision_id,
        created_at=now,
        turn_ts=turn_ts,
        first_unmet_need_at=started,
        channel=channel,
        triggers=triggers,
        routing=Routing(
            queue=pending.queue,
            skills=pending.skills,
            language=pending.language,
            entitlement=pending.entitlement,
            channel=channel,
            priority=pending.priority,
            sla_seconds=pending.sla_seconds,
            sla_target=pending.sla_target,
            sla_deadline=started + timedelta(seconds=pending.sla_seconds),
        ),
        wait=wait,
        policy_version=policy_version,
        bundle=bundle,
        case=case,
    )


def directive(
    kind: DirectiveType,
    conversation_id: str,
    seq: int,
    now: datetime,
    message: str,
    *,
    handoff: str | None = None,
    fields: Sequence[str] = (),
    queue: str | None = None,
    wait: WaitEstimate | None = None,
) -> Directive:
    """A directive to the bot, with a deterministic id."""
    return Directive(
        directive_id=directive_id(conversation_id, seq, kind),
        conversation_id=conversation_id,
        type=kind,
        ts=now,
        seq=seq,
        handoff_id=handoff,
        message=message,
        fields=list(fields),
        queue=queue,
        wait=wait,
    )


def status_message(queue: str, missing: Sequence[str]) -> str:
    """What the customer is told when the transfer goes out (the router follows with the wait)."""
    text = (
        f"I'm connecting you with a {queue.replace('_', ' ')} specialist who will see our "
        f"conversation so far, so you won't need to repeat yourself. "
        f"I'll tell you your place in line and how long the wait is in a moment."
    )
    if missing:
        text += " They may ask you for a couple of details I couldn't collect."
    return text


def gather_message(fields: Sequence[str]) -> str:
    """What the bot asks before the transfer so the human has what they need."""
    names = ", ".join(f.replace("_", " ") for f in fields)
    return f"Before I connect you with a specialist, could you give me your {names}?"
