"""The learner process on a real broker: decisions + outcomes in, examples and a model out,
a restart that continues from the published snapshot, and the survey after a conversation the
bot kept."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import orjson
import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer

from warmhandoff.agents.scenarios import generate
from warmhandoff.streams.config.connection import aiokafka_kwargs, derive
from warmhandoff.streams.config.learner import LearnerSettings
from warmhandoff.streams.config.worker import WorkerSettings
from warmhandoff.streams.contract.models import Action, Decision, HandoffEvent, HandoffEventType
from warmhandoff.streams.contract.topics import Topics, load_topics
from warmhandoff.streams.core.codec import encode
from warmhandoff.streams.core.pipeline import new_state, process_turn
from warmhandoff.streams.learning.scorer import LinearScorer
from warmhandoff.streams.policy import load_policy
from warmhandoff.streams.runtime.learned_model import latest_snapshot
from warmhandoff.streams.runtime.topic_admin import apply_topics
from warmhandoff.streams.services.learner import LearnerProcess

pytestmark = [pytest.mark.integration, pytest.mark.timeout(120)]
T0 = datetime(2026, 11, 25, 16, 0, tzinfo=UTC)


async def fresh_topics(
    kafka_bootstrap: str, topic_prefix: str, tmp_path: Path
) -> tuple[LearnerSettings, Topics]:
    """LearnerSettings for the test's broker and its own topics, created."""
    settings = LearnerSettings(
        bootstrap_servers=kafka_bootstrap, topic_prefix=topic_prefix, data_dir=tmp_path
    )
    topics = load_topics(prefix=topic_prefix, app_id=settings.app_id)
    await apply_topics(topics, settings)
    return settings, topics


def decisions_of(n: int, seed: int) -> list[Decision]:
    """The decisions of `n` generated conversations under the shipped policy, in turn order."""
    policy = load_policy()
    out = []
    for conversation in generate(n, seed=seed, escalating_share=0.5, start=T0):
        state = new_state(conversation.id)
        for t in conversation.turns:
            result = process_turn(state, t, policy, now=t.ts)
            assert result is not None and result.decision is not None
            out.append(result.decision)
    return out


async def read(settings: LearnerSettings, topic: str, n: int) -> list[dict[str, Any]]:
    """The first `n` records of `topic`, decoded (within 30 s)."""
    consumer = AIOKafkaConsumer(topic, auto_offset_reset="earliest", **aiokafka_kwargs(settings))
    await consumer.start()
    try:
        found: list[dict[str, Any]] = []
        async with asyncio.timeout(30):
            while len(found) < n:
                batch = await consumer.getmany(timeout_ms=500)
                found += [orjson.loads(r.value) for rs in batch.values() for r in rs]
        return found
    finally:
        await consumer.stop()


async def test_learner_labels_learns_publishes_and_restores(
    kafka_bootstrap: str, topic_prefix: str, tmp_path: Path
) -> None:
    settings, topics = await fresh_topics(kafka_bootstrap, topic_prefix, tmp_path)
    policy = load_policy()
    records: list[tuple[str, bytes, bytes]] = []
    for d in decisions_of(120, seed=4):
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
    from warmhandoff.streams.learning.scorer import MIN_EXAMPLES
    from warmhandoff.streams.services.worker.app import Pipeline

    assert learned >= MIN_EXAMPLES
    worker = Pipeline(derive(WorkerSettings, settings, store="memory://"), topics, policy)
    assert worker.learned is None
    await worker._refresh_learned()
    assert worker.learned is not None and worker.learned.examples == learned

    examples = await read(settings, topics.name("learning.examples"), first.produced)
    labels = [e["label"] for e in examples]
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


async def test_learner_surveys_idle_contained_conversations_and_joins_the_answer(
    kafka_bootstrap: str, topic_prefix: str, tmp_path: Path
) -> None:
    settings, topics = await fresh_topics(kafka_bootstrap, topic_prefix, tmp_path)
    decisions = decisions_of(12, seed=6)
    decided = (Action.gather, Action.escalate)  # the learner's decision point
    escalated = {d.conversation_id for d in decisions if d.action in decided}
    contained = {d.conversation_id for d in decisions} - escalated
    assert contained and escalated
    producer = AIOKafkaProducer(**aiokafka_kwargs(settings))
    await producer.start()
    try:
        for d in decisions:
            await producer.send(
                topics.name("escalation.decisions"), encode(d), key=d.conversation_id.encode()
            )
        await producer.flush()

        # Every conversation has been quiet for 31 minutes (the default idle period is 30).
        now = max(d.ts for d in decisions) + timedelta(minutes=31)
        learner = LearnerProcess(settings, topics, clock=lambda: now, expire_seconds=0.05)
        task = asyncio.create_task(learner.run())
        async with asyncio.timeout(30):
            await learner.wait_until(lambda: learner.surveyed == len(contained))
        surveys = await read(settings, topics.name("bot.directives"), len(contained))
        assert {s["type"] for s in surveys} == {"survey"}
        assert sorted(s["conversation_id"] for s in surveys) == sorted(contained)
        assert all(s["handoff_id"] == s["conversation_id"] for s in surveys)

        # The bot asks one customer, who answers 1 of 5, echoing the directive's handoff_id.
        asked = surveys[0]
        answer = HandoffEvent(
            event_id=f"{asked['directive_id']}-answer",
            handoff_id=asked["handoff_id"],
            conversation_id=asked["conversation_id"],
            type=HandoffEventType.csat,
            ts=now,
            source="bot",
            csat=1,
        )
        key = answer.conversation_id.encode()
        await producer.send(topics.name("handoff.events"), encode(answer), key=key)
        await producer.flush()
        async with asyncio.timeout(30):
            await learner.wait_until(lambda: learner.produced == 1)
        learner.stop()
        await task
    finally:
        await producer.stop()
    assert learner.surveyed == len(contained)  # none asked twice, also at the final expire
    [example] = await read(settings, topics.name("learning.examples"), 1)
    assert example["conversation_id"] == asked["conversation_id"]
    assert example["label"] == "bad_containment" and example["outcome"]["csat"] == 1
