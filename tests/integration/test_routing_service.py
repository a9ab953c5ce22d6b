"""The live router on a real broker: presence and handoff requests in, an `offered` routing
event, a status update with the wait, queue health and a dead letter out."""

from __future__ import annotations

import asyncio
import contextlib
import time
from datetime import UTC, datetime
from typing import Any

import orjson
import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer

from warmhandoff.streams.config.connection import aiokafka_kwargs
from warmhandoff.streams.core.codec import encode
from warmhandoff.streams.services.router.service import SOURCE, run_router

from ..unit.routing_helpers import presence, request
from .conftest import Deployment

pytestmark = [pytest.mark.integration, pytest.mark.timeout(180)]


async def read(dep: Deployment, keys: list[str], done: Any, within: float) -> dict[str, list[Any]]:
    """Records of `keys`' topics from the start until `done(found)` or the timeout."""
    names = {dep.topics.name(k): k for k in keys}
    found: dict[str, list[Any]] = {k: [] for k in keys}
    consumer = AIOKafkaConsumer(
        *names, **aiokafka_kwargs(dep.settings), auto_offset_reset="earliest", group_id=None
    )
    await consumer.start()
    deadline = time.monotonic() + within
    try:
        while not done(found) and time.monotonic() < deadline:
            batch = await consumer.getmany(timeout_ms=500)
            for records in batch.values():
                for record in records:
                    found[names[record.topic]].append(orjson.loads(record.value))
    finally:
        await consumer.stop()
    return found


async def test_router_assigns_tells_the_wait_and_reports_health(deployment: Deployment) -> None:
    dep = deployment
    now = datetime.now(UTC)
    router = asyncio.create_task(run_router(dep.settings, tick_seconds=0.5))
    producer = AIOKafkaProducer(**aiokafka_kwargs(dep.settings))
    await producer.start()
    try:
        t = dep.topics
        agent = presence("agent-1", ts=now, skills={"customer_care": 5})
        await producer.send_and_wait(t.name("agent.presence"), encode(agent), key=b"agent-1")
        for hid in ("h1", "h2"):
            handoff = request(hid, created=now, skills=("customer_care",))
            await producer.send_and_wait(
                t.name("handoff.requests"), encode(handoff), key=handoff.conversation_id.encode()
            )
        await producer.send_and_wait(t.name("agent.presence"), b"not json", key=b"bad")
        lost = request("h3", created=now, queue="nowhere")
        await producer.send_and_wait(t.name("handoff.requests"), encode(lost), key=b"c-h3")

        def done(found: dict[str, list[Any]]) -> bool:
            # The two requests sit on different partitions: whichever the router reads first
            # takes the agent, the other waits and is told its wait.
            offered = {e["handoff_id"] for e in found["handoff.events"] if e["source"] == SOURCE}
            # (a callback offer may come first, if the request was read before the agent)
            told = {d["handoff_id"] for d in found["bot.directives"] if "position" in d}
            return (
                len(offered) == 1
                and bool(told - offered)
                and any(h["waiting"] for h in found["queue.health"])
                and len(found["deadletter"]) == 2
            )

        found = await read(
            dep,
            ["handoff.events", "bot.directives", "queue.health", "deadletter"],
            done,
            within=90,
        )
    finally:
        router.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await router
        await producer.stop()
    assert done(found), found
    offered = [e for e in found["handoff.events"] if e["source"] == SOURCE]
    assert [(e["type"], e["agent_id"]) for e in offered] == [("offered", "agent-1")]
    waiter = ({"h1", "h2"} - {offered[0]["handoff_id"]}).pop()
    (status, *_) = [
        d for d in found["bot.directives"] if d["handoff_id"] == waiter and "position" in d
    ]
    assert status["type"] == "status" and status["position"] == 1
    assert status["wait"]["low_seconds"] < status["wait"]["high_seconds"]
    general = [h for h in found["queue.health"] if h["queue"] == "general" and h["waiting"]]
    assert general[0]["waiting"] == 1 and general[0]["agents_eligible"] == 1
    reasons = sorted((d["stage"], d["reason"]) for d in found["deadletter"])
    assert reasons == [("router", "not_json"), ("router", "unroutable")]
