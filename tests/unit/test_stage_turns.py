"""Stage tests: the Faust agents with Faust's test context and in-memory tables.

What is checked here is the wiring the pure tests cannot see: decoding from raw bytes,
dead letters for bad input, table state carried between events, replays skipped, and what
each turn publishes, in order, with no Faust envelope in the JSON.
"""

from __future__ import annotations

import asyncio
import base64
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson
import pytest

from warmhandoff.streams.config.worker import WorkerSettings
from warmhandoff.streams.contract.topics import load_topics
from warmhandoff.streams.policy import load_policy
from warmhandoff.streams.services.worker.app import Pipeline

T0 = datetime(2026, 11, 25, 16, 0, tzinfo=UTC)


class FakeProducer:
    """Collects what the pipeline sends, as a real producer would receive it."""

    def __init__(self) -> None:
        self.sent: list[tuple[str, bytes | None, bytes]] = []

    async def __call__(self, topic: str, key: bytes | None, value: bytes) -> asyncio.Future[None]:
        self.sent.append((topic, key, value))
        acked: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        acked.set_result(None)
        return acked

    def on(self, suffix: str) -> list[dict[str, Any]]:
        return [orjson.loads(v) for t, _, v in self.sent if t.endswith(suffix)]


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
async def stage(tmp_path: Any) -> AsyncIterator[tuple[Pipeline, FakeProducer, Clock]]:
    settings = WorkerSettings(store="memory://", data_dir=tmp_path, web_port=0, app_id="stage")
    topics = load_topics(prefix="st.", app_id="stage")
    producer = FakeProducer()
    clock = Clock(T0)
    pipeline = Pipeline(settings, topics, load_policy(), clock=clock, sender=producer)
    pipeline.app.finalize()
    pipeline.app.flow_control.resume()
    yield pipeline, producer, clock


def turn_bytes(seq: int, text: str, **extra: Any) -> bytes:
    return orjson.dumps(
        {
            "conversation_id": "c-9",
            "seq": seq,
            "ts": (T0 + timedelta(seconds=seq)).isoformat(),
            "role": "customer",
            "text": text,
            "locale": "en-US",
            **extra,
        }
    )


async def test_turns_flow_through_every_stage_and_state_persists(stage: Any) -> None:
    pipeline, producer, _ = stage
    async with pipeline.turns_agent.test_context() as agent:
        await agent.put(key=b"c-9", value=turn_bytes(0, "hello, I have a question about my bill"))
        await agent.put(key=b"c-9", value=turn_bytes(1, "I want to talk to a human agent"))
        # Redelivery of a turn already applied (at-least-once): no output, no state change.
        await agent.put(key=b"c-9", value=turn_bytes(1, "I want to talk to a human agent"))
    assert len(producer.on("conversation.signals")) == 2
    decisions = producer.on("escalation.decisions")
    assert [d["action"] for d in decisions] == ["none", "escalate"]
    handoffs = producer.on("handoff.requests")
    assert len(handoffs) == 1
    assert handoffs[0]["conversation_id"] == "c-9"
    assert handoffs[0]["bundle"]["transcript"][0]["seq"] == 0
    assert [d["type"] for d in producer.on("bot.directives")] == ["status"]
    # Keys are the conversation id everywhere (but the audit record's: its decision id);
    # values are the model's fields only.
    audit = pipeline.out.audit
    assert {k for t, k, _ in producer.sent if t != audit} == {b"c-9"}
    assert all(b"__faust" not in v for _, _, v in producer.sent)
    # The order of a turn's outputs: signals, decision (and its audit record), directives,
    # handoff.
    topics = [t.split(".", 1)[1] for t, _, _ in producer.sent[3:]]
    assert topics == [
        "conversation.signals",
        "escalation.decisions",
        "audit.decisions",
        "bot.directives",
        "handoff.requests",
    ]


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        (b"\xff\xfe not utf-8", "not_utf8"),
        (b"{not json", "not_json"),
        (b"[1, 2]", "invalid"),
        (b'{"conversation_id": "c", "seq": "x", "ts": "2026-11-25T16:00:00Z"}', "invalid"),
        (b'{"schema_version": 9, "conversation_id": "c"}', "unsupported_version"),
        (b'{"text": "' + b"a" * 70_000 + b'"}', "too_large"),
    ],
)
async def test_bad_input_goes_to_the_dead_letter_topic_and_the_stream_goes_on(
    stage: Any, raw: bytes, reason: str
) -> None:
    pipeline, producer, _ = stage
    async with pipeline.turns_agent.test_context() as agent:
        await agent.put(key=b"c-9", value=raw)
        await agent.put(key=b"c-9", value=turn_bytes(0, "hello there"))
    letters = producer.on("deadletter")
    assert len(letters) == 1
    assert letters[0]["reason"] == reason
    assert letters[0]["stage"] == "detect"
    assert letters[0]["source_topic"].endswith("conversation.turns")
    assert base64.b64decode(letters[0]["value_b64"]) == raw
    # The good turn after it was processed.
    assert len(producer.on("escalation.decisions")) == 1


async def test_dead_letters_do_not_leak_card_numbers(stage: Any) -> None:
    pipeline, producer, _ = stage
    raw = b'{"conversation_id": "c-9", "seq": "bad", "text": "card 4111 1111 1111 1111"}'
    async with pipeline.turns_agent.test_context() as agent:
        await agent.put(key=b"c-9", value=raw)
    letter = producer.on("deadletter")[0]
    assert b"4111" not in base64.b64decode(letter["value_b64"])
    assert "seq" in letter["error"]


async def test_a_gather_past_its_deadline_is_transferred_by_the_timer_tick(stage: Any) -> None:
    pipeline, producer, clock = stage
    async with pipeline.turns_agent.test_context() as agent:
        await agent.put(key=b"c-9", value=turn_bytes(0, "I was charged twice for one order"))
    assert [d["type"] for d in producer.on("bot.directives")] == ["gather"]
    assert pipeline.pending.get(b"c-9") is not None
    # The timer finds the overdue transfer and publishes a tick for it ...
    clock.now = T0 + timedelta(hours=1)
    await pipeline._tick_overdue()
    ticks = [(t, k, v) for t, k, v in producer.sent if t == pipeline.out.timers]
    assert ticks == [(pipeline.out.timers, b"c-9", b"tick")]
    # ... and the tick agent transfers it, marking the missing fields.
    async with pipeline.timers_agent.test_context() as timers:
        await timers.put(key=b"c-9", value=b"tick")
    handoffs = producer.on("handoff.requests")
    assert len(handoffs) == 1
    assert handoffs[0]["bundle"]["missing_fields"]
    # The gather is done; what the index holds now is the handoff's delivery deadline.
    delivery = clock.now + timedelta(seconds=pipeline.settings.delivery_timeout_seconds)
    assert pipeline.pending.get(b"c-9") == delivery.isoformat().encode()
