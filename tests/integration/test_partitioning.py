"""Producers that partition otherwise than the Java client, on a real broker with a real
worker: librdkafka's default partitioner (CRC32 of the key) puts a conversation's turns and
events on another partition than the worker's own records for it. Forwarded (the default),
the decisions and the lifecycle are those of correctly partitioned traffic; dead-lettered,
every such record is rejected with the fix named, and the rest keeps flowing."""

from __future__ import annotations

import re
import uuid
import zlib
from datetime import UTC, datetime

import aiohttp
import orjson
import pytest
from aiokafka import AIOKafkaProducer

from warmhandoff.streams.config.connection import aiokafka_kwargs
from warmhandoff.streams.runtime.broker import free_port
from warmhandoff.streams.runtime.partitioning import partition_for

from .conftest import (
    Deployment,
    Outputs,
    decided_as_replay,
    read_until,
    traffic,
)
from .test_lifecycle_e2e import ANGRY, angry_turns, lifecycle_event, types
from .test_worker_ops import wait_for_status

pytestmark = [pytest.mark.integration, pytest.mark.timeout(300)]


def librdkafka_default(key: bytes, partitions: int) -> int:
    """librdkafka's `consistent_random` partitioner for a keyed record: CRC32 of the key."""
    return zlib.crc32(key) % partitions


def misplaced_ids(prefix: str, n: int, partitions: int) -> list[str]:
    """Conversation ids that librdkafka's default puts on another partition than murmur2."""
    out: list[str] = []
    i = 0
    while len(out) < n:
        cid = f"{prefix}-{i}"
        key = cid.encode()
        if librdkafka_default(key, partitions) != partition_for(key, partitions):
            out.append(cid)
        i += 1
    return out


async def send_like_librdkafka(
    producer: AIOKafkaProducer, topic: str, cid: str, value: bytes, partitions: int
) -> None:
    key = cid.encode()
    await producer.send_and_wait(
        topic, value, key=key, partition=librdkafka_default(key, partitions)
    )


async def metric(port: int, name: str, **labels: str) -> float:
    timeout = aiohttp.ClientTimeout(total=10)
    async with (
        aiohttp.ClientSession(timeout=timeout) as http,
        http.get(f"http://127.0.0.1:{port}/metrics") as response,
    ):
        text = await response.text()
    wanted = ",".join(f'{k}="{v}"' for k, v in sorted(labels.items()))
    for line in text.splitlines():
        match = re.match(rf"{name}\{{(.*)\}} (\S+)$", line)
        if match and ",".join(sorted(match.group(1).split(","))) == wanted:
            return float(match.group(2))
    raise AssertionError(f"{name}{{{wanted}}} not exposed")


async def test_turns_and_events_on_librdkafkas_default_partitions_are_forwarded(
    deployment: Deployment,
) -> None:
    partitions = deployment.topics.spec("conversation.turns").partitions
    turns_topic = deployment.topics.name("conversation.turns")
    events_topic = deployment.topics.name("handoff.events")
    turns = traffic(40, seed=41)
    moved = sum(
        librdkafka_default(t.conversation_id.encode(), partitions)
        != partition_for(t.conversation_id.encode(), partitions)
        for t in turns
    )
    assert 0 < moved < len(turns), "the traffic must mix misplaced and well placed turns"
    port = free_port()
    deployment.worker(web_port=port)
    await wait_for_status(port, "/readyz", 200, within=90)
    producer = AIOKafkaProducer(**aiokafka_kwargs(deployment.settings))
    await producer.start()
    try:
        for t in turns:
            value = t.model_dump_json(exclude_none=True).encode()
            await send_like_librdkafka(producer, turns_topic, t.conversation_id, value, partitions)

        outputs = await decided_as_replay(deployment, turns)
        assert outputs.deadletters == []
        assert await metric(
            port, "warmhandoff_mispartitioned_total", input="turns", action="repartitioned"
        ) == float(moved)

        # The lifecycle of a misplaced conversation whose desk also publishes on librdkafka.
        (cid,) = misplaced_ids(f"rdk-{uuid.uuid4().hex[:6]}", 1, partitions)
        for angry in angry_turns(cid, datetime.now(UTC)):
            value = angry.model_dump_json(exclude_none=True).encode()
            await send_like_librdkafka(producer, turns_topic, cid, value, partitions)
        outputs = await read_until(
            deployment, lambda o: any(h["conversation_id"] == cid for h in o.handoffs), within=60
        )
        (hid,) = {h["handoff_id"] for h in outputs.handoffs if h["conversation_id"] == cid}
        # A mixed deployment: the sink and the contact centre publish with the Java client's
        # partitioner (aiokafka's default), the CRM that accepts on librdkafka's default.
        delivered = orjson.dumps(lifecycle_event(cid, hid, "delivered", source="sink:it"))
        await producer.send_and_wait(events_topic, delivered, key=cid.encode())
        accepted = orjson.dumps(lifecycle_event(cid, hid, "accepted", agent_id="a-1"))
        await send_like_librdkafka(producer, events_topic, cid, accepted, partitions)
        outputs = await read_until(deployment, lambda o: "pause" in types(o, cid), within=60)
        assert types(outputs, cid) == ["status", "pause"], deployment.logs()
        resolved = orjson.dumps(lifecycle_event(cid, hid, "resolved", agent_id="a-1"))
        await producer.send_and_wait(events_topic, resolved, key=cid.encode())
        outputs = await read_until(deployment, lambda o: "survey" in types(o, cid), within=60)
        assert types(outputs, cid) == ["status", "pause", "resume", "survey"], deployment.logs()
    finally:
        await producer.stop()
    assert await metric(
        port, "warmhandoff_mispartitioned_total", input="events", action="repartitioned"
    ) == float(1)


async def test_with_dead_letter_every_misplaced_turn_is_rejected_naming_the_fix(
    deployment: Deployment, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("WARMHANDOFF_MISPARTITIONED", "dead_letter")
    partitions = deployment.topics.spec("conversation.turns").partitions
    turns_topic = deployment.topics.name("conversation.turns")
    worker = deployment.worker()
    misplaced = misplaced_ids(f"dl-{uuid.uuid4().hex[:6]}", 3, partitions)
    placed = f"ok-{uuid.uuid4().hex[:6]}"
    start = datetime.now(UTC)
    producer = AIOKafkaProducer(**aiokafka_kwargs(deployment.settings))
    await producer.start()
    try:
        for cid in [*misplaced, placed]:
            for angry in angry_turns(cid, start):
                value = angry.model_dump_json(exclude_none=True).encode()
                if cid == placed:  # the Java client's partitioner: aiokafka's default
                    await producer.send_and_wait(turns_topic, value, key=cid.encode())
                else:
                    await send_like_librdkafka(producer, turns_topic, cid, value, partitions)
    finally:
        await producer.stop()
    n_misplaced = len(misplaced) * len(ANGRY)

    def done(o: Outputs) -> bool:
        return len(o.deadletters) >= n_misplaced and len(o.decisions) >= len(ANGRY)

    outputs = await read_until(deployment, done, within=120)
    assert worker.alive(), deployment.logs()
    assert len(outputs.deadletters) == n_misplaced, deployment.logs()
    for letter in outputs.deadletters:
        assert letter["reason"] == "wrong_partition"
        assert "partitioner=murmur2_random" in letter["error"]
    assert {d["conversation_id"] for d in outputs.decisions} == {placed}
    assert {h["conversation_id"] for h in outputs.handoffs} == {placed}
