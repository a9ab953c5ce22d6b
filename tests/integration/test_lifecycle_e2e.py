"""The handoff lifecycle on a real broker with a real worker process: a turn escalates, the
desk reports delivered (Kafka), accepted (the HTTP intake) and resolved (Kafka), the bot is
paused then resumed, and a mildly negative turn after the handback does not re-escalate on
the old context."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import aiohttp
import orjson
import pytest
from aiokafka import AIOKafkaProducer

from warmhandoff.agents.client import BotClient
from warmhandoff.agents.turns import turn
from warmhandoff.streams.config.connection import aiokafka_kwargs
from warmhandoff.streams.contract.models import Role, Turn
from warmhandoff.streams.runtime.broker import free_port

from .conftest import Deployment, Outputs, read_until
from .test_worker_ops import wait_for_status

pytestmark = [pytest.mark.integration, pytest.mark.timeout(240)]

TOKEN = "integration-intake-token"
ANGRY = [
    "my parcel never arrived",
    "this is not working, it still hasn't arrived",
    "that's wrong, the tracking is useless, I'm annoyed",
    "this is ridiculous, still nothing",
]
ANGRY_ISH = "still no parcel, this is slow"


def lifecycle_event(cid: str, hid: str, kind: str, **extra: Any) -> dict[str, Any]:
    return {
        "event_id": uuid.uuid4().hex,
        "handoff_id": hid,
        "conversation_id": cid,
        "type": kind,
        "ts": datetime.now(UTC).isoformat(),
        "source": "contact-centre:it",
        **extra,
    }


def angry_turns(cid: str, start: datetime) -> list[Turn]:
    """The conversation that escalates: `ANGRY`, a second apart from `start`."""
    return [
        turn(cid, seq, Role.customer, text, now=start + timedelta(seconds=seq), locale="en-US")
        for seq, text in enumerate(ANGRY)
    ]


def types(o: Outputs, cid: str) -> list[str]:
    return [d["type"] for d in o.directives if d["conversation_id"] == cid]


async def test_escalate_accept_resolve_pause_resume_and_no_reescalation(
    deployment: Deployment, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("WARMHANDOFF_INTAKE_TOKEN", TOKEN)
    port = free_port()
    worker = deployment.worker(web_port=port)
    await wait_for_status(port, "/readyz", 200, within=90)
    cid = f"life-{uuid.uuid4().hex[:6]}"
    start = datetime.now(UTC)
    async with BotClient(deployment.settings, topics=deployment.topics, bot_id="life") as bot:
        for seq, text in enumerate(ANGRY):
            at = start + timedelta(seconds=seq)
            await bot.publish(turn(cid, seq, Role.customer, text, now=at, locale="en-US"))
        outputs = await read_until(deployment, lambda o: len(o.handoffs) >= 1, within=60)
        assert len(outputs.handoffs) == 1, deployment.logs()
        hid = outputs.handoffs[0]["handoff_id"]
        events = deployment.topics.name("handoff.events")

        producer = AIOKafkaProducer(**aiokafka_kwargs(deployment.settings))
        await producer.start()
        try:
            delivered = lifecycle_event(cid, hid, "delivered", source="sink:it")
            await producer.send_and_wait(events, orjson.dumps(delivered), key=cid.encode())
            # The contact centre can only call webhooks: accepted arrives over HTTP.
            async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=10)) as http:
                body = orjson.dumps(lifecycle_event(cid, hid, "accepted", agent_id="a-1"))
                url = f"http://127.0.0.1:{port}/v1/handoff-events"
                headers = {"Content-Type": "application/json"}
                async with http.post(url, data=body, headers=headers) as refused:
                    assert refused.status == 401
                headers["Authorization"] = f"Bearer {TOKEN}"
                async with http.post(url, data=body, headers=headers) as accepted:
                    assert accepted.status == 202, await accepted.text()
            outputs = await read_until(deployment, lambda o: "pause" in types(o, cid), within=60)
            assert types(outputs, cid) == ["status", "pause"], deployment.logs()
            resolved = lifecycle_event(cid, hid, "resolved", agent_id="a-1")
            await producer.send_and_wait(events, orjson.dumps(resolved), key=cid.encode())
        finally:
            await producer.stop()
        outputs = await read_until(deployment, lambda o: "survey" in types(o, cid), within=60)
        assert types(outputs, cid) == ["status", "pause", "resume", "survey"], deployment.logs()
        assert all(d["handoff_id"] == hid for d in outputs.directives)

        after = len(ANGRY)
        at = start + timedelta(seconds=after)
        await bot.publish(turn(cid, after, Role.customer, ANGRY_ISH, now=at, locale="en-US"))

    def decided(o: Outputs) -> bool:
        return any(d["seq"] == after and d["conversation_id"] == cid for d in o.decisions)

    outputs = await read_until(deployment, decided, within=60)
    assert worker.alive(), deployment.logs()
    (last,) = [d for d in outputs.decisions if d["seq"] == after and d["conversation_id"] == cid]
    assert last["action"] == "none", last["reason"]
    assert [h["handoff_id"] for h in outputs.handoffs] == [hid]  # no second handoff


async def test_a_handoff_no_sink_delivers_is_retried_then_failed_and_the_customer_told(
    deployment: Deployment, monkeypatch: pytest.MonkeyPatch
) -> None:
    # No sink runs in this deployment: nobody ever reports `delivered`.
    monkeypatch.setenv("WARMHANDOFF_DELIVERY_TIMEOUT_SECONDS", "1")
    monkeypatch.setenv("WARMHANDOFF_MAX_DELIVERY_ATTEMPTS", "2")
    worker = deployment.worker()
    cid = f"down-{uuid.uuid4().hex[:6]}"
    async with BotClient(deployment.settings, topics=deployment.topics, bot_id="down") as bot:
        now = datetime.now(UTC)
        await bot.publish(turn(cid, 0, Role.customer, "I want to talk to a human agent", now=now))

    def told(o: Outputs) -> bool:
        return "resume" in types(o, cid)

    outputs = await read_until(deployment, told, within=90)
    assert worker.alive(), deployment.logs()
    mine = [h for h in outputs.handoffs if h["conversation_id"] == cid]
    assert len(mine) == 2 and mine[0] == mine[1]  # published, then re-published once
    assert types(outputs, cid) == ["status", "status", "resume"]
    failed = [d for d in outputs.directives if d["conversation_id"] == cid][1]
    assert "couldn't reach a specialist" in failed["message"]


async def test_a_worker_keeps_the_deadlines_of_partitions_it_takes_over(
    deployment: Deployment, monkeypatch: pytest.MonkeyPatch
) -> None:
    # No sink: no handoff is ever delivered. Two workers share the partitions; one stops
    # before any deadline passes, and the other, already running, must learn the deadlines
    # of the partitions it takes over from the recovered table.
    monkeypatch.setenv("WARMHANDOFF_DELIVERY_TIMEOUT_SECONDS", "15")
    monkeypatch.setenv("WARMHANDOFF_MAX_DELIVERY_ATTEMPTS", "2")
    ports = [free_port(), free_port()]
    staying = deployment.worker(web_port=ports[0])
    await wait_for_status(ports[0], "/readyz", 200, within=90)
    leaving = deployment.worker(web_port=ports[1], own_state=True)
    await wait_for_status(ports[1], "/readyz", 200, within=90)
    await wait_for_status(ports[0], "/readyz", 200, within=90)  # both share the partitions
    cids = [f"moved-{uuid.uuid4().hex[:6]}-{i}" for i in range(8)]
    async with BotClient(deployment.settings, topics=deployment.topics, bot_id="moved") as bot:
        now = datetime.now(UTC)
        for cid in cids:
            await bot.publish(
                turn(cid, 0, Role.customer, "I want to talk to a human agent", now=now)
            )
    await read_until(deployment, lambda o: len(o.handoff_ids()) >= len(cids), within=90)
    assert leaving.stop() == 0, deployment.logs()

    def all_told(o: Outputs) -> bool:
        return all("resume" in types(o, cid) for cid in cids)

    outputs = await read_until(deployment, all_told, within=150)
    assert staying.alive(), deployment.logs()
    for cid in cids:
        assert types(outputs, cid) == ["status", "status", "resume"], cid
    # Some of them were the stopped worker's: their failure came from the one that stayed.
    logged = staying.log_path.read_text()
    handled = {h["conversation_id"] for h in outputs.handoffs if h["handoff_id"] in logged}
    assert handled == set(cids), deployment.logs()


async def test_a_restarted_worker_keeps_the_deadlines_its_predecessor_set(
    deployment: Deployment, monkeypatch: pytest.MonkeyPatch
) -> None:
    # No sink: the handoff is never delivered. The first worker stops before its deadline;
    # the one started after it knows the deadline only from the recovered table.
    monkeypatch.setenv("WARMHANDOFF_DELIVERY_TIMEOUT_SECONDS", "10")
    monkeypatch.setenv("WARMHANDOFF_MAX_DELIVERY_ATTEMPTS", "2")
    first = deployment.worker()
    cid = f"kept-{uuid.uuid4().hex[:6]}"
    async with BotClient(deployment.settings, topics=deployment.topics, bot_id="kept") as bot:
        now = datetime.now(UTC)
        await bot.publish(turn(cid, 0, Role.customer, "I want to talk to a human agent", now=now))
    await read_until(deployment, lambda o: len(o.handoffs) >= 1, within=90)
    assert first.stop() == 0, deployment.logs()
    second = deployment.worker()

    outputs = await read_until(deployment, lambda o: "resume" in types(o, cid), within=120)
    assert second.alive(), deployment.logs()
    mine = [h for h in outputs.handoffs if h["conversation_id"] == cid]
    assert len(mine) == 2  # published, re-published once, then failed
    assert types(outputs, cid) == ["status", "status", "resume"]
    # The failure (at least) came from the second worker's own deadline index.
    acted = [
        line
        for line in second.log_path.read_text().splitlines()
        if '"handoff.deadline"' in line and mine[0]["handoff_id"] in line
    ]
    assert acted, deployment.logs()
