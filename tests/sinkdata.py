"""Handoff requests for the sink tests, built from the wire models (no customer PII)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from warmhandoff.streams.contract.models import (
    BotStatus,
    Bundle,
    Channel,
    HandoffRequest,
    Identity,
    Role,
    Routing,
    Step,
    Summary,
    TranscriptLine,
    TriggerHit,
    WaitEstimate,
)
from warmhandoff.streams.core.transfer import handoff_id

T0 = datetime(2026, 11, 25, 16, 0, tzinfo=UTC)


def handoff_request(
    conversation_id: str = "c-1042",
    number: int = 1,
    *,
    queue: str = "billing",
    priority: int = 2,
    channel: Channel | None = Channel.chat,
    **bundle_changes: Any,
) -> HandoffRequest:
    """A complete, valid handoff request; `bundle_changes` replace bundle fields."""
    bundle = {
        "transcript": [
            TranscriptLine(seq=1, ts=T0, role=Role.customer, text="where is my refund"),
            TranscriptLine(seq=2, ts=T0, role=Role.bot, text="Let me check that for you."),
            TranscriptLine(
                seq=3, ts=T0, role=Role.customer, text="third time I ask, a human please"
            ),
        ],
        "entities": {"order_id": ["A12345"]},
        "identity": Identity(customer_id="u-77", verified=True, tier="gold"),
        "steps_tried": [Step(seq=2, action="lookup_refund", status=BotStatus.failed)],
        "intents": ["refund_status"],
        "summary": Summary(
            wants="where is my refund (intent: refund_status)",
            tried="lookup_refund (failed)",
            why="the customer asked for a human",
            text="Customer wants: where is my refund. Bot tried: lookup_refund (failed). "
            "Escalated because: the customer asked for a human.",
        ),
        "next_steps": ["Check the refund's processing date."],
    }
    bundle.update(bundle_changes)
    return HandoffRequest(
        handoff_id=handoff_id(conversation_id, number),
        conversation_id=conversation_id,
        escalation_number=number,
        decision_id=f"d-{conversation_id}-{number}",
        created_at=T0 + timedelta(seconds=1),
        turn_ts=T0,
        first_unmet_need_at=T0,
        channel=channel,
        triggers=[TriggerHit(code="human_request", value=True)],
        routing=Routing(
            queue=queue,
            skills=["billing"],
            language="en",
            channel=channel,
            priority=priority,
            sla_seconds=30,
            sla_target=0.8,
            sla_deadline=T0 + timedelta(seconds=30),
        ),
        wait=WaitEstimate(low_seconds=30, high_seconds=90, method="policy"),
        policy_version="test",
        bundle=Bundle(**bundle),
    )
