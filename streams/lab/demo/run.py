"""`warmhandoff demo`: the whole pipeline on a fresh machine, in about a minute.

Starts the embedded broker (unless WARMHANDOFF_BOOTSTRAP_SERVERS is set), applies topics.yaml
under a fresh prefix, runs one worker process, drives simulated bots (mostly ordinary
conversations the bot handles alone, some for every trigger family), shows live progress, then
prints a summary: escalations by trigger and by queue, one sample handoff with its bundle, and
decision latency from turn produced to handoff produced. It also runs the live router
(`warmhandoff router`) and a simulated contact centre (streams/lab/demo/desk.py) whose agents the
router routes handoffs to: delivered → offered by the router → accepted → resolved (or handed
back) on `handoff.events`, so the summary shows customers told their place in line and wait,
and the bot paused and resumed.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson
from aiokafka import AIOKafkaConsumer

from warmhandoff.agents.client import BotClient, turn
from warmhandoff.agents.scenarios import generate
from warmhandoff.agents.simulator import SimulatedBot
from warmhandoff.streams.config.connection import aiokafka_kwargs
from warmhandoff.streams.config.worker import WorkerSettings
from warmhandoff.streams.contract.errors import WarmhandoffError
from warmhandoff.streams.contract.models import Role
from warmhandoff.streams.contract.topics import Topics, load_topics
from warmhandoff.streams.lab.demo.desk import SimulatedDesk
from warmhandoff.streams.policy.loader import load_policy
from warmhandoff.streams.runtime.broker import EmbeddedBroker, free_port
from warmhandoff.streams.runtime.topic_admin import apply_topics

READY_TIMEOUT_S = 60.0
DRAIN_TIMEOUT_S = 45.0


@dataclass
class Tally:
    """What the demo saw on the output topics."""

    decisions: int = 0
    handoffs: list[dict[str, Any]] = field(default_factory=list)
    latencies_ms: list[float] = field(default_factory=list)
    directives: Counter[str] = field(default_factory=Counter)
    deadletters: int = 0
    seen_decision_ids: set[str] = field(default_factory=set)
    waits_told: int = 0
    wait_sample: str = ""


def run_demo(*, conversations: int, rate: float, seed: int) -> int:
    """Run the demo end to end; 0 when the pipeline produced what the scenarios expect."""
    return asyncio.run(_demo(conversations=conversations, rate=rate, seed=seed))


async def _demo(*, conversations: int, rate: float, seed: int) -> int:
    workdir = Path(tempfile.mkdtemp(prefix="warmhandoff-demo-"))
    run_id = uuid.uuid4().hex[:6]
    explicit = os.environ.get("WARMHANDOFF_BOOTSTRAP_SERVERS")
    broker: EmbeddedBroker | None = None
    worker: subprocess.Popen[bytes] | None = None
    router: subprocess.Popen[bytes] | None = None
    started = time.monotonic()
    try:
        if explicit:
            bootstrap = explicit
            _say(f"using the Kafka cluster at {bootstrap}")
        else:
            port = free_port()
            bootstrap = f"127.0.0.1:{port}"
            broker = EmbeddedBroker(port=port, data_dir=workdir)
            await broker.astart()
            _say(f"embedded broker (Tansu) up at {bootstrap}")
        settings = WorkerSettings(
            bootstrap_servers=bootstrap,
            topic_prefix=f"demo-{run_id}.",
            app_id=f"warmhandoff-demo-{run_id}",
            data_dir=workdir / "state",
            embedded_broker="never",
        )
        topics = load_topics(
            settings.topics_file, prefix=settings.topic_prefix, app_id=settings.app_id
        )
        report = await apply_topics(topics, settings)
        if not report.ok:
            raise WarmhandoffError("could not apply topics.yaml")
        _say(f"{len(report.created)} topics created from topics.yaml")
        worker = _start_worker(settings, workdir)
        router = _start_worker(settings, workdir, command="router")
        spawned = time.monotonic()
        result = await _drive(settings, topics, worker, conversations, rate, seed, spawned)
        _say(f"finished in {time.monotonic() - started:.0f} s; worker log: {workdir}/worker.log")
        return result
    finally:
        for proc in (worker, router):
            if proc is not None:
                _stop(proc)
        if broker is not None:
            await broker.astop()


def _start_worker(
    settings: WorkerSettings, workdir: Path, command: str = "worker"
) -> subprocess.Popen[bytes]:
    """One worker (or router) process, configured entirely through the environment."""
    env = dict(os.environ)
    env.update(
        {
            "WARMHANDOFF_BOOTSTRAP_SERVERS": settings.bootstrap_servers,
            "WARMHANDOFF_TOPIC_PREFIX": settings.topic_prefix,
            "WARMHANDOFF_APP_ID": settings.app_id,
            "WARMHANDOFF_DATA_DIR": str(settings.data_dir),
            "WARMHANDOFF_WEB_PORT": "0",
            "WARMHANDOFF_LOG_FORMAT": "json",
        }
    )
    log = (workdir / f"{command}.log").open("wb")
    return subprocess.Popen(
        [sys.executable, "-m", "warmhandoff.streams.cli", command],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )


def _stop(proc: subprocess.Popen[bytes]) -> None:
    """SIGTERM, then SIGKILL if it does not exit in time."""
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


async def _drive(
    settings: WorkerSettings,
    topics: Topics,
    worker: subprocess.Popen[bytes],
    n: int,
    rate: float,
    seed: int,
    spawned: float,
) -> int:
    tally = Tally()
    consumer = AIOKafkaConsumer(
        topics.name("escalation.decisions"),
        topics.name("handoff.requests"),
        topics.name("bot.directives"),
        topics.name("deadletter"),
        **aiokafka_kwargs(settings),
        auto_offset_reset="earliest",
        group_id=None,
    )
    await consumer.start()
    collector = asyncio.create_task(_collect(consumer, topics, tally))
    desk = SimulatedDesk(settings, topics, load_policy(settings.policy_file), seed=seed)
    desk_task = asyncio.create_task(desk.run())
    try:
        async with BotClient(settings, topics=topics, bot_id="demo") as client:
            await _wait_ready(client, tally, worker)
            ready = time.monotonic() - spawned
            _say(f"worker joined its group and decided a probe turn {ready:.1f} s after start")
            convs = generate(n, seed=seed, start=datetime.now(UTC), prefix=f"d{seed}-")
            bot = SimulatedBot(client)
            progress = asyncio.create_task(_progress(tally))
            report = await bot.run(convs, rate=rate, deadline=time.monotonic() + 90)
            await _drain(tally, worker, expected=1 + report.turns_published)
            await desk.finish()
            await _drain_lifecycle(tally, desk, worker)
            progress.cancel()
        _summary(tally, convs, desk)
        looped = not desk.seen or (tally.directives["pause"] and tally.directives["resume"])
        return 0 if tally.handoffs and looped and worker.poll() is None else 1
    finally:
        for task in (desk_task, collector):
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        await consumer.stop()


async def _wait_ready(client: BotClient, tally: Tally, worker: subprocess.Popen[bytes]) -> None:
    """Publish a probe turn until the worker's decision for it comes back."""
    probe = turn("demo-probe", 0, Role.customer, "hello", now=datetime.now(UTC))
    await client.publish(probe)
    deadline = time.monotonic() + READY_TIMEOUT_S
    while tally.decisions == 0:
        if worker.poll() is not None:
            raise WarmhandoffError(f"the worker exited with status {worker.returncode}")
        if time.monotonic() > deadline:
            raise WarmhandoffError(f"the worker did not process a turn in {READY_TIMEOUT_S:.0f} s")
        await asyncio.sleep(0.2)


async def _drain(tally: Tally, worker: subprocess.Popen[bytes], *, expected: int) -> None:
    """Wait until every published turn has its decision (bounded)."""
    deadline = time.monotonic() + DRAIN_TIMEOUT_S
    # Polls: the counter is fed by the collector task and the worker is a child process.
    while tally.decisions < expected and time.monotonic() < deadline:
        if worker.poll() is not None:
            return
        await asyncio.sleep(0.2)


async def _drain_lifecycle(
    tally: Tally, desk: SimulatedDesk, worker: subprocess.Popen[bytes]
) -> None:
    """Wait until every handoff the desk answered has had its `resume` (bounded)."""
    deadline = time.monotonic() + DRAIN_TIMEOUT_S
    # Polls, like `_drain`: the counters are fed by other tasks and a child process.
    while time.monotonic() < deadline and worker.poll() is None:
        answered = {h["handoff_id"] for h in tally.handoffs} <= desk.seen
        if answered and tally.directives["resume"] >= len(desk.seen):
            return
        await asyncio.sleep(0.2)


def _lifecycle_summary(tally: Tally, desk: SimulatedDesk) -> None:
    """What the simulated contact centre reported and what the bots were told."""
    reported = ", ".join(f"{k} {v}" for k, v in sorted(desk.published.items()))
    print(f"desk events        {reported or 'none'} (simulated contact centre)")
    print(
        f"router             {len(desk.accepted)} of {len(desk.seen)} handoffs routed to an "
        f"agent ({len(desk.seen) - len(desk.accepted)} still waiting, or ticketed out of hours, "
        "when the demo ended: handed back)"
    )
    print(
        f"                   {tally.waits_told} updates told a waiting customer their place in "
        "line and the wait"
    )
    if tally.wait_sample:
        print(f'  e.g. "{tally.wait_sample}"')
    print(
        f"bot ownership      paused {tally.directives['pause']}, "
        f"resumed {tally.directives['resume']} (handed back after resolution)"
    )


async def _collect(consumer: AIOKafkaConsumer, topics: Topics, tally: Tally) -> None:
    """Read the pipeline's outputs into the tally."""
    decisions = topics.name("escalation.decisions")
    handoffs = topics.name("handoff.requests")
    directives = topics.name("bot.directives")
    async for msg in consumer:
        value = orjson.loads(msg.value)
        if msg.topic == decisions:
            if value["decision_id"] not in tally.seen_decision_ids:
                tally.seen_decision_ids.add(value["decision_id"])
                tally.decisions += 1
        elif msg.topic == handoffs:
            tally.handoffs.append(value)
            turn_ts = datetime.fromisoformat(value["turn_ts"]).timestamp() * 1000
            tally.latencies_ms.append(msg.timestamp - turn_ts)
        elif msg.topic == directives:
            tally.directives[value["type"]] += 1
            if value["type"] == "status" and value.get("position"):
                tally.waits_told += 1  # the router's update: place in line and the wait
                tally.wait_sample = tally.wait_sample or value["message"]
        else:
            tally.deadletters += 1


async def _progress(tally: Tally) -> None:
    """A live progress line, once a second."""
    while True:
        await asyncio.sleep(1.0)
        _say(
            f"turns decided {tally.decisions - 1:>5}  "
            f"handoffs {len(tally.handoffs):>4}  directives {sum(tally.directives.values()):>4}"
        )


def _summary(tally: Tally, convs: list[Any], desk: SimulatedDesk) -> None:
    """Print what happened."""
    by_trigger: Counter[str] = Counter()
    by_queue: Counter[str] = Counter()
    for h in tally.handoffs:
        by_queue[h["routing"]["queue"]] += 1
        for hit in h["triggers"]:
            by_trigger[hit["code"]] += 1
    escalated = {h["conversation_id"] for h in tally.handoffs}
    should = {c.conversation_id for c in convs if c.scenario.expect_escalation}
    print()
    print("== warmhandoff demo summary")
    print(f"conversations      {len(convs)} ({len(should)} scripted to need a human)")
    print(f"turns decided      {tally.decisions - 1}")
    rate = len(escalated) / len(convs)
    print(f"handoffs           {len(tally.handoffs)}  (escalation rate {rate:.1%})")
    print(
        f"  expected and got {len(escalated & should)}; missed {len(should - escalated)}; "
        f"unexpected {len(escalated - should)}"
    )
    print(f"directives         {dict(tally.directives)}")
    print(f"dead letters       {tally.deadletters}")
    print("escalations by trigger: " + ", ".join(f"{k} {v}" for k, v in by_trigger.most_common()))
    print("escalations by queue:   " + ", ".join(f"{k} {v}" for k, v in by_queue.most_common()))
    if tally.latencies_ms:
        lat = sorted(tally.latencies_ms)
        p50 = lat[len(lat) // 2]
        p99 = lat[min(len(lat) - 1, int(len(lat) * 0.99))]
        print(
            "decision latency (turn produced → handoff produced): "
            f"p50 {p50:.0f} ms, p99 {p99:.0f} ms"
        )
    _lifecycle_summary(tally, desk)
    if tally.handoffs:
        sample = max(tally.handoffs, key=lambda h: len(h["triggers"]))
        print("\nsample handoff:")
        print(json.dumps(sample, indent=2, ensure_ascii=False))


def _say(text: str) -> None:
    print(f"[demo] {text}", flush=True)
