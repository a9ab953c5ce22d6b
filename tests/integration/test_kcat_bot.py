"""A bot that is a shell script: kcat (librdkafka) publishes scripted conversations and reads
the directives, on a real broker with a real worker. With `partitioner=murmur2_random` the
decisions are those of the pipeline's own replay (what the Python client's traffic gets) and
nothing is forwarded; with librdkafka's default partitioner the same decisions come out, the
misplaced turns forwarded and counted. The lifecycle (accept → pause → resolve → resume) is
driven and read with kcat alone. kcat is Debian's `kcat` package; CI installs it."""

from __future__ import annotations

import asyncio
import os
import shutil
import subprocess
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson
import pytest

from warmhandoff.streams.contract.models import Turn
from warmhandoff.streams.runtime.broker import free_port
from warmhandoff.streams.runtime.partitioning import partition_for

from ..brokers import TestBroker
from .conftest import Deployment, decided_as_replay, expected_handoffs, traffic
from .test_lifecycle_e2e import angry_turns, lifecycle_event
from .test_partitioning import librdkafka_default, metric, misplaced_ids
from .test_worker_ops import wait_for_status

KCAT = shutil.which("kcat") or shutil.which("kafkacat")

pytestmark = [
    pytest.mark.integration,
    pytest.mark.timeout(300),
    pytest.mark.skipif(KCAT is None, reason="kcat is not installed (Debian: apt install kcat)"),
]

SCRIPT = Path(__file__).resolve().parents[2] / "docs" / "examples" / "kcat-bot.sh"


@pytest.fixture(autouse=True)
def _librdkafka_connects(test_broker: TestBroker) -> None:
    if test_broker.kind == "embedded":
        pytest.skip("librdkafka cannot connect to the embedded broker (ApiVersionRequest fails)")


def run_script(deployment: Deployment, *args: str, lines: bytes = b"", **env: str) -> str:
    """docs/examples/kcat-bot.sh as a user runs it; its standard output."""
    done = subprocess.run(
        ["sh", str(SCRIPT), *args],
        input=lines,
        capture_output=True,
        timeout=60,
        check=False,
        env={
            **os.environ,
            "WARMHANDOFF_BOOTSTRAP_SERVERS": deployment.settings.bootstrap_servers,
            "WARMHANDOFF_TOPIC_PREFIX": deployment.settings.topic_prefix,
            **env,
        },
    )
    assert done.returncode == 0, done.stderr.decode(errors="replace")
    return done.stdout.decode()


def publish(
    deployment: Deployment, what: str, records: list[tuple[str, bytes]], **env: str
) -> None:
    run_script(
        deployment, what, lines=b"".join(k.encode() + b"\t" + v + b"\n" for k, v in records), **env
    )


def directives(deployment: Deployment, cids: list[str]) -> list[dict[str, Any]]:
    """The directives of `cids` so far, read by the script; each checked keyed by its conversation."""
    out = []
    for line in run_script(deployment, "directives", *cids).splitlines():
        key, value = line.split("\t", 1)
        directive = orjson.loads(value)
        assert directive["conversation_id"] == key
        out.append(directive)
    return out


async def directives_until(
    deployment: Deployment,
    cids: list[str],
    done: Callable[[list[dict[str, Any]]], bool],
    within: float,
) -> list[dict[str, Any]]:
    deadline = time.monotonic() + within
    while True:
        found = await asyncio.to_thread(directives, deployment, cids)
        if done(found) or time.monotonic() > deadline:
            return found
        await asyncio.sleep(0.5)  # (a poll interval between kcat runs, not a wait for an event)


def turn_lines(turns: list[Turn]) -> list[tuple[str, bytes]]:
    return [(t.conversation_id, t.model_dump_json(exclude_none=True).encode()) for t in turns]


@pytest.mark.parametrize(
    "partitioner", ["murmur2_random", "librdkafka_default"], ids=["murmur2", "default"]
)
async def test_kcat_bot_gets_the_decisions_of_the_python_client(
    deployment: Deployment, partitioner: str
) -> None:
    partitions = deployment.topics.spec("conversation.turns").partitions
    turns = traffic(30, seed=43)
    port = free_port()
    deployment.worker(web_port=port)
    await wait_for_status(port, "/readyz", 200, within=90)
    chosen = {} if partitioner == "murmur2_random" else {"PARTITIONER": "consistent_random"}
    publish(deployment, "turns", turn_lines(turns), **chosen)
    await decided_as_replay(deployment, turns)
    moved = await metric(
        port, "warmhandoff_mispartitioned_total", input="turns", action="repartitioned"
    )
    if partitioner == "murmur2_random":
        assert moved == 0
    else:
        assert moved == sum(
            librdkafka_default(t.conversation_id.encode(), partitions)
            != partition_for(t.conversation_id.encode(), partitions)
            for t in turns
        )
        assert moved > 0

    # The bot reads its directives with the script: a status for every handoff.
    expected = expected_handoffs(turns, deployment.policy)
    cids = sorted(set(expected.values()))
    found = await directives_until(
        deployment,
        cids,
        lambda ds: {d["handoff_id"] for d in ds if d["type"] == "status"} >= set(expected),
        within=30,
    )
    assert {d["handoff_id"] for d in found if d["type"] == "status"} == set(expected)
    assert {d["conversation_id"] for d in found} <= set(cids)


@pytest.mark.parametrize(
    "partitioner", ["murmur2_random", "librdkafka_default"], ids=["murmur2", "default"]
)
async def test_kcat_bot_through_accept_pause_resolve_resume(
    deployment: Deployment, partitioner: str
) -> None:
    """With librdkafka's default, a mixed deployment: the bot's turns and the CRM's accept on
    librdkafka's partitions, the sink's `delivered` on murmur2's as warmhandoff's sinks send it."""
    port = free_port()
    worker = deployment.worker(web_port=port)
    partitions = deployment.topics.spec("conversation.turns").partitions
    default = partitioner == "librdkafka_default"
    chosen = {"PARTITIONER": "consistent_random"} if default else {}
    (cid,) = misplaced_ids(f"kcat-{uuid.uuid4().hex[:6]}", 1, partitions)
    angry = angry_turns(cid, datetime.now(UTC))
    publish(deployment, "turns", turn_lines(angry), **chosen)

    def mine(ds: list[dict[str, Any]]) -> list[str]:
        return [d["type"] for d in ds]

    found = await directives_until(deployment, [cid], lambda ds: "status" in mine(ds), within=90)
    assert worker.alive(), deployment.logs()
    (hid,) = {d["handoff_id"] for d in found}

    def event(kind: str, **extra: Any) -> tuple[str, bytes]:
        return cid, orjson.dumps(lifecycle_event(cid, hid, kind, **extra))

    publish(deployment, "events", [event("delivered", source="sink:kcat")])
    publish(deployment, "events", [event("accepted", agent_id="a-1")], **chosen)
    found = await directives_until(deployment, [cid], lambda ds: "pause" in mine(ds), within=60)
    assert mine(found) == ["status", "pause"], deployment.logs()
    publish(deployment, "events", [event("resolved", agent_id="a-1")], **chosen)
    found = await directives_until(deployment, [cid], lambda ds: "survey" in mine(ds), within=60)
    assert mine(found) == ["status", "pause", "resume", "survey"]
    forwarded = [
        await metric(port, "warmhandoff_mispartitioned_total", input=kind, action="repartitioned")
        for kind in ("turns", "events")
    ]
    assert forwarded == ([len(angry), 2] if default else [0, 0])
