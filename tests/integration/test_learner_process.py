"""The learner process on a real broker: decisions + outcomes in, examples and a model out,
and a restart that continues from the published snapshot."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from pathlib import Path

import orjson
import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer

from warmhandoff.agents.scenarios import generate
from warmhandoff.streams.codec import encode
from warmhandoff.streams.learning.runner import LearnerProcess, latest_snapshot
from warmhandoff.streams.learning.scorer import LinearScorer
from warmhandoff.streams.models import Action, HandoffEvent
from warmhandoff.streams.pipeline import new_state, process_turn
from warmhandoff.streams.policy import load_policy
from warmhandoff.streams.settings import Settings, aiokafka_kwargs
from warmhandoff.streams.topics import apply_topics, load_topics

pytestmark = [pytest.mark.integration, pytest.mark.timeout(120)]
T0 = datetime(2026, 11, 25, 16, 0, tzinfo=UTC)


async def test_learner_labels_learns_publishes_and_restores(
    kafka_bootstrap: str, topic_prefix: str, tmp_path: Path
) -> None:
    settings = Settings(
        bootstrap_servers=kafka_bootstrap, topic_prefix=topic_prefix, data_dir=tmp_path
    )
    topics = load_topics(prefix=topic_prefix, app_id=settings.app_id)
    await apply_topics(topics, settings)
    policy = load_policy()
    records: list[tuple[str, bytes, bytes]] = []
    for conversation in generate(120, seed=4, escalating_share=0.5, start=T0):
        state = new_state(conversation.id)
        for t in conversation.turns:
            result = process_turn(state, t, policy, now=t.ts)
            assert result is not None and result.decision is not None
            d = result.decision
            key = d.conversation_id.encode()
            records.append((topics.name("escalation.decisions"), key, encode(d)))
            if d.action is Action.escalate and d.handoff_id:
                for kind, after in (("accepted", 60), ("resolved", 900)):
                    event = HandoffEvent(
                        event_id=f"{d.handoff_id}-{kind}",
                        handoff_id=d.handoff_id,
                        conversation_id=d.conversation_id,
                        type=kind,  # type: ignore[arg-type]
                        ts=d.ts + timedelta(seconds=after),
                        source="test",
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

    # Two days later: every contained conversation's return window has closed.
    first = LearnerProcess(settings, topics, clock=lambda: T0 + timedelta(days=2))
    assert first.readiness() is not None  # /readyz: 503 until restored and polling
    task = asyncio.create_task(first.run())
    async with asyncio.timeout(30):
        await first.wait_until(lambda: first.consumed == len(records))
    assert first.readiness() is None
    first.stop()
    await task
    learned = first.learner.model.examples
    assert learned > 0 and first.produced > 10

    snapshot = await latest_snapshot(settings, topics)
    assert snapshot is not None
    assert LinearScorer.from_snapshot(snapshot).examples == learned

    # A worker picks the model up from the topic (and then scores every turn).
    from warmhandoff.streams.app import Pipeline
    from warmhandoff.streams.learning.scorer import MIN_EXAMPLES

    assert learned >= MIN_EXAMPLES
    worker = Pipeline(settings.model_copy(update={"store": "memory://"}), topics, policy)
    assert worker.learned is None
    await worker._refresh_learned()
    assert worker.learned is not None and worker.learned.examples == learned

    consumer = AIOKafkaConsumer(
        topics.name("learning.examples"), auto_offset_reset="earliest", **aiokafka_kwargs(settings)
    )
    await consumer.start()
    try:
        labels: list[str] = []
        async with asyncio.timeout(30):
            while len(labels) < first.produced:
                batch = await consumer.getmany(timeout_ms=500)
                labels += [orjson.loads(r.value)["label"] for rs in batch.values() for r in rs]
    finally:
        await consumer.stop()
    assert len(labels) == first.produced
    assert {"escalation_needed", "good_containment"} <= set(labels)

    # A restart restores the model and reads nothing twice (offsets committed with it).
    second = LearnerProcess(settings, topics, clock=lambda: T0 + timedelta(days=2))
    task = asyncio.create_task(second.run())
    async with asyncio.timeout(30):
        await second.wait_until(lambda: second.learner.model.examples == learned)
    second.stop()
    await task
    assert second.consumed == 0 and second.learner.model.examples == learned
