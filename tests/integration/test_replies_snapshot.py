"""Suggested replies on a real broker: the learner publishes the ranking under its own key on
`learning.model`, `latest_snapshot` finds each key's newest record with both keys on the
topic, a worker loads the ranking, and a restarted learner continues from it."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from pathlib import Path

import pytest
from aiokafka import AIOKafkaProducer

from tests.integration.test_learner_process import T0, decisions_of, fresh_topics
from warmhandoff.streams.config.connection import aiokafka_kwargs, derive
from warmhandoff.streams.config.worker import WorkerSettings
from warmhandoff.streams.contract.models import Action, HandoffEvent, HandoffEventType
from warmhandoff.streams.core.codec import encode
from warmhandoff.streams.core.replies import ReplyRanking
from warmhandoff.streams.learning.model import LearnedModel
from warmhandoff.streams.learning.replies import ReplyFold
from warmhandoff.streams.learning.scorer import parse_snapshot
from warmhandoff.streams.policy import load_policy
from warmhandoff.streams.runtime.learned_model import (
    REPLIES_KEY,
    SNAPSHOT_KEY,
    latest_snapshot,
    latest_snapshots,
)
from warmhandoff.streams.services.learner import LearnerProcess

pytestmark = [pytest.mark.integration, pytest.mark.timeout(180)]
LATER = T0 + timedelta(days=2)  # every return window has closed


def ranking(version: str, uses: int) -> bytes:
    fold = ReplyFold()
    for n in range(uses):
        fold.escalation(f"h-{n}", f"c-{n}", ["human_request"], T0, None)
        fold.reply(f"h-{n}", f"c-{n}", T0, text=None, macro_id="human_here")
        fold.ended(f"h-{n}", f"c-{n}", T0, "resolved")
    fold.settle(LATER)
    return fold.ranking(version).to_json()


async def test_latest_snapshot_finds_the_newest_record_of_each_key(
    kafka_bootstrap: str, topic_prefix: str, tmp_path: Path
) -> None:
    settings, topics = await fresh_topics(kafka_bootstrap, topic_prefix, tmp_path)
    assert await latest_snapshot(settings, topics) is None
    assert await latest_snapshots(settings, topics, (SNAPSHOT_KEY, REPLIES_KEY)) == {}
    model = LearnedModel().snapshot(version="m1")
    # The model once, then many rankings after it: the model is far back from the end.
    records = [(SNAPSHOT_KEY, LearnedModel().snapshot(version="m0")), (SNAPSHOT_KEY, model)]
    records += [(REPLIES_KEY, ranking(f"r{n}", n + 1)) for n in range(40)]
    producer = AIOKafkaProducer(**aiokafka_kwargs(settings))
    await producer.start()
    try:
        for key, value in records:
            await producer.send(topics.name("learning.model"), value, key=key)
        await producer.flush()
    finally:
        await producer.stop()

    learned = await latest_snapshot(settings, topics)
    assert learned == model and parse_snapshot(learned)["version"] == "m1"
    newest = await latest_snapshot(settings, topics, key=REPLIES_KEY)
    assert newest is not None and ReplyRanking.from_json(newest).version == "r39"
    both = await latest_snapshots(settings, topics, (SNAPSHOT_KEY, REPLIES_KEY))
    assert both == {SNAPSHOT_KEY: model, REPLIES_KEY: newest}


async def test_the_learner_publishes_the_ranking_a_worker_loads_it_a_restart_keeps_it(
    kafka_bootstrap: str, topic_prefix: str, tmp_path: Path
) -> None:
    settings, topics = await fresh_topics(kafka_bootstrap, topic_prefix, tmp_path)
    decisions = decisions_of(60, seed=11)
    records: list[tuple[str, bytes, bytes]] = []
    events: list[HandoffEvent] = []
    for d in decisions:
        key = d.conversation_id.encode()
        records.append((topics.name("escalation.decisions"), key, encode(d)))
        if d.action is not Action.escalate or not d.handoff_id:
            continue
        # A third of the handoffs get the policy's greeting and a happy customer, the rest a
        # typed reply (with a card number) and an unhappy one.
        good = len(events) % 6 == 0
        reply = {"macro_id": "human_here"} if good else {"reply": "card 4111 1111 1111 1111 ok"}
        for kind, after, extra in (
            (HandoffEventType.accepted, 30, {}),
            (HandoffEventType.replied, 60, reply),
            (HandoffEventType.resolved, 900, {"reason": "answered"}),
            (HandoffEventType.csat, 1000, {"csat": 5 if good else 1}),
        ):
            events.append(
                HandoffEvent(
                    event_id=f"{d.handoff_id}-{kind.value}",
                    handoff_id=d.handoff_id,
                    conversation_id=d.conversation_id,
                    type=kind,
                    ts=d.ts + timedelta(seconds=after),
                    source="desk",
                    **extra,  # type: ignore[arg-type]
                )
            )
    records += [
        (topics.name("handoff.events"), e.conversation_id.encode(), encode(e)) for e in events
    ]
    expected = ReplyFold()
    for d in decisions:
        expected.on_decision(d)
    for e in events:
        expected.on_event(e)
    assert expected.settle(LATER) == len(events) // 4 > 4
    want = expected.ranking("any").replies

    producer = AIOKafkaProducer(**aiokafka_kwargs(settings))
    await producer.start()
    try:
        for topic, key, value in records:
            await producer.send(topic, value, key=key)
        await producer.flush()
    finally:
        await producer.stop()

    first = LearnerProcess(settings, topics, clock=lambda: LATER)
    task = asyncio.create_task(first.run())
    async with asyncio.timeout(60):
        await first.wait_until(lambda: first.consumed == len(records))
    first.stop()
    await task

    published = await latest_snapshot(settings, topics, key=REPLIES_KEY)
    assert published is not None and b"4111" not in published
    assert ReplyRanking.from_json(published).replies == want
    model = await latest_snapshot(settings, topics)  # the model's key, beside the ranking
    assert model is not None and parse_snapshot(model)["examples"] == first.learner.model.examples

    from warmhandoff.streams.services.worker.app import Pipeline

    worker = Pipeline(derive(WorkerSettings, settings, store="memory://"), topics, load_policy())
    assert worker.replies is None
    await worker._refresh_learned()
    assert worker.replies is not None and worker.replies.replies == want

    second = LearnerProcess(settings, topics, clock=lambda: LATER)
    task = asyncio.create_task(second.run())
    async with asyncio.timeout(60):
        await second.wait_until(lambda: second.readiness() is None)
    second.stop()
    await task
    assert second.consumed == 0
    assert second.replies.ranking("any").replies == want
    assert second.learner.model.examples == first.learner.model.examples
