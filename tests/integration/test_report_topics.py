"""`warmhandoff report --from-topics` reads the same report as a dump of the same records."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import orjson
import pytest
from aiokafka import AIOKafkaProducer

from warmhandoff.agents.scenarios import generate
from warmhandoff.streams.config.connection import aiokafka_kwargs
from warmhandoff.streams.config.worker import WorkerSettings
from warmhandoff.streams.contract.models import Action, HandoffEvent
from warmhandoff.streams.contract.topics import load_topics
from warmhandoff.streams.core.codec import encode
from warmhandoff.streams.core.pipeline import new_state, process_turn
from warmhandoff.streams.offline.report import build_report, read_streams
from warmhandoff.streams.offline.report_topics import read_topics
from warmhandoff.streams.policy import load_policy
from warmhandoff.streams.runtime.topic_admin import apply_topics

pytestmark = [pytest.mark.integration, pytest.mark.timeout(120)]
T0 = datetime(2026, 11, 25, 16, 0, tzinfo=UTC)


async def test_report_from_topics_equals_the_report_of_a_dump(
    kafka_bootstrap: str, topic_prefix: str, tmp_path: Path
) -> None:
    settings = WorkerSettings(
        bootstrap_servers=kafka_bootstrap, topic_prefix=topic_prefix, data_dir=tmp_path
    )
    topics = load_topics(prefix=topic_prefix, app_id=settings.app_id)
    await apply_topics(topics, settings)
    policy = load_policy()
    records: list[tuple[str, bytes, bytes]] = []
    for conversation in generate(30, seed=6, escalating_share=0.5, start=T0):
        state = new_state(conversation.id)
        key = conversation.id.encode()
        for t in conversation.turns:
            records.append((topics.name("conversation.turns"), key, t.model_dump_json().encode()))
            result = process_turn(state, t, policy, now=t.ts)
            assert result is not None and result.decision is not None
            d = result.decision
            records.append((topics.name("escalation.decisions"), key, encode(d)))
            if result.handoff is not None:
                records.append((topics.name("handoff.requests"), key, encode(result.handoff)))
            if d.action is Action.escalate and d.handoff_id:
                lifecycle = (("queued", 5), ("accepted", 40), ("replied", 60), ("resolved", 400))
                for kind, after in lifecycle:
                    event = HandoffEvent(
                        event_id=f"{d.handoff_id}-{kind}",
                        handoff_id=d.handoff_id,
                        conversation_id=d.conversation_id,
                        type=kind,  # type: ignore[arg-type]
                        ts=d.ts + timedelta(seconds=after),
                        source="test",
                        macro_id="general_pickup" if kind == "replied" else None,
                    )
                    records.append((topics.name("handoff.events"), key, encode(event)))
    producer = AIOKafkaProducer(**aiokafka_kwargs(settings))
    await producer.start()
    try:
        for topic, key, value in records:
            await producer.send(topic, value, key=key)
        await producer.flush()
    finally:
        await producer.stop()

    from_topics = build_report(await read_topics(settings, topics))
    dump = build_report(read_streams(value for _, _, value in records))
    assert from_topics == dump
    assert from_topics["kpis"]["conversations"] == 30
    assert from_topics["kpis"]["handle_time_seconds"] == 360.0
    escalated = from_topics["kpis"]["escalated"]
    replied = [r for r in from_topics["suggested_replies"] if r["reply"] == "general_pickup"]
    assert sum(r["uses"] for r in replied if r["rank"] == "best") == escalated > 0
    recent = await read_topics(settings, topics, since=datetime.now(UTC) - timedelta(hours=1))
    assert build_report(recent) == dump
    # Nothing after `since`: an empty report, not an error.
    later = await read_topics(settings, topics, since=datetime.now(UTC) + timedelta(hours=1))
    assert later.decisions == [] and orjson.dumps(build_report(later))
