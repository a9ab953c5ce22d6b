"""The handoff lifecycle: its states, the transition table, and what each event or deadline does.

A handoff moves requested → delivered (a sink acknowledged it) → queued → offered → accepted
→ resolved, or ends abandoned, cancelled, failed or handed back. Events come from sinks, CRMs
and the contact centre on `handoff.events`; `apply_event` checks each against `TRANSITIONS`
(data, tested as a table) and returns what to publish, or why it was not applied. `expire`
handles a handoff not delivered or not accepted in time; `cancel_by_customer` a customer who
no longer wants the human; `is_cancel_request` recognises that wish.

Ownership: while a handoff is open (`state.handoff_id` set) the pipeline never escalates the
conversation again. Accepted → `pause` (the bot stays in the channel in assist mode). Closed
by the human or the customer → `resume`, and `close` resets the escalation state (frustration,
trend, streaks, fingerprints, the SLA clock) so old context cannot start a new handoff; the
transcript, entities and the escalation counter stay (the next handoff gets a new id).

Pure: no Faust, no Kafka, no clock; `now` is a parameter and every id is a uuid5 of what it
names, so reprocessing after a crash produces the same ids. Events are deduplicated by
`event_id` (a bounded list of recent ids in the state).
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from warmhandoff.streams.contract.models import (
    Directive,
    DirectiveType,
    HandoffEvent,
    HandoffRequest,
)
from warmhandoff.streams.contract.models import HandoffEventType as E
from warmhandoff.streams.core.conversation import ConversationState, remember
from warmhandoff.streams.core.transfer import NAMESPACE
from warmhandoff.streams.detect.normalize import fold

#: How many recent event ids a conversation remembers for deduplication.
MAX_EVENT_IDS = 16
#: How many times a handoff nobody accepts is moved to an overflow queue.
MAX_REROUTES = 2
#: The `source` of the events the pipeline itself publishes.
SOURCE = "warmhandoff"
#: The `source` prefix of sinks' delivery reports (`sink:<kind>`).
SINK_SOURCE = "sink:"


class HandoffStatus(StrEnum):
    requested = "requested"  # the pipeline published the handoff request
    delivered = "delivered"  # a sink (CRM, contact centre) acknowledged it
    queued = "queued"  # waiting in a human queue
    offered = "offered"  # offered to a human agent
    accepted = "accepted"  # a human owns the conversation; the bot assists
    resolved = "resolved"
    abandoned = "abandoned"  # the customer left
    cancelled = "cancelled"  # withdrawn (by the customer, or the desk) before acceptance
    failed = "failed"  # could not be delivered, or the desk gave up
    handed_back = "handed_back"  # the human handed the conversation back to the bot


S = HandoffStatus
WAITING = frozenset({S.requested, S.delivered, S.queued, S.offered})
"""Open and not yet accepted: the customer is waiting for a human."""
CLOSED = frozenset({S.resolved, S.abandoned, S.cancelled, S.failed, S.handed_back})
# The main path in order: an event that would move a handoff backwards along it arrives
# late from an independent source (a sink's `delivered` after routing's `queued`): stale.
_PATH = (S.requested, S.delivered, S.queued, S.offered, S.accepted)
_ENDINGS_WAITING = {
    E.abandoned: S.abandoned,
    E.cancelled: S.cancelled,
    E.failed: S.failed,
    E.handed_back: S.handed_back,
    E.transferred: S.queued,
}

TRANSITIONS: dict[HandoffStatus, dict[E, HandoffStatus]] = {
    # Forward skips are legal: a CRM that never reports `queued` goes straight to accepted.
    S.requested: {
        E.delivered: S.delivered,
        E.queued: S.queued,
        E.offered: S.offered,
        E.accepted: S.accepted,
        **_ENDINGS_WAITING,
    },
    S.delivered: {
        E.queued: S.queued,
        E.offered: S.offered,
        E.accepted: S.accepted,
        **_ENDINGS_WAITING,
    },
    # Re-queued (moved to another queue), offered again to another agent, or declined.
    S.queued: {
        E.queued: S.queued,
        E.offered: S.offered,
        E.accepted: S.accepted,
        **_ENDINGS_WAITING,
    },
    S.offered: {
        E.offered: S.offered,
        E.queued: S.queued,
        E.accepted: S.accepted,
        **_ENDINGS_WAITING,
    },
    # A transfer between humans is a new `accepted` with the new agent.
    S.accepted: {
        E.accepted: S.accepted,
        E.resolved: S.resolved,
        E.handed_back: S.handed_back,
        E.abandoned: S.abandoned,
        E.transferred: S.queued,  # to another queue: the customer waits for a human again
    },
    **{status: {} for status in CLOSED},
}
"""status → event type → next status. Anything else is rejected; `csat` and `replied` never
move a handoff."""

#: Outcomes and the human's first reply: recorded for learning, never a change of status.
_NO_MOVE = frozenset({E.csat, E.replied})

# Directive messages are customer-facing (models.Directive): the instruction to the bot is
# the directive's type. `pause` means: stay in the channel in assist mode (look-ups and
# post-resolution tasks when the human asks), and do not answer the customer.
ACCEPTED_MESSAGE = "A specialist has joined the conversation and will take it from here."
RESUME_MESSAGE = "Thanks for your patience. I'm here again if there's anything else I can do."
CANCELLED_MESSAGE = (
    "No problem, I've cancelled the transfer. I'm still here: what else can I help you with?"
)
DESK_CANCELLED_MESSAGE = (
    "The transfer to a specialist was cancelled. I'm still here: what else can I help you with?"
)
FAILED_MESSAGE = (
    "I'm sorry, I couldn't reach a specialist right now. I've recorded your request so "
    "someone can contact you, and you can keep chatting with me in the meantime."
)

RESUME_TEXT = {
    S.resolved: RESUME_MESSAGE,
    S.handed_back: RESUME_MESSAGE,
    S.cancelled: DESK_CANCELLED_MESSAGE,
    # Failed: the status directive just told the customer; abandoned: they left. The resume
    # with no text hands the conversation back to the bot without a word to the customer.
    S.failed: "",
    S.abandoned: "",
}
"""What the bot may say when it owns the conversation again, by how the handoff ended."""


@dataclass(frozen=True, slots=True)
class Timeouts:
    """Deadlines of a handoff (settings: delivery/accept timeouts, delivery attempts)."""

    delivery_seconds: float = 30.0
    accept_seconds: float = 300.0
    max_delivery_attempts: int = 3


DEFAULT_TIMEOUTS = Timeouts()


#: What a passed deadline did (`Outcome.deadline`, the deadlines metric's labels).
DEADLINE_OUTCOMES = ("redelivered", "failed", "rerouted", "still_waiting")


@dataclass(slots=True)
class Outcome:
    """What an event or a deadline did: publish these, in this order, then save the state."""

    status: HandoffStatus | None = None  # after; None when rejected
    rejected: str | None = None  # reason code: duplicate, not_current, illegal_transition, ...
    directives: list[Directive] = field(default_factory=list)
    requests: list[HandoffRequest] = field(default_factory=list)  # re-published
    events: list[HandoffEvent] = field(default_factory=list)  # published on handoff.events
    time_to_accept: float | None = None  # seconds, on the first acceptance
    deadline: str | None = None  # redelivered, failed, rerouted, still_waiting


def status_of(state: ConversationState) -> HandoffStatus | None:
    """The lifecycle status of the conversation's latest handoff (None: never handed off)."""
    return HandoffStatus(state.handoff_status) if state.handoff_status else None


def open_handoff(
    state: ConversationState, request: HandoffRequest, now: datetime, timeouts: Timeouts
) -> None:
    """Record a handoff request just produced: status requested, delivery deadline armed."""
    state.handoff_id = state.last_handoff_id = request.handoff_id
    state.handoff_status = S.requested.value
    state.handoff_deadline = (now + timedelta(seconds=timeouts.delivery_seconds)).isoformat()
    state.delivery_attempts = 1
    state.reroutes = 0
    state.agent_id = None
    state.handoff_request = request.model_dump(mode="json")


def apply_event(
    state: ConversationState, event: HandoffEvent, now: datetime, timeouts: Timeouts
) -> Outcome:
    """Apply one lifecycle event, or say why it is not applied (state unchanged then)."""
    rejected = _check(state, event)
    if rejected:
        return Outcome(rejected=rejected)
    remember(state.recent_event_ids, event.event_id, MAX_EVENT_IDS)
    current = status_of(state)
    assert current is not None  # _check: the event is for the latest handoff
    if event.type in _NO_MOVE:
        return Outcome(status=current)
    new = TRANSITIONS[current][event.type]
    out = Outcome(status=new)
    state.handoff_status = new.value
    hid = event.handoff_id
    if event.type is E.transferred:
        return _transfer(state, event, now, timeouts, out)
    if current is S.requested and new is not S.accepted:
        # Delivered (or further): the accept clock starts now.
        state.handoff_deadline = (now + timedelta(seconds=timeouts.accept_seconds)).isoformat()
    if new is S.accepted:
        state.agent_id = event.agent_id
        state.handoff_deadline = None
        if current is not S.accepted:  # a transfer between humans keeps the bot paused
            out.time_to_accept = _time_to_accept(state, event.ts)
            out.directives.append(
                _directive(state, DirectiveType.pause, hid, "accepted", now, ACCEPTED_MESSAGE)
            )
    elif new in CLOSED:
        if new is S.failed:
            out.directives.append(
                _directive(state, DirectiveType.status, hid, "failed", now, FAILED_MESSAGE)
            )
        out.directives.append(
            _directive(state, DirectiveType.resume, hid, new, now, RESUME_TEXT[new])
        )
        close(state, new)
    return out


def _transfer(
    state: ConversationState, event: HandoffEvent, now: datetime, timeouts: Timeouts, out: Outcome
) -> Outcome:
    """A human moved the handoff to another queue: re-publish the request for that queue (the
    router queues it there), tell the customer, and start the accept clock again."""
    request = state.handoff_request
    assert request is not None and event.queue is not None  # open handoff; _check
    request["routing"]["queue"] = event.queue
    state.agent_id = None
    state.handoff_deadline = _after(now, timeouts.accept_seconds)
    out.requests.append(HandoffRequest.model_validate(request))
    text = (
        f"I'm transferring you to our {_words(event.queue)} team, who can help with this. "
        "Please stay in this conversation: everything you've told us goes with you."
    )
    cause = f"transferred/{event.event_id}"
    out.directives.append(
        _directive(
            state, DirectiveType.status, event.handoff_id, cause, now, text, queue=event.queue
        )
    )
    return out


def expire(
    state: ConversationState,
    now: datetime,
    timeouts: Timeouts,
    overflow: dict[str, str | None],
) -> Outcome | None:
    """Act on a handoff past its deadline (None when there is nothing due).

    Not delivered: re-publish the same request (sinks deduplicate on handoff_id) up to
    `max_delivery_attempts` publications, then fail it and tell the customer. Not accepted:
    re-route to the queue's overflow (`overflow`: queue → overflow queue, from the policy),
    or tell the customer honestly that they are still waiting, and wait again.
    """
    status = status_of(state)
    deadline = state.handoff_deadline
    if status not in WAITING or deadline is None or datetime.fromisoformat(deadline) > now:
        return None
    request = state.handoff_request
    hid = state.handoff_id
    assert request is not None and hid is not None  # set together by open_handoff
    cause = f"deadline/{deadline}"
    if status is S.requested:
        if state.delivery_attempts < timeouts.max_delivery_attempts:
            state.delivery_attempts += 1
            state.handoff_deadline = _after(now, timeouts.delivery_seconds)
            return Outcome(
                status=status,
                requests=[HandoffRequest.model_validate(request)],
                deadline="redelivered",
            )
        out = Outcome(status=S.failed, deadline="failed")
        out.events.append(_event(state, E.failed, cause, now, reason="not_delivered"))
        out.directives.append(
            _directive(state, DirectiveType.status, hid, "failed", now, FAILED_MESSAGE)
        )
        out.directives.append(
            _directive(state, DirectiveType.resume, hid, S.failed, now, RESUME_TEXT[S.failed])
        )
        close(state, S.failed)
        return out
    queue = request["routing"]["queue"]
    target = overflow.get(queue)
    state.handoff_deadline = _after(now, timeouts.accept_seconds)
    if target and target != queue and state.reroutes < MAX_REROUTES:
        state.reroutes += 1
        request["routing"]["queue"] = target
        event = _event(state, E.queued, cause, now, reason="rerouted_not_accepted", queue=target)
        state.handoff_status = S.queued.value
        out = Outcome(status=S.queued, deadline="rerouted", events=[event])
        out.requests.append(HandoffRequest.model_validate(request))
        text = (
            f"It's taking longer than expected to reach a {_words(queue)} specialist, so I've "
            f"also asked our {_words(target)} team. You keep your place, and you can keep "
            "chatting with me meanwhile."
        )
        out.directives.append(
            _directive(state, DirectiveType.status, hid, cause, now, text, queue=target)
        )
        return out
    text = (
        f"Our {_words(queue)} specialists are all still busy. You're still in line and you "
        "won't lose your place; you can keep chatting with me meanwhile."
    )
    out = Outcome(status=status, deadline="still_waiting")
    out.directives.append(
        _directive(state, DirectiveType.status, hid, cause, now, text, queue=queue)
    )
    return out


def cancel_by_customer(state: ConversationState, now: datetime) -> Outcome:
    """The customer withdrew a handoff nobody accepted yet: tell the sinks, resume the bot."""
    hid = state.handoff_id
    assert hid is not None and status_of(state) in WAITING
    out = Outcome(status=S.cancelled)
    out.events.append(_event(state, E.cancelled, "customer", now, reason="customer_cancelled"))
    out.directives.append(
        _directive(state, DirectiveType.resume, hid, S.cancelled, now, CANCELLED_MESSAGE)
    )
    close(state, S.cancelled)
    return out


def close(state: ConversationState, status: HandoffStatus) -> None:
    """End the open handoff: the bot owns the conversation again, with a fresh start.

    Escalation state is reset so old context cannot trigger a new handoff; the transcript,
    entities, fields and the escalation counter stay.
    """
    state.handoff_status = status.value
    state.handoff_id = None
    state.handoff_deadline = None
    state.handoff_request = None
    reset_escalation(state)


def reset_escalation(state: ConversationState) -> None:
    """Forget what led to an escalation (a closed handoff, a withdrawn gather)."""
    state.pending = None
    state.sentiment_trend = 0.0
    state.frustration = 0.0
    state.low_confidence_streak = 0
    state.fallback_streak = 0
    state.failed_actions = 0
    state.repeat_count = 0
    state.clarifications = 0
    state.fingerprints = []
    state.first_unmet_need_ts = None
    state.first_unmet_need_seq = None


def next_deadline(state: ConversationState) -> str | None:
    """The earliest time the conversation needs a timer tick (gather or handoff deadline)."""
    times = [
        d
        for d in (state.pending.deadline if state.pending else None, state.handoff_deadline)
        if d is not None
    ]
    return min(times, key=datetime.fromisoformat) if times else None


# --- the customer's wish to cancel --------------------------------------------------------

# On folded text (lowercase, no accents). A cancel is an explicit withdrawal of the request
# for a human; "forget it" alone is not (it is as often anger as a withdrawal).
_AGENT = (
    r"(?:an?\s+|the\s+|a\s+real\s+|)(?:agent|human|person|rep|representative|specialist"
    r"|someone|somebody|transfer|operator)"
)
_CANCEL = re.compile(
    r"\bnever\s*mind\b|\bnvm\b"
    rf"|\b(?:i\s+)?(?:do\s*n'?t|do\s+not|no\s+longer)\s+(?:need|want)\s+{_AGENT}"
    rf"|\bno\s+need\s+(?:for|of)\s+{_AGENT}"
    r"|\bcancel\s+(?:the\s+|my\s+|that\s+|this\s+)?(?:transfer|request|handoff|hand-off)"
    r"|\b(?:i(?:'ll|\s+will)\s+)?stay\s+with\s+(?:the\s+|you\b)"
    r"|\bi\s+(?:figured|sorted)\s+it\s+out\b|\b(?:it'?s|problem)\s+(?:is\s+)?solved\b"
    # es
    r"|\bya\s+no\s+(?:necesito|quiero|hace\s+falta)\b|\bno\s+importa\b|\bolvidalo\b"
    r"|\bcancela(?:r|lo)?\s+(?:la\s+|el\s+)?(?:transferencia|solicitud|pedido)"
    # fr
    r"|\blaisse[zr]?\s+tomber\b|\bje\s+n'ai\s+plus\s+besoin\b|\bpas\s+besoin\s+d'"
    r"|\bannule[rz]?\s+(?:le\s+|la\s+|ma\s+)?(?:transfert|demande)|\bc'est\s+bon\s+finalement"
    # de
    r"|\bvergiss\s+es\b|\bvergessen\s+sie\s+es\b|\bschon\s+gut\b|\bhat\s+sich\s+erledigt\b"
    r"|\bbrauche\s+(?:keinen|keine|niemanden)\b.*\bmehr\b"
    r"|\b(?:weiterleitung|anfrage|ubergabe)\s+(?:bitte\s+)?(?:abbrechen|stornieren)"
)
# The customer still wants the human: these win over a cancel phrase in the same message.
_KEEP = re.compile(
    r"\b(?:do\s*n'?t|do\s+not|please\s+don'?t)\s+cancel\b|\bstill\s+(?:want|need|waiting)\b"
    r"|\bi\s+(?:want|need)\s+(?:an?\s+|the\s+|a\s+real\s+)(?:agent|human|person)"
    r"|\b(?:todavia|aun|sigo)\s+(?:quiero|necesito|queriendo|esperando)\b|\bno\s+cancel"
    r"|\bn'annule[zr]?\s+pas\b|\bje\s+veux\s+toujours\b|\bj'ai\s+toujours\s+besoin\b"
    r"|\bnicht\s+(?:abbrechen|stornieren)\b|\b(?:immer\s+noch|trotzdem|noch\s+immer)\b"
)


def is_cancel_request(text: str) -> bool:
    """True when the customer withdraws their request for a human (en, es, fr, de)."""
    folded = fold(text)
    return _CANCEL.search(folded) is not None and _KEEP.search(folded) is None


# --- helpers --------------------------------------------------------------------------------


def _check(state: ConversationState, event: HandoffEvent) -> str | None:
    """Why an event cannot be applied, or None."""
    if event.conversation_id != state.conversation_id:
        return "wrong_conversation"
    if event.event_id in state.recent_event_ids:
        return "echo" if event.source.startswith(SOURCE) else "duplicate"
    if state.last_handoff_id is None:
        return "no_handoff"
    if event.handoff_id != state.last_handoff_id:
        return "not_current"  # a late event of an earlier handoff
    current = status_of(state)
    if event.type in _NO_MOVE:
        return None  # outcomes are welcome after the handoff closed too
    if event.type is E.transferred and not event.queue:
        return "no_queue"
    if current in CLOSED:
        return "closed"
    assert current is not None
    if (
        event.type is E.failed
        and event.source.startswith(SINK_SOURCE)
        and current is not S.requested
    ):
        # With several sinks, one failing does not fail a handoff another one delivered (or
        # the desk already holds): only a sink failure before any delivery closes it.
        return "superseded"
    if event.type not in TRANSITIONS[current]:
        target = S(event.type.value) if event.type.value in S.__members__ else None
        if target in _PATH and current in _PATH and _PATH.index(target) <= _PATH.index(current):
            return "stale"
        return "illegal_transition"
    return None


def _time_to_accept(state: ConversationState, accepted_at: datetime) -> float | None:
    started = state.first_unmet_need_ts or (state.handoff_request or {}).get("first_unmet_need_at")
    if not started:
        return None
    return max(0.0, (accepted_at - datetime.fromisoformat(started)).total_seconds())


def _after(now: datetime, seconds: float) -> str:
    return (now + timedelta(seconds=seconds)).isoformat()


def _words(queue: str) -> str:
    return queue.replace("_", " ")


def _id(name: str) -> str:
    return str(uuid.uuid5(NAMESPACE, name))


def _directive(
    state: ConversationState,
    kind: DirectiveType,
    handoff_id: str,
    cause: str,
    now: datetime,
    message: str,
    *,
    queue: str | None = None,
) -> Directive:
    """A lifecycle directive; its id names the handoff and the cause, so it is stable."""
    return Directive(
        directive_id=_id(f"directive/{state.conversation_id}/{handoff_id}/{kind.value}/{cause}"),
        conversation_id=state.conversation_id,
        type=kind,
        ts=now,
        seq=max(0, state.last_seq),
        handoff_id=handoff_id,
        message=message,
        queue=queue,
    )


def _event(
    state: ConversationState,
    kind: E,
    cause: str,
    now: datetime,
    *,
    reason: str,
    queue: str | None = None,
) -> HandoffEvent:
    """An event the pipeline publishes itself; remembered so its echo is not re-applied."""
    hid = state.handoff_id
    assert hid is not None
    event = HandoffEvent(
        event_id=_id(f"event/{hid}/{kind.value}/{cause}"),
        handoff_id=hid,
        conversation_id=state.conversation_id,
        type=kind,
        ts=now,
        source=f"{SOURCE}:lifecycle",
        queue=queue,
        reason=reason,
    )
    remember(state.recent_event_ids, event.event_id, MAX_EVENT_IDS)
    return event


def describe(outcome: Outcome) -> dict[str, Any]:
    """Log fields of an outcome (no customer text)."""
    return {
        "status": outcome.status.value if outcome.status else None,
        "rejected": outcome.rejected,
        "directives": [d.type.value for d in outcome.directives],
        "republished": len(outcome.requests),
        "deadline": outcome.deadline,
    }
