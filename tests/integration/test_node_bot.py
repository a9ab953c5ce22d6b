"""The Node.js example bot (docs/examples/node-bot, KafkaJS 2 from npm) against a real broker
and a real worker: it publishes scripted conversations with KafkaJS's default partitioner,
gets the pipeline's own decisions without a record forwarded, and obeys the directives of a
handoff through accept → pause → resolve → resume, answering the survey."""

from __future__ import annotations

import asyncio
import os
import time
import uuid
from datetime import UTC, datetime
from typing import Any

import orjson
import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer

from warmhandoff.streams.config.connection import aiokafka_kwargs
from warmhandoff.streams.contract.models import Turn
from warmhandoff.streams.runtime.broker import free_port
from warmhandoff.streams.runtime.partitioning import partition_for

from .. import node_bot
from .conftest import Deployment, decided_as_replay, expected_handoffs, read_until, traffic
from .test_lifecycle_e2e import angry_turns, lifecycle_event
from .test_partitioning import metric
from .test_worker_ops import wait_for_status

pytestmark = [pytest.mark.integration, pytest.mark.timeout(360)]


@pytest.fixture(scope="module")
def modules() -> str:
    try:
        return str(node_bot.node_modules())
    except node_bot.NodeBotUnavailable as missing:
        if "needed" in str(missing):
            pytest.skip(str(missing))
        raise


class RunningBot:
    """The example bot as a child process; its stdout is the directives it obeyed."""

    def __init__(self, proc: asyncio.subprocess.Process) -> None:
        self.proc = proc
        self.obeyed: list[dict[str, Any]] = []

    async def until(self, done: Any, within: float) -> list[dict[str, Any]]:
        assert self.proc.stdout is not None
        deadline = time.monotonic() + within
        while not done(self.obeyed):
            left = deadline - time.monotonic()
            if left <= 0:
                break
            try:
                line = await asyncio.wait_for(self.proc.stdout.readline(), left)
            except TimeoutError:
                break
            if not line:
                break  # the bot exited
            self.obeyed.append(orjson.loads(line))
        return self.obeyed

    async def stop(self) -> str:
        if self.proc.returncode is None:
            self.proc.terminate()
        await asyncio.wait_for(self.proc.wait(), 30)
        assert self.proc.stderr is not None
        return (await self.proc.stderr.read()).decode(errors="replace")


async def start_bot(
    deployment: Deployment, modules: str, turns: list[Turn], tmp: Any, bot_id: str
) -> RunningBot:
    script = tmp / f"{bot_id}.jsonl"
    script.write_bytes(
        b"".join(t.model_dump_json(exclude_none=True).encode() + b"\n" for t in turns)
    )
    env = dict(os.environ)
    env.update(
        {
            "NODE_PATH": modules,
            "WARMHANDOFF_BOOTSTRAP_SERVERS": deployment.settings.bootstrap_servers,
            "WARMHANDOFF_TOPIC_PREFIX": deployment.settings.topic_prefix,
            "BOT_ID": bot_id,
            "KAFKAJS_NO_PARTITIONER_WARNING": "1",
        }
    )
    proc = await asyncio.create_subprocess_exec(
        *node_bot.command(script),
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    return RunningBot(proc)


async def test_node_bot_gets_the_decisions_of_the_python_client(
    deployment: Deployment, modules: str, tmp_path: Any
) -> None:
    turns = traffic(30, seed=44)
    expected = expected_handoffs(turns, deployment.policy)
    port = free_port()
    deployment.worker(web_port=port)
    await wait_for_status(port, "/readyz", 200, within=90)
    bot = await start_bot(deployment, modules, turns, tmp_path, "node-it")
    try:
        await decided_as_replay(deployment, turns)
        # KafkaJS's default partitioner is the Java client's: nothing had to be forwarded.
        for kind in ("turns", "events"):
            assert (
                await metric(
                    port, "warmhandoff_mispartitioned_total", input=kind, action="repartitioned"
                )
                == 0
            )
        obeyed = await bot.until(
            lambda ds: (
                {d["conversation_id"] for d in ds if d["type"] == "status"}
                >= set(expected.values())
            ),
            within=60,
        )
        statuses = {d["conversation_id"] for d in obeyed if d["type"] == "status"}
        assert statuses >= set(expected.values())
        assert {d["conversation_id"] for d in obeyed} <= {t.conversation_id for t in turns}
    finally:
        log = await bot.stop()
    assert f"published {len(turns)} turns" in log, log


async def test_node_bot_through_accept_pause_resolve_resume_and_the_survey(
    deployment: Deployment, modules: str, tmp_path: Any
) -> None:
    worker = deployment.worker()
    cid = f"node-{uuid.uuid4().hex[:6]}"
    angry = angry_turns(cid, datetime.now(UTC))
    bot = await start_bot(deployment, modules, angry, tmp_path, "node-life")

    def types(ds: list[dict[str, Any]]) -> list[str]:
        return [d["type"] for d in ds]

    try:
        outputs = await read_until(deployment, lambda o: len(o.handoffs) >= 1, within=90)
        assert worker.alive(), deployment.logs()
        (hid,) = {h["handoff_id"] for h in outputs.handoffs}
        events = deployment.topics.name("handoff.events")
        producer = AIOKafkaProducer(**aiokafka_kwargs(deployment.settings))
        await producer.start()
        try:
            for kind in ("delivered", "accepted"):
                event = lifecycle_event(cid, hid, kind, agent_id="a-1")
                await producer.send_and_wait(events, orjson.dumps(event), key=cid.encode())
            obeyed = await bot.until(lambda ds: "pause" in types(ds), within=60)
            assert types(obeyed) == ["status", "pause"], deployment.logs()
            resolved = lifecycle_event(cid, hid, "resolved", agent_id="a-1")
            await producer.send_and_wait(events, orjson.dumps(resolved), key=cid.encode())
        finally:
            await producer.stop()
        obeyed = await bot.until(lambda ds: "survey" in types(ds), within=60)
        assert types(obeyed) == ["status", "pause", "resume", "survey"]
    finally:
        await bot.stop()
    # The bot's survey answer: a csat event it published with KafkaJS, on the partition of
    # its conversation.
    answers = await read_events(deployment, cid, within=30)
    csat = [e for _, e in answers if e["type"] == "csat"]
    assert [(e["csat"], e["source"]) for e in csat] == [(5, "bot:node-life")]
    assert {p for p, _ in answers} == {partition_for(cid.encode(), 8)}


async def read_events(
    deployment: Deployment, cid: str, *, within: float
) -> list[tuple[int, dict[str, Any]]]:
    """The conversation's records on handoff.events until its csat arrives: (partition, event)."""
    consumer = AIOKafkaConsumer(
        deployment.topics.name("handoff.events"),
        **aiokafka_kwargs(deployment.settings),
        auto_offset_reset="earliest",
        group_id=None,
    )
    await consumer.start()
    found: list[tuple[int, dict[str, Any]]] = []
    deadline = time.monotonic() + within
    try:
        while time.monotonic() < deadline and not any(e["type"] == "csat" for _, e in found):
            batch = await consumer.getmany(timeout_ms=500)
            for records in batch.values():
                for record in records:
                    event = orjson.loads(record.value)
                    if event["conversation_id"] == cid:
                        found.append((record.partition, event))
    finally:
        await consumer.stop()
    return found
