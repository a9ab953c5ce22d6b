"""The bot client against a real broker: turns out in order, directives in, bad ones skipped."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import orjson
import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer

from warmhandoff.agents import BotClient, InvalidTurnError
from warmhandoff.agents.scenarios import generate
from warmhandoff.streams.config.connection import ConnectionSettings, aiokafka_kwargs, topics_for
from warmhandoff.streams.contract.models import Directive, DirectiveType, Turn
from warmhandoff.streams.contract.topics import Topics
from warmhandoff.streams.runtime.topic_admin import apply_topics

pytestmark = [pytest.mark.integration, pytest.mark.timeout(120)]

START = datetime(2026, 11, 25, 16, 0, tzinfo=UTC)


@pytest.fixture
async def deployment(kafka_bootstrap: str, topic_prefix: str) -> tuple[ConnectionSettings, Topics]:
    """ConnectionSettings and freshly created topics for this test."""
    settings = ConnectionSettings(bootstrap_servers=kafka_bootstrap, topic_prefix=topic_prefix)
    topics = topics_for(settings)
    report = await apply_topics(topics, settings)
    assert report.ok, report
    return settings, topics


@pytest.fixture
async def producer(
    deployment: tuple[ConnectionSettings, Topics],
) -> AsyncIterator[AIOKafkaProducer]:
    """A plain producer, standing in for the pipeline's directive output."""
    settings, _ = deployment
    plain = AIOKafkaProducer(**aiokafka_kwargs(settings), request_timeout_ms=10_000)
    await plain.start()
    yield plain
    await plain.stop()


def directive_json(conversation_id: str, seq: int, kind: str = "status", **extra: object) -> bytes:
    return orjson.dumps(
        {
            "directive_id": f"{conversation_id}:{seq}:{kind}",
            "conversation_id": conversation_id,
            "type": kind,
            "ts": "2026-11-25T16:00:00Z",
            "seq": seq,
            "message": "A specialist will be with you in about 2 minutes.",
            **extra,
        }
    )


def bot_id(topic_prefix: str) -> str:
    """A bot id, and so a consumer group, of this test's own."""
    return f"it-{topic_prefix.rstrip('.')}"


async def test_published_turns_arrive_in_order_keyed_by_conversation(
    deployment: tuple[ConnectionSettings, Topics],
) -> None:
    settings, topics = deployment
    conversations = generate(12, seed=21, start=START)
    sent = [t for c in conversations for t in c.turns]
    async with BotClient(settings, topics=topics, listen=False) as client:
        await client.publish(sent[0])
        await client.publish_many(sent[1:])
        assert client.stats.turns_published == len(sent)

    consumer = AIOKafkaConsumer(
        topics.name("conversation.turns"),
        **aiokafka_kwargs(settings),
        group_id=None,
        auto_offset_reset="earliest",
    )
    await consumer.start()
    received: list[tuple[bytes, bytes]] = []
    try:
        deadline = time.monotonic() + 30
        while len(received) < len(sent) and time.monotonic() < deadline:
            batch = await consumer.getmany(timeout_ms=500)
            for records in batch.values():
                received.extend((r.key, r.value) for r in records)
    finally:
        await consumer.stop()

    assert len(received) == len(sent)
    by_conversation: dict[str, list[Turn]] = {}
    for key, value in received:
        turn = Turn.model_validate_json(value)
        assert key == turn.conversation_id.encode()
        assert b'"nlu":null' not in value  # published with exclude_none
        by_conversation.setdefault(turn.conversation_id, []).append(turn)
    for conversation in conversations:
        assert by_conversation[conversation.conversation_id] == list(conversation.turns)


async def test_directives_for_watched_conversations_and_bad_ones_skipped(
    deployment: tuple[ConnectionSettings, Topics], producer: AIOKafkaProducer, topic_prefix: str
) -> None:
    settings, topics = deployment
    name = topics.name("bot.directives")
    client = BotClient(
        settings,
        topics=topics,
        bot_id=bot_id(topic_prefix),
        conversations=["c-1"],
        auto_offset_reset="earliest",
    )
    async with client:
        stream = client.directives()
        await producer.send_and_wait(
            name, directive_json("c-1", 1, "gather", fields=["order_id"]), key=b"c-1"
        )
        await producer.send_and_wait(name, b"{not json", key=b"c-1")
        await producer.send_and_wait(name, directive_json("c-2", 1), key=b"c-2")  # not watched
        await producer.send_and_wait(name, directive_json("c-1", 2, "dance"), key=b"c-1")
        await producer.send_and_wait(name, directive_json("c-1", 3, added_later=True), key=b"c-1")

        first = await asyncio.wait_for(anext(stream), 30)
        second = await asyncio.wait_for(anext(stream), 30)
        assert (first.type, first.fields) == (DirectiveType.gather, ["order_id"])
        assert (second.type, second.seq) == (DirectiveType.status, 3)
        assert client.stats.directives_invalid == 2

        # The same directives wait, per conversation, for next_directive.
        assert (await client.next_directive("c-1", timeout=5)).seq == 1
        assert (await client.next_directive("c-1", timeout=5)).seq == 3
        with pytest.raises(TimeoutError):
            await client.next_directive("c-1", timeout=0.3)

        # A conversation watched from now on receives what comes next.
        client.watch("c-3")
        await producer.send_and_wait(name, directive_json("c-3", 7, "pause"), key=b"c-3")
        got = await client.next_directive("c-3", timeout=30)
        assert (got.conversation_id, got.type) == ("c-3", DirectiveType.pause)
        assert (await asyncio.wait_for(anext(stream), 30)).conversation_id == "c-3"

    # Stopping ends the iterator instead of leaving it hanging.
    with pytest.raises(StopAsyncIteration):
        await asyncio.wait_for(anext(stream), 5)


async def test_latest_sees_what_comes_after_start_in_watch_all_mode(
    deployment: tuple[ConnectionSettings, Topics], producer: AIOKafkaProducer, topic_prefix: str
) -> None:
    settings, topics = deployment
    name = topics.name("bot.directives")
    await producer.send_and_wait(name, directive_json("c-old", 1), key=b"c-old")
    async with BotClient(settings, topics=topics, bot_id=bot_id(topic_prefix)) as client:
        assert client.watching_all
        stream = client.directives()
        await producer.send_and_wait(name, directive_json("c-new", 1, "clarify"), key=b"c-new")
        got: Directive = await asyncio.wait_for(anext(stream), 30)
        assert (got.conversation_id, got.type) == ("c-new", DirectiveType.clarify)
        await stream.aclose()


async def until(condition: object, within: float = 30.0) -> None:
    """Wait until `condition()` holds, checking as the event loop turns; fail after `within`."""
    assert callable(condition)
    deadline = time.monotonic() + within
    while not condition():
        assert time.monotonic() < deadline, "condition not met in time"
        await asyncio.sleep(0.01)


async def test_no_ordering_trap_between_publish_and_reading_directives(
    deployment: tuple[ConnectionSettings, Topics], producer: AIOKafkaProducer, topic_prefix: str
) -> None:
    settings, topics = deployment
    name = topics.name("bot.directives")
    async with BotClient(settings, topics=topics, bot_id=bot_id(topic_prefix)) as client:
        # A turn given as keyword arguments, another as a dict; `ts` defaults to now.
        first = await client.publish(conversation_id="c-9", seq=1, role="customer", text="hi")
        await client.publish({"conversation_id": "c-9", "seq": 2, "role": "bot", "text": "hello"})
        assert first.ts.tzinfo is not None and client.stats.turns_published == 2

        # The directive arrives before anyone reads: neither reader misses it.
        await producer.send_and_wait(name, directive_json("c-9", 2, "gather"), key=b"c-9")
        await until(lambda: client.stats.directives_received == 1)
        assert (await client.next_directive("c-9", timeout=5)).type == DirectiveType.gather
        stream = client.directives()
        assert (await asyncio.wait_for(anext(stream), 5)).conversation_id == "c-9"


async def test_answers_to_an_offer_and_a_survey_go_to_handoff_events(
    deployment: tuple[ConnectionSettings, Topics],
) -> None:
    settings, topics = deployment
    offer = Directive.model_validate_json(directive_json("c-5", 0, handoff_id="h-5"))
    survey = Directive.model_validate_json(directive_json("c-5", 4, "survey", handoff_id="h-5"))
    async with BotClient(settings, topics=topics, listen=False) as client:
        callback = await client.answer_offer(offer, "callback")
        again = await client.answer_offer(offer, "callback")  # a retry is the same event
        rating = await client.answer_survey(survey, 4)
        with pytest.raises(InvalidTurnError):
            await client.answer_survey(survey, 9)
        with pytest.raises(InvalidTurnError):
            await client.answer_survey(offer, 4)  # not a survey directive
    assert callback.event_id == again.event_id
    assert (callback.type, callback.reason, callback.handoff_id) == ("queued", "callback", "h-5")
    assert (rating.type, rating.csat, rating.source) == ("csat", 4, "bot:bot")

    consumer = AIOKafkaConsumer(
        topics.name("handoff.events"),
        **aiokafka_kwargs(settings),
        group_id=None,
        auto_offset_reset="earliest",
    )
    await consumer.start()
    received: list[tuple[bytes, dict[str, object]]] = []
    try:
        deadline = time.monotonic() + 30
        while len(received) < 3 and time.monotonic() < deadline:
            batch = await consumer.getmany(timeout_ms=500)
            for records in batch.values():
                received.extend((r.key, orjson.loads(r.value)) for r in records)
    finally:
        await consumer.stop()
    assert [key for key, _ in received] == [b"c-5"] * 3
    assert [e["type"] for _, e in received] == ["queued", "queued", "csat"]
