"""`warmhandoff demo --desk`: after the run, the desk page stays up on the demo's traffic.

The simulated agents log off, a person at the page logs on as an agent who can serve every
queue, and a few more conversations escalate without anyone simulated to take them, so the
page has handoffs waiting for that person. It runs until Ctrl-C, which stops everything the
demo started.
"""

from __future__ import annotations

import asyncio
import secrets
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime

import aiohttp
from aiokafka import AIOKafkaProducer

from warmhandoff.agents.client import BotClient
from warmhandoff.agents.scenarios import generate
from warmhandoff.agents.simulator import SimulatedBot
from warmhandoff.streams.config.connection import aiokafka_kwargs
from warmhandoff.streams.config.worker import WorkerSettings
from warmhandoff.streams.contract.errors import WarmhandoffError
from warmhandoff.streams.contract.models import AgentPresence, PresenceState
from warmhandoff.streams.contract.topics import Topics
from warmhandoff.streams.core.codec import encode
from warmhandoff.streams.lab.demo.desk import agents
from warmhandoff.streams.lab.demo.processes import Service
from warmhandoff.streams.lab.demo.progress import Progress
from warmhandoff.streams.policy.model import Policy
from warmhandoff.streams.services.desk.auth import issue

#: The agent and supervisor the printed tokens log in as.
AGENT_ID = "you"
SUPERVISOR_ID = "supervisor"
#: Conversations that escalate once the page is up, for the person at it to work.
WAITING = 6
READY_TIMEOUT_S = 90.0


async def keep_desk_open(
    settings: WorkerSettings,
    topics: Topics,
    policy: Policy,
    services: list[Service],
    progress: Progress,
    log_path: object,
    *,
    port: int,
    say: Callable[[str], None],
) -> None:
    """Start the desk, hand its URL and tokens to the person, and wait until cancelled."""
    secret = secrets.token_hex(32)
    desk = Service(
        "desk",
        settings,
        log_path,  # type: ignore[arg-type]
        port=port,
        env={"WARMHANDOFF_DESK_SECRET": secret, "WARMHANDOFF_WEB_HOST": "127.0.0.1"},
    )
    services.append(desk)
    desk.start()
    progress.step("starting the desk page", waiting_on="the desk to read the topics", slow_after=20)
    await _ready(desk, services)
    await _staff(settings, topics, policy)
    progress.done(f"desk page up at http://127.0.0.1:{port}/")
    progress.step(
        "escalating a few more conversations for you",
        waiting_on="the simulated bots",
        slow_after=30,
    )
    async with BotClient(settings, topics=topics, bot_id="demo-desk") as client:
        start = datetime.now(UTC)
        convs = generate(WAITING, seed=int(time.time()), escalating_share=1.0, start=start,
                         prefix="desk-")  # fmt: skip
        await SimulatedBot(client).run(convs, rate=5.0, deadline=time.monotonic() + 60)
    progress.done(f"{WAITING} more conversations published; their handoffs wait for you")
    hours = 8.0
    say(
        f"\nThe desk page is up: http://127.0.0.1:{port}/\n"
        f"Log in as an agent who serves every queue with this token:\n"
        f"  {issue(secret, AGENT_ID, 'agent', hours=hours)}\n"
        f"or as a supervisor with:\n"
        f"  {issue(secret, SUPERVISOR_ID, 'supervisor', hours=hours)}\n"
        "Press Ctrl-C to stop the page, the worker, the router and the broker.\n"
    )
    while True:
        await asyncio.sleep(1.0)  # until Ctrl-C cancels the demo; each second checks the processes
        for service in services:
            failure = service.failure()
            if failure is not None:
                raise WarmhandoffError(failure)


async def _ready(desk: Service, services: Sequence[Service]) -> None:
    deadline = time.monotonic() + READY_TIMEOUT_S
    async with aiohttp.ClientSession() as http:
        while (waiting := await desk.readiness(http)) is not None:
            for service in services:
                if (failure := service.failure()) is not None:
                    raise WarmhandoffError(failure)
            if time.monotonic() > deadline:
                raise WarmhandoffError(f"the desk page was not ready in time: {waiting}")
            await asyncio.sleep(0.2)  # polling interval, not a wait for state


async def _staff(settings: WorkerSettings, topics: Topics, policy: Policy) -> None:
    """The simulated agents log off; the person at the page can serve every queue."""
    now = datetime.now(UTC)
    staff = agents(policy, now)
    records = [a.model_copy(update={"state": PresenceState.offline}) for a in staff]
    records.append(
        AgentPresence.model_validate(
            staff[0].model_dump() | {"agent_id": AGENT_ID, "capacity": 3, "active": 0}
        )
    )
    producer = AIOKafkaProducer(**aiokafka_kwargs(settings))
    await producer.start()
    try:
        for record in records:
            await producer.send_and_wait(
                topics.name("agent.presence"), encode(record), key=record.agent_id.encode()
            )
    finally:
        await producer.stop()
