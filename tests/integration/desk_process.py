"""`warmhandoff desk` as a child process beside a deployment's workers, and what the desk tests
share: a logged-in HTTP session, an agent's presence, an escalating conversation, and reading
a topic until a record shows up."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import aiohttp
import orjson
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer

from warmhandoff.agents.client import BotClient
from warmhandoff.agents.turns import turn
from warmhandoff.streams.config.connection import aiokafka_kwargs
from warmhandoff.streams.contract.models import Customer, Role
from warmhandoff.streams.runtime.broker import free_port
from warmhandoff.streams.services.desk.auth import issue

from .conftest import Deployment
from .test_worker_ops import wait_for_status

SECRET = "integration-desk-secret-0123456789abcdef"
ANGRY = [
    "my parcel never arrived",
    "this is not working, it still hasn't arrived",
    "that's wrong, the tracking is useless, I'm annoyed",
    "this is ridiculous, still nothing",
]


class DeskProcess:
    """The desk page's process on a port of its own."""

    def __init__(self, dep: Deployment) -> None:
        self.dep = dep
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = dep.tmp / "desk.log"
        self.proc: subprocess.Popen[bytes] | None = None

    async def start(self) -> None:
        self.launch()
        await wait_for_status(self.port, "/readyz", 200, within=90)

    def launch(self) -> None:
        s = self.dep.settings
        env = dict(os.environ)
        env.update(
            {
                "WARMHANDOFF_BOOTSTRAP_SERVERS": s.bootstrap_servers,
                "WARMHANDOFF_TOPIC_PREFIX": s.topic_prefix,
                "WARMHANDOFF_APP_ID": s.app_id,
                "WARMHANDOFF_DATA_DIR": str(s.data_dir),
                "WARMHANDOFF_POLICY_FILE": str(s.policy_file),
                "WARMHANDOFF_WEB_PORT": str(self.port),
                "WARMHANDOFF_WEB_HOST": "127.0.0.1",
                "WARMHANDOFF_DESK_SECRET": SECRET,
                "WARMHANDOFF_LOG_FORMAT": "json",
            }
        )
        log = self.log_path.open("ab")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "warmhandoff.streams.cli", "desk"],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )

    def stop(self) -> int | None:
        if self.proc is None or self.proc.poll() is not None:
            return None if self.proc is None else self.proc.returncode
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        return self.proc.returncode

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")[-3000:]


def token(person: str, role: str = "agent") -> str:
    return issue(SECRET, person, role, hours=1)  # type: ignore[arg-type]


async def login(desk: DeskProcess, person: str, role: str = "agent") -> aiohttp.ClientSession:
    """An HTTP session holding the desk's session cookie, as a browser would."""
    session = aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True))
    async with session.post(
        f"{desk.url}/login", data={"token": token(person, role)}, allow_redirects=False
    ) as response:
        assert response.status == 302 and response.headers["Location"] == "/"
    return session


async def publish_presence(dep: Deployment, agent_id: str, skills: dict[str, int]) -> None:
    producer = AIOKafkaProducer(**aiokafka_kwargs(dep.settings))
    await producer.start()
    try:
        presence = {
            "agent_id": agent_id,
            "ts": datetime.now(UTC).isoformat(),
            "state": "available",
            "skills": skills,
            "languages": ["en"],
            "capacity": 2,
        }
        await producer.send_and_wait(
            dep.topics.name("agent.presence"), orjson.dumps(presence), key=agent_id.encode()
        )
    finally:
        await producer.stop()


async def escalate(dep: Deployment, customer_id: str) -> str:
    """Publish a conversation that escalates to the general queue; its id."""
    cid = f"desk-{uuid.uuid4().hex[:8]}"
    start = datetime.now(UTC)
    async with BotClient(dep.settings, topics=dep.topics, bot_id="desk-it") as bot:
        for seq, text in enumerate(ANGRY):
            at = start + timedelta(seconds=seq)
            t = turn(cid, seq, Role.customer, text, now=at, locale="en-US")
            t = t.model_copy(update={"customer": Customer(id=customer_id)})
            await bot.publish(t)
    return cid


async def read_topic(
    dep: Deployment, key: str, found: Callable[[dict[str, Any]], bool], *, within: float
) -> dict[str, Any]:
    """The first record of a topic (from its beginning) that `found` accepts."""
    consumer = AIOKafkaConsumer(
        dep.topics.name(key),
        **aiokafka_kwargs(dep.settings),
        auto_offset_reset="earliest",
        group_id=None,
    )
    await consumer.start()
    deadline = time.monotonic() + within
    try:
        while time.monotonic() < deadline:
            batch = await consumer.getmany(timeout_ms=500)
            for records in batch.values():
                for record in records:
                    value = orjson.loads(record.value)
                    if found(value):
                        return value  # type: ignore[no-any-return]
    finally:
        await consumer.stop()
    raise AssertionError(f"nothing on {key} matched within {within}s")
