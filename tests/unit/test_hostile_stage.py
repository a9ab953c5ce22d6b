"""Hostile records through the Faust agents: one dead letter each, and no stall.

Fuzzed turn bytes (streams/lab/fuzz.py, seeded) and hand-picked ones (far-future timestamps that
used to overflow the gather deadline and crash the agent, unhashable schema versions, deep
nesting, NULs) are put on the turns topic between the valid turns of one conversation. Each
rejected record must give exactly one dead letter with its reason, in order, and every valid
turn after it must still be processed; duplicates and out-of-order turns produce nothing.
"""

from __future__ import annotations

import base64
import random
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import orjson
import pytest
from pydantic import BaseModel

from warmhandoff.streams.config.worker import WorkerSettings
from warmhandoff.streams.contract.models import HandoffEvent
from warmhandoff.streams.contract.topics import load_topics
from warmhandoff.streams.core.codec import Rejected, decode, decode_turn
from warmhandoff.streams.lab import fuzz
from warmhandoff.streams.policy import load_policy
from warmhandoff.streams.services.worker.app import Pipeline

from .test_stage_turns import T0, Clock, FakeProducer, turn_bytes

ESCALATING = "I was charged twice, I want a human agent now"
HAND_PICKED = [
    # An escalation this close to the end of time overflowed `ts + gather timeout`: the agent
    # crashed and the partition stalled, before the decoder bounded timestamps.
    turn_bytes(0, ESCALATING, ts="9999-12-31T23:59:59Z", conversation_id="c-x"),
    turn_bytes(0, ESCALATING, ts="9999-12-31T23:59:59-23:59", conversation_id="c-y"),
    turn_bytes(0, "hi", ts="0001-01-01T00:00:00+23:59", conversation_id="c-x"),
    turn_bytes(0, "hi", schema_version=[], conversation_id="c-x"),
    turn_bytes(0, "hi", schema_version={"v": 1}, conversation_id="c-x"),
    turn_bytes(0, "hi", conversation_id="c-x", metadata={"k": "x"}, extra=1),
    b'{"conversation_id": "c-x", "text": ' + b"[" * 5000 + b"]" * 5000 + b"}",
    b"\x00" * 64,
    b"",
    b"null",
    turn_bytes(-1, "\x00\x1b[2J" * 10),
    turn_bytes(0, "x" * 30_000),
]


@pytest.fixture
async def stage(tmp_path: Path) -> AsyncIterator[tuple[Pipeline, FakeProducer]]:
    settings = WorkerSettings(store="memory://", data_dir=tmp_path, web_port=0, app_id="hostile")
    topics = load_topics(prefix="ho.", app_id="hostile")
    producer = FakeProducer()
    pipeline = Pipeline(settings, topics, load_policy(), clock=Clock(T0), sender=producer)
    pipeline.app.finalize()
    pipeline.app.flow_control.resume()
    yield pipeline, producer


def reason_of(raw: bytes, model: type[BaseModel] | None = None) -> str | None:
    """The oracle: the reason the decoder gives, or None when the record is valid."""
    try:
        if model is None:
            decode_turn(raw, max_bytes=64_000)
        else:
            decode(raw, model, max_bytes=64_000)
    except Rejected as rejected:
        return rejected.reason
    return None


def hostile_records(n: int, seed: int) -> list[bytes]:
    rng = random.Random(seed)
    fuzzed = [fuzz.fuzz_one(rng, "turn")[0] for _ in range(n)]
    return HAND_PICKED + fuzzed


def event_reason(raw: bytes, key: bytes) -> str | None:
    """The oracle for lifecycle events: a decoding reason, or `wrong_key` when a valid event
    is keyed by another conversation than its own."""
    reason = reason_of(raw, HandoffEvent)
    if (
        reason is None
        and decode(raw, HandoffEvent, max_bytes=64_000).conversation_id != key.decode()
    ):
        return "wrong_key"
    return reason


async def test_each_rejected_record_is_one_dead_letter_and_valid_turns_keep_flowing(
    stage: Any,
) -> None:
    pipeline, producer = stage
    hostile = hostile_records(60, seed=5)
    expected_reasons = [reason_of(raw) for raw in hostile]
    rejected = [r for r in expected_reasons if r is not None]
    assert None not in expected_reasons[: len(HAND_PICKED)], "every hand-picked one is rejected"
    assert len(rejected) >= 50, "the fuzzer must mostly produce rejections"
    async with pipeline.turns_agent.test_context() as agent:
        for seq, raw in enumerate(hostile):
            await agent.put(key=b"c-9", value=raw)
            await agent.put(key=b"c-9", value=turn_bytes(seq, f"question number {seq}"))
    letters = producer.on("deadletter")
    assert [letter["reason"] for letter in letters] == rejected
    for letter in letters:
        assert letter["stage"] == "detect" and letter["error"]
        base64.b64decode(letter["value_b64"], validate=True)
    # Every valid turn of c-9 was processed, in order, after whatever came before it.
    seqs = [d["seq"] for d in producer.on("escalation.decisions") if d["conversation_id"] == "c-9"]
    assert seqs == list(range(len(hostile)))


async def test_duplicate_and_out_of_order_turns_produce_nothing_and_do_not_stall(
    stage: Any,
) -> None:
    pipeline, producer = stage
    async with pipeline.turns_agent.test_context() as agent:
        for seq in (0, 1, 2, 3):
            await agent.put(key=b"c-9", value=turn_bytes(seq, f"turn {seq}"))
        before = len(producer.sent)
        await agent.put(key=b"c-9", value=turn_bytes(3, "turn 3"))  # redelivered
        await agent.put(key=b"c-9", value=turn_bytes(1, "a late turn"))  # out of order
        await agent.put(key=b"c-9", value=turn_bytes(2, "other text, same seq"))
        assert len(producer.sent) == before
        await agent.put(key=b"c-9", value=turn_bytes(4, "turn 4"))
    seqs = [d["seq"] for d in producer.on("escalation.decisions")]
    assert seqs == [0, 1, 2, 3, 4]
    assert producer.on("deadletter") == []


async def test_hostile_lifecycle_events_are_dead_letters_and_the_agent_goes_on(
    stage: Any,
) -> None:
    pipeline, producer = stage
    rng = random.Random(9)
    hostile = [fuzz.fuzz_one(rng, "handoff_event")[0] for _ in range(40)]
    good = orjson.dumps(
        {
            "event_id": "ev-ok",
            "handoff_id": "h-unknown",
            "conversation_id": "c-9",
            "type": "accepted",
            "ts": "2026-11-25T16:00:05Z",
            "source": "desk",
        }
    )
    async with pipeline.events_agent.test_context() as agent:
        for raw in hostile:
            await agent.put(key=b"c-9", value=raw)
        await agent.put(key=b"other", value=good)  # keyed by another conversation
        await agent.put(key=b"c-9", value=good)
    letters = producer.on("deadletter")
    assert all(letter["stage"] == "lifecycle" for letter in letters)
    expected = [r for r in (event_reason(raw, b"c-9") for raw in hostile) if r is not None]
    assert len(expected) >= 30
    assert [letter["reason"] for letter in letters] == [*expected, "wrong_key"]
