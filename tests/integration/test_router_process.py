"""`warmhandoff router` as SREs run it: a process that gets ready, routes, and stops on SIGTERM."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from datetime import UTC, datetime
from typing import Any

import pytest
from aiokafka import AIOKafkaProducer

from warmhandoff.streams.config.connection import aiokafka_kwargs
from warmhandoff.streams.core.codec import encode
from warmhandoff.streams.runtime.broker import free_port
from warmhandoff.streams.services.router.service import SOURCE

from ..unit.routing_helpers import presence, request
from .conftest import Deployment
from .test_routing_service import read
from .test_worker_ops import wait_for_status

pytestmark = [pytest.mark.integration, pytest.mark.timeout(180)]


def router_env(dep: Deployment, port: int) -> dict[str, str]:
    return {
        **os.environ,
        "WARMHANDOFF_BOOTSTRAP_SERVERS": dep.settings.bootstrap_servers,
        "WARMHANDOFF_TOPIC_PREFIX": dep.settings.topic_prefix,
        "WARMHANDOFF_APP_ID": dep.settings.app_id,
        "WARMHANDOFF_WEB_PORT": str(port),
        "WARMHANDOFF_LOG_FORMAT": "json",
    }


def spawn(env: dict[str, str], log: Any) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "warmhandoff.streams.cli", "router"],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )


async def test_router_process_routes_and_stops_cleanly(
    deployment: Deployment, tmp_path: Any
) -> None:
    dep = deployment
    port = free_port()
    env = router_env(dep, port)
    log = (tmp_path / "router.log").open("wb")
    proc = spawn(env, log)
    producer = AIOKafkaProducer(**aiokafka_kwargs(dep.settings))
    await producer.start()
    try:
        await wait_for_status(port, "/readyz", 200, within=60)
        now = datetime.now(UTC)
        t = dep.topics
        agent = presence("agent-9", ts=now, skills={"customer_care": 5})
        await producer.send_and_wait(t.name("agent.presence"), encode(agent), key=b"agent-9")
        handoff = request("h9", created=now, skills=("customer_care",))
        await producer.send_and_wait(
            t.name("handoff.requests"), encode(handoff), key=handoff.conversation_id.encode()
        )

        def offered(found: dict[str, list[Any]]) -> bool:
            return any(
                e["source"] == SOURCE and e["type"] == "offered" and e["agent_id"] == "agent-9"
                for e in found["handoff.events"]
            )

        found = await read(dep, ["handoff.events"], offered, within=60)
        assert offered(found), found
        metrics = await wait_for_status(port, "/metrics", 200, within=5)
        assert "warmhandoff_queue_waiting" in metrics
    finally:
        await producer.stop()
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
        code = proc.wait(timeout=30)
        log.close()
    assert code == 0, (tmp_path / "router.log").read_text()[-2000:]


async def test_a_restarted_router_still_knows_the_agents(
    deployment: Deployment, tmp_path: Any
) -> None:
    """Presence is compacted and re-read on every start: the desk survives a restart."""
    dep = deployment
    port = free_port()
    env = router_env(dep, port)
    producer = AIOKafkaProducer(**aiokafka_kwargs(dep.settings))
    await producer.start()
    try:
        with (tmp_path / "router-1.log").open("wb") as log:
            first = spawn(env, log)
            await wait_for_status(port, "/readyz", 200, within=60)
            now = datetime.now(UTC)
            agent = presence("agent-7", ts=now, skills={"customer_care": 5})
            t = dep.topics
            await producer.send_and_wait(t.name("agent.presence"), encode(agent), key=b"agent-7")
            # The first router reads it (it offers the first handoff to that agent)...
            warmup = request("h-before", created=now, skills=("customer_care",))
            await producer.send_and_wait(
                t.name("handoff.requests"), encode(warmup), key=warmup.conversation_id.encode()
            )

            def offered_to(hid: str) -> Any:
                return lambda found: any(
                    e["source"] == SOURCE and e["handoff_id"] == hid and e["type"] == "offered"
                    for e in found["handoff.events"]
                )

            assert offered_to("h-before")(
                await read(dep, ["handoff.events"], offered_to("h-before"), 60)
            )
            first.send_signal(signal.SIGTERM)
            assert first.wait(timeout=30) == 0
        # ...then stops. Its group has committed past the presence record.
        with (tmp_path / "router-2.log").open("wb") as log:
            second = spawn(env, log)
            try:
                await wait_for_status(port, "/readyz", 200, within=60)
                # The agent finished the first chat and is free again: no new presence sent.
                fresh = request("h-after", created=datetime.now(UTC), skills=("customer_care",))
                await producer.send_and_wait(
                    t.name("handoff.requests"), encode(fresh), key=fresh.conversation_id.encode()
                )
                found = await read(dep, ["handoff.events"], offered_to("h-after"), 60)
                assert offered_to("h-after")(found), found
            finally:
                second.send_signal(signal.SIGTERM)
                assert second.wait(timeout=30) == 0
    finally:
        await producer.stop()
