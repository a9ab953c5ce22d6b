"""Drive the running pipeline: wait until it is ready, publish the simulated conversations,
wait for their decisions and for the desk to close every handoff, and tally what came out.

Every wait is bounded and polls (the counters are fed by other tasks and by child processes);
each one checks that the worker and the router still run, so a crash ends the demo at once
with the reason instead of a silent stall.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable, Coroutine, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import aiohttp
import orjson
from aiokafka import AIOKafkaConsumer

from warmhandoff.agents.client import BotClient
from warmhandoff.agents.scenarios import Conversation, generate
from warmhandoff.agents.simulator import SimulatedBot, SimulationReport
from warmhandoff.agents.turns import turn
from warmhandoff.streams.config.connection import aiokafka_kwargs
from warmhandoff.streams.config.worker import WorkerSettings
from warmhandoff.streams.contract.errors import WarmhandoffError
from warmhandoff.streams.contract.models import Role
from warmhandoff.streams.contract.topics import Topics
from warmhandoff.streams.lab.demo.desk import SimulatedDesk
from warmhandoff.streams.lab.demo.processes import STARTING, Service
from warmhandoff.streams.lab.demo.progress import Progress
from warmhandoff.streams.lab.demo.tally import (
    PROBE_CONVERSATION,
    DemoSummary,
    DeskReport,
    Kind,
    Tally,
    sample_handoff,
    summarise,
)
from warmhandoff.streams.policy.model import Policy

READY_TIMEOUT_S = 60.0
DRAIN_TIMEOUT_S = 45.0
PUBLISH_TIMEOUT_S = 90.0
POLL_S = 0.2

#: The topics the demo reads, by what their records are.
OUTPUTS: dict[str, Kind] = {
    "escalation.decisions": "decision",
    "handoff.requests": "handoff",
    "bot.directives": "directive",
    "deadletter": "deadletter",
}


@dataclass(frozen=True)
class Outcome:
    """What the demo prints, and whether the pipeline did what the scenarios expect."""

    summary: DemoSummary
    sample: dict[str, Any] | None
    told: str | None  # the last thing the sample's customer was told
    problem: str | None  # None when the run went as expected


async def drive(
    settings: WorkerSettings,
    topics: Topics,
    services: Sequence[Service],
    progress: Progress,
    *,
    policy: Policy,
    conversations: int,
    rate: float,
    seed: int,
    began: float,
    launched: float,
) -> Outcome:
    """Run the traffic through the started worker and router (`began`: the demo's start,
    `launched`: the processes', both monotonic times)."""
    tally = Tally()
    desk = SimulatedDesk(settings, topics, policy, seed=seed)
    async with contextlib.AsyncExitStack() as stack:
        progress.step(
            "starting the worker and the router",
            waiting_on="the worker and the router to start",
            slow_after=10,
        )
        consumer = AIOKafkaConsumer(
            *(topics.name(t) for t in OUTPUTS),
            **aiokafka_kwargs(settings),
            auto_offset_reset="earliest",
            group_id=None,
        )
        await consumer.start()
        stack.push_async_callback(consumer.stop)
        _background(stack, _collect(consumer, topics, tally))
        _background(stack, desk.run())
        client = BotClient(settings, topics=topics, bot_id="demo")
        # The bots join their group while the worker starts: both take seconds.
        connecting = asyncio.create_task(stack.enter_async_context(client))
        stack.push_async_callback(_cancel_unless_done, connecting)
        await _ready(connecting, client, services, tally, progress, launched)
        convs = generate(conversations, seed=seed, start=datetime.now(UTC), prefix=f"d{seed}-")
        report = await _publish(client, convs, rate, services, tally, desk, progress)
        await _drain(services, tally, progress, expected=report.turns_published)
        await desk.finish()
        await _drain_lifecycle(services, tally, desk, progress)
    needing_human = {c.conversation_id for c in convs if c.scenario.expect_escalation}
    report_of_desk = DeskReport(
        received=len(desk.seen),
        routed=len(desk.accepted),
        resolved=desk.published["resolved"],
        handed_back=desk.published["handed_back"],
    )
    summary = summarise(
        tally,
        conversations=len(convs),
        needing_human=needing_human,
        desk=report_of_desk,
        seconds=time.monotonic() - began,
    )
    sample = sample_handoff(tally)
    told = tally.told.get(sample["handoff_id"]) if sample else None
    return Outcome(summary, sample, told, _problem(tally, desk))


def _problem(tally: Tally, desk: SimulatedDesk) -> str | None:
    if not tally.handoffs:
        return "the pipeline produced no handoff"
    if desk.seen and not (tally.directives["pause"] and tally.directives["resume"]):
        return "the bots were not paused and resumed around the handoffs the desk took"
    return None


async def _ready(
    connecting: asyncio.Task[BotClient],
    client: BotClient,
    services: Sequence[Service],
    tally: Tally,
    progress: Progress,
    launched: float,
) -> None:
    """Wait for the processes, the consumer groups and a first decision, saying which."""
    deadline = time.monotonic() + READY_TIMEOUT_S
    async with aiohttp.ClientSession() as http:
        waiting = await _readiness(http, services, connecting)
        while STARTING in waiting.values():
            progress.waiting_on(_waiting_text(waiting))
            await _sleep_checking(services, deadline, _waiting_text(waiting))
            waiting = await _readiness(http, services, connecting)
        progress.done(f"worker and router started ({time.monotonic() - launched:.1f} s)")
        progress.step(
            "waiting for the consumer groups to form",
            waiting_on=_waiting_text(waiting),
            slow_after=15,
        )
        while waiting:
            progress.waiting_on(_waiting_text(waiting))
            await _sleep_checking(services, deadline, _waiting_text(waiting))
            waiting = await _readiness(http, services, connecting)
    probe = "the worker's decision on a probe turn"
    progress.waiting_on(probe)
    await client.publish(turn(PROBE_CONVERSATION, 0, Role.customer, "hello", now=datetime.now(UTC)))
    while not tally.probe_decided:
        await _sleep_checking(services, deadline, probe)
    progress.done(
        "worker joined its consumer group and decided a probe turn "
        f"{time.monotonic() - launched:.1f} s after it was launched"
    )


async def _readiness(
    http: aiohttp.ClientSession, services: Sequence[Service], connecting: asyncio.Task[BotClient]
) -> dict[str, str]:
    """What each part not ready yet is waiting for, by name."""
    found = {s.command: await s.readiness(http) for s in services}
    if connecting.done():
        connecting.result()  # raises why the bots could not connect
    else:
        found["simulated bots"] = "joining their consumer group for directives"
    return {name: reason for name, reason in found.items() if reason is not None}


def _waiting_text(waiting: dict[str, str]) -> str:
    """`worker and router: starting up; simulated bots: joining ...` (one reason, one entry)."""
    by_reason: dict[str, list[str]] = {}
    for name, reason in waiting.items():
        by_reason.setdefault(reason, []).append(name)
    return "; ".join(f"{' and '.join(names)}: {reason}" for reason, names in by_reason.items())


async def _publish(
    client: BotClient,
    convs: list[Conversation],
    rate: float,
    services: Sequence[Service],
    tally: Tally,
    desk: SimulatedDesk,
    progress: Progress,
) -> SimulationReport:
    """Publish every conversation at `rate` turns/s, with the counters on the display."""
    scripted = sum(len(c.turns) for c in convs)
    stats = client.stats
    progress.step(
        "publishing the simulated conversations",
        waiting_on=f"the bots, publishing at {rate:g} turns/s and answering directives",
        slow_after=scripted / rate + 15,
        counts=lambda: (
            f"turns published {stats.turns_published} of about {scripted}, "
            f"decided {tally.decisions}, handoffs {len(tally.handoffs)}, "
            f"routed {len(desk.accepted)}"
        ),
    )
    bot = SimulatedBot(client)
    run = asyncio.create_task(
        bot.run(convs, rate=rate, deadline=time.monotonic() + PUBLISH_TIMEOUT_S)
    )
    try:
        finished = await _until(run.done, services, PUBLISH_TIMEOUT_S + 10)
    finally:
        if not run.done():
            run.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await run
    if not finished:
        raise WarmhandoffError(f"the simulated bots did not finish in {PUBLISH_TIMEOUT_S:.0f} s")
    report = run.result()
    progress.done(f"{report.turns_published} turns of {len(convs)} conversations published")
    return report


async def _drain(
    services: Sequence[Service], tally: Tally, progress: Progress, *, expected: int
) -> None:
    """Wait until every published turn has its decision (bounded)."""
    progress.step(
        "waiting for the last decisions",
        waiting_on="the worker to decide the last turns",
        slow_after=10,
        counts=lambda: f"turns decided {tally.decisions} of {expected}",
    )
    if await _until(lambda: tally.decisions >= expected, services, DRAIN_TIMEOUT_S):
        progress.done(f"all {expected} turns decided")
    else:
        progress.done(
            f"gave up after {DRAIN_TIMEOUT_S:.0f} s: {expected - tally.decisions} turns "
            "without a decision"
        )


async def _drain_lifecycle(
    services: Sequence[Service], tally: Tally, desk: SimulatedDesk, progress: Progress
) -> None:
    """Wait until the desk answered every handoff and each got its `resume` (bounded)."""

    def finished() -> bool:
        answered = set(tally.handoffs) <= desk.seen
        return answered and tally.directives["resume"] >= len(desk.seen)

    progress.step(
        "waiting for the last handoffs",
        waiting_on="the desk to close the handoffs and the worker to hand them back to the bots",
        slow_after=10,
        counts=lambda: (
            f"handoffs answered by the desk {len(desk.seen)} of {len(tally.handoffs)}, "
            f"handed back to the bots {tally.directives['resume']}"
        ),
    )
    if await _until(finished, services, DRAIN_TIMEOUT_S):
        progress.done(f"all {len(desk.seen)} handoffs closed and handed back to the bots")
    else:
        progress.done(f"gave up after {DRAIN_TIMEOUT_S:.0f} s on the last handoffs")


async def _until(done: Callable[[], bool], services: Sequence[Service], seconds: float) -> bool:
    """Poll `done` until it holds (True) or `seconds` pass (False)."""
    try:
        async with asyncio.timeout(seconds):
            while not done():
                _check(services)
                await asyncio.sleep(POLL_S)
    except TimeoutError:
        return False
    return True


async def _sleep_checking(services: Sequence[Service], deadline: float, waiting_on: str) -> None:
    """One poll interval of a wait that must end by `deadline` (a monotonic time)."""
    _check(services)
    if time.monotonic() > deadline:
        raise WarmhandoffError(
            f"the pipeline was not ready in {READY_TIMEOUT_S:.0f} s, still waiting on {waiting_on}"
        )
    await asyncio.sleep(POLL_S)


def _check(services: Sequence[Service]) -> None:
    for service in services:
        failure = service.failure()
        if failure is not None:
            raise WarmhandoffError(failure)


async def _cancel_unless_done(task: asyncio.Task[Any]) -> None:
    if not task.done():
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


def _background(stack: contextlib.AsyncExitStack, work: Coroutine[Any, Any, None]) -> None:
    """Run `work` as a task that the stack cancels on the way out."""
    task = asyncio.create_task(work)

    async def cancel() -> None:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task

    stack.push_async_callback(cancel)


async def _collect(consumer: AIOKafkaConsumer, topics: Topics, tally: Tally) -> None:
    """Read the pipeline's outputs into the tally."""
    kinds = {topics.name(topic): kind for topic, kind in OUTPUTS.items()}
    async for msg in consumer:
        tally.add(kinds[msg.topic], orjson.loads(msg.value), msg.timestamp)
