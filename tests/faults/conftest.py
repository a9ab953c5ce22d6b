"""Fault-suite fixtures: a broker of its own (so one test may SIGSTOP it), paced traffic, a
background reader of the outputs, committed-offset lag, and the figures each scenario reports.

The short version runs in the default test run; WARMHANDOFF_FAULTS_LONG=1 runs the long one
(more traffic, more cycles, a 30 s SIGSTOP). Lag is measured by committed offsets against the
offsets the producer was given, not by high watermarks (the embedded broker reports those
wrongly for multi-record batches).
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import os
import time
from collections import Counter
from collections.abc import AsyncIterator, Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import orjson
import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition

from warmhandoff.streams.config.connection import aiokafka_kwargs
from warmhandoff.streams.contract.models import Turn
from warmhandoff.streams.core.pipeline import new_state, process_turn

from ..brokers import RunningBroker, TestBroker
from ..integration.conftest import Deployment, deployment, expected_handoffs, first_seen_seqs

__all__ = ["deployment"]  # the integration fixture, re-exported for the fault tests

LONG = os.environ.get("WARMHANDOFF_FAULTS_LONG") == "1"


@dataclass(frozen=True)
class Scale:
    """How hard the suite pushes: the short version for CI, the long one on demand."""

    rate: float  # sustained turns/s while faults are injected
    rotations: int  # worker stop/start cycles in (a)
    kills: int  # kill -9 cycles in (b)
    sigstop_seconds: float  # how long (d) holds the broker stopped
    sink_restarts: int  # sink kill -9 cycles in (e)
    burst_seconds: float  # how long the 10x burst lasts
    spam_turns: int  # turns of the one spamming conversation
    quiet_turns: int  # traffic turns published after the last fault


SCALE = (
    Scale(
        rate=300,
        rotations=6,
        kills=8,
        sigstop_seconds=30,
        sink_restarts=4,
        burst_seconds=5,
        spam_turns=10_000,
        quiet_turns=1500,
    )
    if LONG
    else Scale(
        rate=150,
        rotations=3,
        kills=3,
        sigstop_seconds=5,
        sink_restarts=2,
        burst_seconds=2,
        spam_turns=2000,
        quiet_turns=300,
    )
)
#: Generous bounds: the machine is shared and noisy; the figures report what was observed.
DRAIN_BOUND_S = 180.0 if LONG else 90.0

FIGURES: list[dict[str, Any]] = []


@pytest.fixture(scope="package")
def faults_broker(
    test_broker: TestBroker, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[RunningBroker]:
    """A broker of the run's kind for this suite only: (d) stops and resumes its process."""
    with test_broker.started(tmp_path_factory.mktemp("faults-broker")) as broker:
        yield broker


@pytest.fixture(scope="package")
def kafka_bootstrap(faults_broker: RunningBroker) -> str:
    """Overrides the session broker: every fault test talks to the suite's own broker."""
    return faults_broker.bootstrap


# --- traffic -------------------------------------------------------------------------------


class Feeder:
    """Publishes turns at `rate` per second until stopped or out of turns; remembers what it
    published, when, and the offset each turn got (the target of the lag measurement)."""

    TICK = 0.02

    def __init__(self, dep: Deployment, turns: list[Turn], rate: float) -> None:
        self.dep = dep
        self.pool = turns
        self.rate = rate
        self.published: list[Turn] = []
        self.sent_at: dict[tuple[str, int], float] = {}
        self.end_offsets: dict[int, int] = {}
        #: (conversation_id, seq) -> (partition, offset) of every turn the broker took.
        self.placed: dict[tuple[str, int], tuple[int, int]] = {}
        self._futures: list[asyncio.Future[Any]] = []
        self._stop = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._producer: AIOKafkaProducer | None = None

    async def start(self) -> None:
        # Long request timeouts: a send must outlast the broker held by SIGSTOP.
        self._producer = AIOKafkaProducer(
            **aiokafka_kwargs(self.dep.settings),
            acks="all",
            enable_idempotence=False,
            linger_ms=5,
            request_timeout_ms=120_000,
        )
        await self._producer.start()
        self._task = asyncio.create_task(self._run())

    @property
    def exhausted(self) -> bool:
        return len(self.published) >= len(self.pool)

    async def _run(self) -> None:
        assert self._producer is not None
        topic = self.dep.topics.name("conversation.turns")
        budget = 0.0
        last = time.monotonic()
        while not self._stop.is_set() and not self.exhausted:
            now = time.monotonic()
            budget += self.rate * (now - last)
            last = now
            while budget >= 1 and not self.exhausted:
                turn = self.pool[len(self.published)]
                future = await self._producer.send(
                    topic,
                    key=turn.conversation_id.encode(),
                    value=turn.model_dump_json(exclude_none=True).encode(),
                )
                future.add_done_callback(functools.partial(self._landed, turn))
                self._futures.append(future)
                self.published.append(turn)
                self.sent_at[(turn.conversation_id, turn.seq)] = time.monotonic()
                budget -= 1
            # Pacing, not synchronisation: the rate is what this class is for.
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stop.wait(), self.TICK)

    def _landed(self, turn: Turn, future: asyncio.Future[Any]) -> None:
        if future.cancelled() or future.exception() is not None:
            return
        meta = future.result()
        self.placed[(turn.conversation_id, turn.seq)] = (meta.partition, meta.offset)
        self.end_offsets[meta.partition] = max(
            self.end_offsets.get(meta.partition, 0), meta.offset + 1
        )

    async def stop(self) -> None:
        """Stop publishing and wait until the broker has every published turn."""
        self._stop.set()
        if self._task is not None:
            await self._task
        if self._futures:
            await asyncio.wait_for(asyncio.gather(*self._futures), 180)
        if self._producer is not None:
            await self._producer.stop()

    async def wait_published(self, n: int, within: float) -> None:
        await eventually(lambda: len(self.published) >= n, within, what=f"{n} turns published")


# --- observation ---------------------------------------------------------------------------


async def eventually(
    condition: Callable[[], bool], within: float, *, what: str, interval: float = 0.1
) -> float:
    """Wait until `condition()` holds; the seconds it took. Fails after `within` seconds."""
    started = time.monotonic()
    while not condition():
        if time.monotonic() - started > within:
            raise AssertionError(f"not within {within} s: {what}")
        await asyncio.sleep(interval)
    return time.monotonic() - started


class Watcher:
    """Reads the pipeline's outputs from the start, in the background, with arrival times."""

    def __init__(self, dep: Deployment) -> None:
        self.dep = dep
        t = dep.topics
        self.decisions: list[dict[str, Any]] = []
        self.handoffs: list[dict[str, Any]] = []
        self.decided_at: dict[tuple[str, int], float] = {}
        self._lists = {
            t.name("escalation.decisions"): self.decisions,
            t.name("handoff.requests"): self.handoffs,
        }
        self._task: asyncio.Task[None] | None = None
        self._consumer: AIOKafkaConsumer | None = None

    async def start(self) -> None:
        self._consumer = AIOKafkaConsumer(
            *self._lists,
            **aiokafka_kwargs(self.dep.settings),
            auto_offset_reset="earliest",
            group_id=None,
            request_timeout_ms=120_000,
        )
        await self._consumer.start()
        self._task = asyncio.create_task(self._run())

    async def _run(self) -> None:
        assert self._consumer is not None
        while True:
            batch = await self._consumer.getmany(timeout_ms=200)
            now = time.monotonic()
            for records in batch.values():
                for record in records:
                    value = orjson.loads(record.value)
                    self._lists[record.topic].append(value)
                    if record.topic == self.dep.topics.name("escalation.decisions"):
                        key = (value["conversation_id"], value["seq"])
                        if value["signals"]["role"] != "system":
                            self.decided_at.setdefault(key, now)

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        if self._consumer is not None:
            await self._consumer.stop()

    async def _read_all(self, key: str) -> list[Any]:
        """Every record of a topic, read from the start by a fresh consumer."""
        consumer = AIOKafkaConsumer(
            self.dep.topics.name(key),
            **aiokafka_kwargs(self.dep.settings),
            auto_offset_reset="earliest",
        )
        await consumer.start()
        found: list[Any] = []
        try:
            while batch := await consumer.getmany(timeout_ms=2000):
                for records in batch.values():
                    found.extend(records)
        finally:
            await consumer.stop()
        return found

    async def reread(self) -> set[tuple[str, int]]:
        """Every decided (conversation, seq) in escalation.decisions, read again by a fresh
        consumer (tells a turn never decided from one this reader missed)."""
        values = [orjson.loads(r.value) for r in await self._read_all("escalation.decisions")]
        return {(value["conversation_id"], value["seq"]) for value in values}

    async def readable_turns(self) -> set[tuple[int, int]]:
        """(partition, offset) of every record conversation.turns returns to a fresh reader
        (tells turns the broker lost from turns the workers skipped)."""
        return {(r.partition, r.offset) for r in await self._read_all("conversation.turns")}

    def decided(self, turns: list[Turn]) -> bool:
        return all((t.conversation_id, t.seq) in self.decided_at for t in turns)

    async def progress(self, more: int, within: float) -> None:
        """Wait until `more` turns beyond those decided now are decided."""
        target = len(self.decided_at) + more
        await eventually(
            lambda: len(self.decided_at) >= target, within, what=f"{more} more decisions"
        )


@contextlib.asynccontextmanager
async def watching(dep: Deployment) -> AsyncIterator[Watcher]:
    watcher = Watcher(dep)
    await watcher.start()
    try:
        yield watcher
    finally:
        await watcher.stop()


async def committed_turn_offsets(dep: Deployment) -> dict[int, int]:
    """The worker group's committed offset per partition of conversation.turns."""
    topic = dep.topics.name("conversation.turns")
    consumer = AIOKafkaConsumer(
        **aiokafka_kwargs(dep.settings),
        group_id=dep.topics.faust_app_id,
        enable_auto_commit=False,
    )
    await consumer.start()
    try:
        out: dict[int, int] = {}
        for p in range(dep.topics.spec("conversation.turns").partitions):
            out[p] = await consumer.committed(TopicPartition(topic, p)) or 0
        return out
    finally:
        await consumer.stop()


async def wait_drained(dep: Deployment, targets: dict[int, int], within: float) -> float:
    """Seconds until the workers' committed offsets reach `targets` (consumer lag zero)."""
    started = time.monotonic()
    last: dict[int, int] = {}
    while time.monotonic() - started < within:
        last = await committed_turn_offsets(dep)
        if all(last.get(p, 0) >= end for p, end in targets.items()):
            return time.monotonic() - started
        await asyncio.sleep(0.5)
    lag = {p: end - last.get(p, 0) for p, end in targets.items() if last.get(p, 0) < end}
    raise AssertionError(f"consumer lag not zero within {within} s: {lag}")


def file_handoff_ids(path: Path) -> list[str]:
    """The handoff_id of every line of a file sink's file."""
    if not path.exists():
        return []
    return [orjson.loads(line)["handoff_id"] for line in path.read_bytes().splitlines() if line]


def rss_mb(pid: int) -> float:
    """Resident set size of a process (VmRSS) in MB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise AssertionError(f"no VmRSS for {pid}")


# --- checks and figures --------------------------------------------------------------------


@dataclass
class Verdict:
    """What the sink file and the decisions say after a scenario, and its figures."""

    figures: dict[str, Any]
    missing: set[str] = field(default_factory=set)
    unexpected: set[str] = field(default_factory=set)
    duplicated: dict[str, int] = field(default_factory=dict)
    out_of_order: dict[str, list[int]] = field(default_factory=dict)
    undecided: int = 0

    def assert_ok(self, logs: str) -> None:
        tail = logs[-4000:]
        assert not self.missing, f"lost handoffs: {sorted(self.missing)[:5]}\n{tail}"
        assert not self.unexpected, f"unexpected handoffs: {sorted(self.unexpected)[:5]}"
        assert not self.duplicated, f"handoffs twice in the sink: {self.duplicated}"
        assert not self.out_of_order, f"decisions out of order: {self.out_of_order}"
        assert self.undecided == 0, f"{self.undecided} turns without a decision\n{tail}"


async def settle(
    dep: Deployment,
    feeder: Feeder,
    watcher: Watcher,
    sink_file: Path,
    *,
    scenario: str,
    faults: int,
    quiet: bool = False,
    crash: bool = False,
) -> Verdict:
    """Stop the traffic, wait for lag zero and for every expected handoff in the sink file,
    then compare with what the pipeline's pure functions say must come out."""
    await feeder.stop()
    turns = feeder.published
    expected = expected_handoffs(turns, dep.policy)
    acting = acting_turns(turns, dep.policy)
    # After a kill -9 only the acting decisions must all be there (see below).
    needed = [t for t in turns if (t.conversation_id, t.seq) in acting] if crash else turns
    try:
        drain_s = await wait_drained(dep, feeder.end_offsets, DRAIN_BOUND_S)
    except AssertionError as stalled:
        # Report what was seen before failing: the figures of a stall are findings too.
        report(
            {
                "scenario": scenario,
                "turns": len(turns),
                "faults": faults,
                "expected_handoffs": len(expected),
                "lost": len(set(expected) - set(file_handoff_ids(sink_file))),
                # Decided but not committed, or not consumed at all: tells the two apart.
                "undecided_turns": sum(
                    1 for t in turns if (t.conversation_id, t.seq) not in watcher.decided_at
                ),
                "stalled": str(stalled).replace(" ", ""),
            }
        )
        raise
    started = time.monotonic()
    with contextlib.suppress(AssertionError):  # what is still missing is reported below
        await eventually(
            lambda: watcher.decided(needed) and set(file_handoff_ids(sink_file)) >= set(expected),
            DRAIN_BOUND_S,
            what="every decision and expected handoff",
            interval=0.2,
        )
    complete_s = drain_s + time.monotonic() - started
    lines = file_handoff_ids(sink_file)
    counts = Counter(lines)
    published = Counter(h["handoff_id"] for h in watcher.handoffs)
    decision_ids = Counter(d["decision_id"] for d in watcher.decisions)
    verdict = Verdict(
        figures={
            "scenario": scenario,
            "turns": len(turns),
            "conversations": len({t.conversation_id for t in turns}),
            "faults": faults,
            "expected_handoffs": len(expected),
            "lost": len(set(expected) - set(counts)),
            "never_published": len(set(expected) - set(published)),
            "duplicated_downstream": sum(c - 1 for c in counts.values()),
            "unexpected": len(set(counts) - set(expected)),
            "republished_upstream": sum(c - 1 for c in published.values()),
            "decisions_reprocessed": sum(c - 1 for c in decision_ids.values()),
            "lag_drain_s": round(drain_s, 1),
            "complete_s": round(complete_s, 1),
        },
        missing=set(expected) - set(counts),
        unexpected=set(counts) - set(expected),
        duplicated={h: c for h, c in counts.items() if c > 1},
        out_of_order={
            conv: seqs
            for conv, seqs in first_seen_seqs(watcher.decisions).items()
            if seqs != sorted(seqs)
        },
        undecided=sum(1 for t in turns if (t.conversation_id, t.seq) not in watcher.decided_at),
    )
    undecided = [t for t in turns if (t.conversation_id, t.seq) not in watcher.decided_at]
    if crash:
        # A kill -9 may cost the `none` decisions of the last milliseconds (audit records
        # stored without waiting for the broker, by design); never an acting one.
        verdict.figures["none_decisions_lost"] = sum(
            1 for t in undecided if (t.conversation_id, t.seq) not in acting
        )
        undecided = [t for t in undecided if (t.conversation_id, t.seq) in acting]
        verdict.undecided = len(undecided)
    verdict.figures["undecided_turns"] = verdict.undecided
    if undecided:
        again = await watcher.reread()
        verdict.figures["undecided_on_reread"] = sum(
            1 for t in undecided if (t.conversation_id, t.seq) not in again
        )
    for t in undecided[:10]:
        print(f"UNDECIDED {t.conversation_id} seq={t.seq} role={t.role}")
    if undecided:
        verdict.figures["undecided_offsets"] = offset_ranges(
            feeder.placed[(t.conversation_id, t.seq)] for t in undecided
        )
        readable = await watcher.readable_turns()
        verdict.figures["undecided_unreadable"] = sum(
            1 for t in undecided if feeder.placed[(t.conversation_id, t.seq)] not in readable
        )
    for hid in sorted(verdict.missing)[:10]:
        print(f"LOST {hid} published={hid in published}")
    if not quiet:
        report(verdict.figures)
    return verdict


def acting_turns(turns: list[Turn], policy: Any) -> set[tuple[str, int]]:
    """The turns whose decision acts (anything but `none`), by the pipeline's pure functions:
    their records must survive even a kill -9 (docs/operations.md, Reliability)."""
    states: dict[str, Any] = {}
    acting: set[tuple[str, int]] = set()
    for turn in turns:
        state = states.setdefault(turn.conversation_id, new_state(turn.conversation_id))
        result = process_turn(state, turn, policy, now=turn.ts)
        decision = result.decision if result is not None else None
        if decision is not None and decision.action != "none":
            acting.add((turn.conversation_id, turn.seq))
    return acting


def offset_ranges(placed: Iterable[tuple[int, int]]) -> str:
    """Offsets per partition as compact ranges, e.g. `p3:120-161,p5:7`: where turns went
    undecided tells a skipped range (a wrong commit) from scattered losses."""
    by_partition: dict[int, list[int]] = {}
    for partition, offset in placed:
        by_partition.setdefault(partition, []).append(offset)
    parts: list[str] = []
    for partition, offsets in sorted(by_partition.items()):
        offsets.sort()
        runs: list[list[int]] = [[offsets[0], offsets[0]]]
        for offset in offsets[1:]:
            if offset == runs[-1][1] + 1:
                runs[-1][1] = offset
            else:
                runs.append([offset, offset])
        parts.extend(f"p{partition}:{a}" if a == b else f"p{partition}:{a}-{b}" for a, b in runs)
    return ",".join(parts)


def report(figures: dict[str, Any]) -> None:
    """Print one summary line and keep it for the end-of-run table."""
    FIGURES.append(figures)
    print("\nFAULTS " + " ".join(f"{k}={v}" for k, v in figures.items()))


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if not FIGURES:
        return
    terminalreporter.section(f"fault suite figures ({'long' if LONG else 'short'})")
    for figures in FIGURES:
        terminalreporter.write_line(" ".join(f"{k}={v}" for k, v in figures.items()))


def stamped_an_hour_ago() -> datetime:
    return datetime.now(UTC) - timedelta(hours=1)
