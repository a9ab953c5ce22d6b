"""What every sink kind shares: the delivery contract and the events it reports.

A sink kind is a class with `start`, `deliver(request) -> DeliveryResult` and `close`.
`deliver` makes one attempt, is idempotent on `handoff_id` (the receiver upserts or
deduplicates on it), and raises `TransientDeliveryError` (retry later) or
`PermanentDeliveryError` (the receiver refused it). Retries, events and dead letters belong to
the runner. The outcome events have deterministic ids, so a redelivered record reports the
same event and the pipeline absorbs it. Pure: no Kafka, no HTTP.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from warmhandoff.streams.contract.models import HandoffEvent, HandoffEventType, HandoffRequest
from warmhandoff.streams.core.transfer import NAMESPACE

KINDS = ("webhook", "salesforce", "file")


@dataclass(frozen=True, slots=True)
class DeliveryResult:
    """What the receiver answered to a successful delivery."""

    reference: str | None = None  # the receiver's id of the record (a Case Id), when it has one
    created: bool | None = None  # True: new record; False: an existing one updated or kept


class Sink(Protocol):
    """One kind of CRM sink."""

    kind: str

    async def start(self) -> None:
        """Open connections and files (called once before the first delivery)."""

    async def deliver(self, request: HandoffRequest) -> DeliveryResult:
        """Deliver one handoff, once; raise a `DeliveryError` when it did not arrive."""

    async def close(self) -> None:
        """Release connections and files."""


def source(kind: str) -> str:
    """The `source` of the events a sink publishes: `sink:webhook`, ..."""
    return f"sink:{kind}"


def event_id(request: HandoffRequest, kind: str, outcome: HandoffEventType) -> str:
    """A stable id for a sink's outcome event.

    The queue is part of it: a re-published request with the same routing is a redelivery
    (same event), a re-routed one is news (a new event with the new queue).
    """
    name = f"sink/{kind}/{request.handoff_id}/{outcome.value}/{request.routing.queue}"
    return str(uuid.uuid5(NAMESPACE, name))


def outcome_event(
    request: HandoffRequest,
    kind: str,
    outcome: HandoffEventType,
    *,
    now: datetime,
    reason: str | None = None,
) -> HandoffEvent:
    """The `delivered` or `failed` event a sink reports on `handoff.events`."""
    return HandoffEvent(
        event_id=event_id(request, kind, outcome),
        handoff_id=request.handoff_id,
        conversation_id=request.conversation_id,
        type=outcome,
        ts=now,
        source=source(kind),
        queue=request.routing.queue,
        reason=reason[:200] if reason else None,
    )
