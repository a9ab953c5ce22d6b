"""`warmhandoff bench`: the pipeline's throughput and latency beside two bare relays.

One invocation, one broker, one backlog of simulated turns (mostly benign conversations, about
a fifth escalating), measured one phase after another:

(a) a bare aiokafka consume → produce relay of the backlog (streams/lab/bench/relay.py);
(b) a bare Faust agent relay of the same backlog;
(c) the full pipeline (`warmhandoff worker`) on the same backlog, its decisions checked
    against `warmhandoff replay` of the same turns (correctness is not traded for speed);
(d) open-loop latency: fresh turns offered at a fixed rate (half the sustained rate by
    default) to the running worker, turn timestamp → decision and → handoff produced;
(e) scale-out: a second backlog drained by two worker processes, as a ratio to one;
(f) misplaced turns: a fresh worker drains a backlog partitioned as the Java client does, then
    one published on the partitions librdkafka's default partitioner picks (CRC32 of the key),
    which it forwards to their conversations' partitions: the CPU of each, as a ratio, is the
    price of a bot on the wrong partitioner.

Each process under test runs alone (the bench itself only produces the backlog before a
phase starts, then waits): sustained rate is the slope of the output records' timestamps
between the 5th and 95th percentile, so start-up and the tail are not counted. CPU seconds
and peak RSS are read from /proc for the process under test over the same window.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import os
import subprocess
import sys
import tempfile
import time
import uuid
import zlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

import orjson
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient, NewTopic

from warmhandoff.agents.scenarios import generate
from warmhandoff.streams.config.connection import aiokafka_kwargs
from warmhandoff.streams.config.worker import WorkerSettings
from warmhandoff.streams.contract.errors import WarmhandoffError
from warmhandoff.streams.contract.models import Turn
from warmhandoff.streams.contract.topics import Topics, load_topics
from warmhandoff.streams.lab.bench import profile as bench_profile
from warmhandoff.streams.policy.loader import load_policy
from warmhandoff.streams.policy.model import Policy
from warmhandoff.streams.runtime.apache_kafka import ApacheKafka
from warmhandoff.streams.runtime.broker import EmbeddedBroker, free_port
from warmhandoff.streams.runtime.partitioning import partition_for
from warmhandoff.streams.runtime.topic_admin import apply_topics

#: The worker's processing guarantees (WorkerSettings.processing_guarantee).
Guarantee = Literal["at_least_once", "exactly_once"]

SAMPLE_INTERVAL_S = 0.1
PHASE_TIMEOUT_S = 300.0
CLK_TCK = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


# --- process measurements ---------------------------------------------------------------


def proc_cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of a process (Linux /proc)."""
    stat = Path(f"/proc/{pid}/stat").read_text()
    fields = stat[stat.rindex(")") + 2 :].split()
    return (int(fields[11]) + int(fields[12])) / CLK_TCK


def proc_peak_rss_mb(pid: int) -> float:
    """Peak resident set size of a process in MiB (VmHWM)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return 0.0


@dataclass
class Sampler:
    """CPU seconds of some processes over wall time, sampled in the background."""

    pids: list[int]
    samples: list[tuple[float, float]] = field(default_factory=list)  # (wall ms, cpu s)
    peak_rss_mb: float = 0.0

    def sample(self) -> None:
        """Take one sample (processes that exited are skipped)."""
        cpu = 0.0
        for pid in self.pids:
            with contextlib.suppress(OSError, ValueError):
                cpu += proc_cpu_seconds(pid)
                self.peak_rss_mb = max(self.peak_rss_mb, proc_peak_rss_mb(pid))
        self.samples.append((time.time() * 1000, cpu))

    async def run(self) -> None:
        """Sample until cancelled."""
        while True:
            self.sample()
            await asyncio.sleep(SAMPLE_INTERVAL_S)

    def cpu_between(self, start_ms: float, end_ms: float) -> float:
        """CPU seconds used between two wall-clock instants (linear between samples)."""
        return self._at(end_ms) - self._at(start_ms)

    def _at(self, wall_ms: float) -> float:
        points = self.samples
        if not points:
            return 0.0
        if wall_ms <= points[0][0]:
            return points[0][1]
        for (t0, c0), (t1, c1) in itertools.pairwise(points):
            if t0 <= wall_ms <= t1:
                return c0 + (c1 - c0) * ((wall_ms - t0) / (t1 - t0) if t1 > t0 else 0.0)
        return points[-1][1]


def sustained_rate(timestamps_ms: Sequence[float]) -> tuple[float, float, float]:
    """(records/s, window start ms, window end ms) between the 5th and 95th percentile."""
    ts = sorted(timestamps_ms)
    if len(ts) < 20:
        raise WarmhandoffError(f"too few records to measure a rate ({len(ts)})")
    lo, hi = int(len(ts) * 0.05), int(len(ts) * 0.95) - 1
    span_s = max((ts[hi] - ts[lo]) / 1000, 0.001)
    return (hi - lo) / span_s, ts[lo], ts[hi]


def percentile(values: Sequence[float], q: float) -> float:
    """The q-quantile (0..1) of `values` by nearest rank."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * len(ordered)) - 1))]


# --- traffic ----------------------------------------------------------------------------


def simulated_turns(count: int, *, seed: int, prefix: str) -> list[dict[str, Any]]:
    """At least `count` turn events from simulated conversations, in timestamp order."""
    conversations = generate(
        max(1, count // 5), seed=seed, start=datetime.now(UTC), prefix=f"{prefix}-"
    )
    turns = sorted((t for c in conversations for t in c.turns), key=lambda t: t.ts)
    while len(turns) < count:  # scenarios average a little over five turns
        more = generate(
            max(1, count // 10),
            seed=seed + len(turns),
            start=turns[-1].ts,
            prefix=f"{prefix}-{len(turns)}-",
        )
        turns.extend(sorted((t for c in more for t in c.turns), key=lambda t: t.ts))
    return [t.model_dump(mode="json", exclude_none=True) for t in turns[:count]]


def turn_lines(turns: Sequence[dict[str, Any]]) -> list[bytes]:
    """The turns as JSON lines (what replay reads)."""
    return [orjson.dumps(t) for t in turns]


# --- the bench ----------------------------------------------------------------------------


@dataclass
class Phase:
    """What one sustained-rate phase measured."""

    turns_per_s: float
    cpu_s_per_1k_turns: float
    peak_rss_mb: float


class Bench:
    """One bench run against one broker."""

    def __init__(
        self,
        settings: WorkerSettings,
        topics: Topics,
        workdir: Path,
        *,
        say: Any,
        processing_guarantee: Guarantee = "at_least_once",
    ) -> None:
        self.settings = settings
        self.processing_guarantee = processing_guarantee
        self.topics = topics
        self.workdir = workdir
        self.say = say
        self.turns_topic = topics.name("conversation.turns")
        self.kwargs = aiokafka_kwargs(settings)
        self.started = 0

    async def create_topics(self, *names: str) -> None:
        """Relay output topics, partitioned like the turns."""
        admin = AIOKafkaAdminClient(**self.kwargs)
        await admin.start()
        try:
            partitions = self.topics.spec("conversation.turns").partitions
            await admin.create_topics(
                [NewTopic(n, num_partitions=partitions, replication_factor=1) for n in names]
            )
        finally:
            await admin.close()

    async def produce(
        self, turns: Sequence[dict[str, Any]], topic: str | None = None, *, crc32: bool = False
    ) -> None:
        """Put a backlog of turns on the turns topic (or `topic`), keyed by conversation; with
        `crc32`, on the partitions librdkafka's default partitioner would pick."""
        producer = AIOKafkaProducer(**self.kwargs, linger_ms=20, max_batch_size=1 << 20)
        partitions = self.topics.spec("conversation.turns").partitions
        await producer.start()
        try:
            for t in turns:
                key = t["conversation_id"].encode()
                await producer.send(
                    topic or self.turns_topic,
                    orjson.dumps(t),
                    key=key,
                    partition=zlib.crc32(key) % partitions if crc32 else None,
                )
            await producer.flush()
        finally:
            await producer.stop()

    async def wait_committed(
        self,
        group: str,
        target: int,
        procs: Sequence[subprocess.Popen[bytes]],
        topic: str | None = None,
    ) -> None:
        """Until `group` has committed `target` records of the turns topic (or `topic`)."""
        # A consumer that never subscribes reads the group's offsets without joining it.
        reader = AIOKafkaConsumer(**self.kwargs, group_id=group, enable_auto_commit=False)
        await reader.start()
        partitions = [
            TopicPartition(topic or self.turns_topic, p)
            for p in range(self.topics.spec("conversation.turns").partitions)
        ]
        deadline = time.monotonic() + PHASE_TIMEOUT_S
        try:
            while (done := sum([(await reader.committed(tp)) or 0 for tp in partitions])) < target:
                for proc in procs:
                    if proc.poll() is not None:
                        raise WarmhandoffError(f"a process under test exited ({proc.returncode})")
                if time.monotonic() > deadline:
                    raise WarmhandoffError(f"{group}: only {done} of {target} turns in time")
                await asyncio.sleep(0.25)  # polls committed offsets: the processes are children
        finally:
            await reader.stop()

    async def committed(self, group: str, topic: str | None = None) -> int:
        """The records of the turns topic (or `topic`) `group` has committed so far."""
        reader = AIOKafkaConsumer(**self.kwargs, group_id=group, enable_auto_commit=False)
        await reader.start()
        try:
            partitions = range(self.topics.spec("conversation.turns").partitions)
            tps = [TopicPartition(topic or self.turns_topic, p) for p in partitions]
            return sum([(await reader.committed(tp)) or 0 for tp in tps])
        finally:
            await reader.stop()

    async def read(self, topic: str, prefix: str | None = None) -> list[tuple[float, bytes]]:
        """Every record of a topic (timestamp ms, value), optionally by conversation prefix."""
        consumer = AIOKafkaConsumer(
            topic,
            **self.kwargs,
            group_id=None,
            auto_offset_reset="earliest",
            enable_auto_commit=False,
            fetch_max_wait_ms=100,
        )
        await consumer.start()
        out: list[tuple[float, bytes]] = []
        key_prefix = prefix.encode() if prefix else None
        try:
            idle = 0
            while idle < 5:
                batches = await consumer.getmany(timeout_ms=200, max_records=10_000)
                got = [m for records in batches.values() for m in records]
                idle = 0 if got else idle + 1
                out.extend(
                    (m.timestamp, m.value or b"")
                    for m in got
                    if key_prefix is None or (m.key or b"").startswith(key_prefix)
                )
        finally:
            await consumer.stop()
        return out

    def spawn(
        self, args: list[str], log_name: str, env: dict[str, str] | None = None
    ) -> subprocess.Popen[bytes]:
        """A process under test, its output in the work folder."""
        log = (self.workdir / log_name).open("wb")
        return subprocess.Popen(
            [sys.executable, "-m", *args],
            env={**os.environ, **self.env(), **(env or {})},
            stdout=log,
            stderr=subprocess.STDOUT,
        )

    def workers(self, count: int) -> tuple[list[subprocess.Popen[bytes]], list[int]]:
        """`count` pipeline workers, each with its own state folder and ops port."""
        procs, ports = [], []
        for _ in range(count):
            self.started += 1
            port = free_port()
            env = {
                "WARMHANDOFF_DATA_DIR": str(self.workdir / f"state-{self.started}"),
                "WARMHANDOFF_WEB_PORT": str(port),
                "WARMHANDOFF_PROCESSING_GUARANTEE": self.processing_guarantee,
            }
            cmd = ["warmhandoff.streams.cli", "worker"]
            procs.append(self.spawn(cmd, f"worker-{self.started}.log", env))
            ports.append(port)
        return procs, ports

    def env(self) -> dict[str, str]:
        """The environment that points a child process at this run's broker and topics."""
        return {
            "WARMHANDOFF_BOOTSTRAP_SERVERS": self.settings.bootstrap_servers,
            "WARMHANDOFF_TOPIC_PREFIX": self.settings.topic_prefix,
            "WARMHANDOFF_APP_ID": self.settings.app_id,
            "WARMHANDOFF_WEB_PORT": "0",
            "WARMHANDOFF_LOG_FORMAT": "json",
            "WARMHANDOFF_LOG_LEVEL": "WARNING",
        }

    async def measure(
        self,
        procs: list[subprocess.Popen[bytes]],
        group: str,
        target: int,
        output: str,
        source: str | None = None,
        *,
        prefix: str | None = None,
    ) -> tuple[Phase, list[tuple[float, bytes]]]:
        """Run processes until the group committed `target` inputs; rate from `output`."""
        sampler = Sampler([p.pid for p in procs])
        task = asyncio.create_task(sampler.run())
        try:
            await self.wait_committed(group, target, procs, source)
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
            sampler.sample()
        records = await self.read(output, prefix)
        rate, start, end = sustained_rate([ts for ts, _ in records])
        in_window = sum(1 for ts, _ in records if start <= ts <= end)
        cpu = sampler.cpu_between(start, end)
        return Phase(rate, 1000 * cpu / max(in_window, 1), sampler.peak_rss_mb), records


async def wait_ready(ports: Sequence[int], procs: Sequence[subprocess.Popen[bytes]]) -> None:
    """Until every worker's /readyz answers 200 (joined, tables recovered, no rebalance)."""
    import aiohttp

    deadline = time.monotonic() + PHASE_TIMEOUT_S
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=2)) as http:
        for port in ports:
            while True:
                if any(p.poll() is not None for p in procs):
                    raise WarmhandoffError("a worker exited before it was ready")
                if time.monotonic() > deadline:
                    raise WarmhandoffError("workers were not ready in time")
                with contextlib.suppress(aiohttp.ClientError, asyncio.TimeoutError):
                    async with http.get(f"http://127.0.0.1:{port}/readyz") as response:
                        if response.status == 200:
                            break
                await asyncio.sleep(0.2)  # polls a child process's endpoint


def stop(proc: subprocess.Popen[bytes]) -> None:
    """SIGTERM, then SIGKILL if it does not exit in time."""
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


# --- phases -------------------------------------------------------------------------------

#: Backlog size per second of --seconds (about what one worker drains per second here).
BACKLOG_PER_SECOND = 4000
#: How many times the relays get the backlog (they are that much faster).
RELAY_REPEAT = 10


@dataclass
class Outcome:
    """Everything `warmhandoff bench` reports."""

    turns: int
    relay: dict[str, Phase] = field(default_factory=dict)
    latency_ms: dict[str, Any] = field(default_factory=dict)
    scale_out: dict[str, float] = field(default_factory=dict)
    misplaced: dict[str, float] = field(default_factory=dict)
    replay_check: dict[str, int] = field(default_factory=dict)
    state_bytes_per_conversation: float = 0.0
    profile: dict[str, float] = field(default_factory=dict)
    broker: str = ""
    processing_guarantee: Guarantee = "at_least_once"

    def as_json(self) -> dict[str, Any]:
        """The JSON document: the headline keys, then the extras."""
        a, b, c = (self.relay[k] for k in ("aiokafka", "faust", "pipeline"))
        return {
            "aiokafka_relay_turns_per_s": round(a.turns_per_s),
            "faust_relay_turns_per_s": round(b.turns_per_s),
            "pipeline_turns_per_s": round(c.turns_per_s),
            "pipeline_vs_aiokafka": round(c.turns_per_s / a.turns_per_s, 3),
            "pipeline_vs_faust": round(c.turns_per_s / b.turns_per_s, 3),
            "latency_ms": self.latency_ms,
            "cpu_s_per_1k_turns": round(c.cpu_s_per_1k_turns, 3),
            "peak_rss_mb": round(c.peak_rss_mb, 1),
            "backlog_turns": self.turns,
            "broker": self.broker,
            "processing_guarantee": self.processing_guarantee,
            "phases": {
                name: {
                    "turns_per_s": round(p.turns_per_s),
                    "cpu_s_per_1k_turns": round(p.cpu_s_per_1k_turns, 3),
                    "peak_rss_mb": round(p.peak_rss_mb, 1),
                }
                for name, p in self.relay.items()
            },
            "scale_out": self.scale_out,
            "misplaced": self.misplaced,
            "outputs_match_replay": self.replay_check,
            "state_bytes_per_conversation": round(self.state_bytes_per_conversation),
            **({"worker_cpu_by_part": self.profile} if self.profile else {}),
        }


def replay_check(
    decisions: Sequence[tuple[float, bytes]],
    turns: Sequence[dict[str, Any]],
    policy_file: Path | None,
) -> tuple[dict[str, int], float]:
    """Compare the worker's turn decisions with replay's; also the mean state size."""
    from warmhandoff.streams.core.codec import decode_turn

    decoded = [decode_turn(line, max_bytes=1 << 20) for line in turn_lines(turns)]
    read = [orjson.loads(raw) for _, raw in decisions]
    return compare_with_replay(decoded, read, load_policy(policy_file))


def compare_with_replay(
    turns: Sequence[Turn], decisions: Sequence[dict[str, Any]], policy: Policy
) -> tuple[dict[str, int], float]:
    """Each turn's decision as published (action, trigger codes, handoff id) against the
    pipeline's replay of the same turns: `{"compared", "differ", "missing"}`, and the mean
    size of the replayed conversations' state."""
    from warmhandoff.streams.core.pipeline import new_state, process_turn
    from warmhandoff.streams.core.transfer import decision_id

    expected: dict[tuple[str, int], tuple[str, tuple[str, ...], str | None]] = {}
    states: dict[str, Any] = {}
    for turn in turns:
        state = states.setdefault(turn.conversation_id, new_state(turn.conversation_id))
        result = process_turn(state, turn, policy, now=turn.ts)
        if result is not None and result.decision is not None:
            d = result.decision
            codes = tuple(sorted(h.code for h in d.triggers))
            expected[(d.conversation_id, d.seq)] = (d.action.value, codes, d.handoff_id)
    got: dict[tuple[str, int], tuple[str, tuple[str, ...], str | None]] = {}
    for out in decisions:
        if out["decision_id"] != decision_id(out["conversation_id"], out["seq"]):
            continue  # a gather deadline's decision, driven by the wall clock, not a turn
        codes = tuple(sorted(h["code"] for h in out["triggers"]))
        got[(out["conversation_id"], out["seq"])] = (out["action"], codes, out.get("handoff_id"))
    differ = sum(1 for k, v in expected.items() if k in got and got[k] != v)
    missing = sum(1 for k in expected if k not in got)
    sizes = [len(s.dumps()) for s in states.values()]
    report = {"compared": len(expected), "differ": differ, "missing": missing}
    return report, sum(sizes) / max(len(sizes), 1)


async def offer(bench: Bench, turns: Sequence[dict[str, Any]], rate: float) -> None:
    """Open loop: send turns at a fixed rate whatever the pipeline does, stamped at send."""
    producer = AIOKafkaProducer(**bench.kwargs, linger_ms=1)
    await producer.start()
    try:
        begin = time.monotonic()
        for i, t in enumerate(turns):
            ahead = begin + i / rate - time.monotonic()
            if ahead > 0.002:
                await asyncio.sleep(ahead)  # pacing the offered load, not synchronisation
            stamped = {**t, "ts": datetime.now(UTC).isoformat()}
            await producer.send(
                bench.turns_topic, orjson.dumps(stamped), key=t["conversation_id"].encode()
            )
        await producer.flush()
    finally:
        await producer.stop()


def latencies(records: Sequence[tuple[float, bytes]], field_name: str) -> dict[str, float]:
    """p50/p99/p99.9 of record timestamp minus the turn timestamp in `field_name`, in ms."""
    values = [
        ts - datetime.fromisoformat(orjson.loads(raw)[field_name]).timestamp() * 1000
        for ts, raw in records
    ]
    if not values:
        return {}
    return {
        "p50": round(percentile(values, 0.50), 1),
        "p99": round(percentile(values, 0.99), 1),
        "p999": round(percentile(values, 0.999), 1),
        "count": len(values),
    }


async def run_phases(
    bench: Bench,
    *,
    seconds: float,
    rate: float | None,
    seed: int,
    policy_file: Path | None,
    profile: Path | None = None,
) -> Outcome:
    """(a) to (e), one after another on the same broker."""
    say, topics, run = bench.say, bench.topics, bench.settings.app_id
    n = max(2000, int(seconds * BACKLOG_PER_SECOND))
    backlog = simulated_turns(n, seed=seed, prefix="a")
    outcome = Outcome(turns=n)
    prefix = bench.settings.topic_prefix
    outs = {"aiokafka": f"{prefix}bench.aiokafka-out", "faust": f"{prefix}bench.faust-out"}
    ins = {"aiokafka": f"{prefix}bench.aiokafka-in", "faust": f"{prefix}bench.faust-in"}
    await bench.create_topics(*ins.values(), *outs.values())
    # The aiokafka relay is two orders of magnitude faster than the others: it gets the
    # backlog several times over, so its measuring window is long enough to mean something.
    counts = {"aiokafka": n * RELAY_REPEAT, "faust": n}
    for kind, topic in ins.items():
        await bench.produce(list(backlog) * (counts[kind] // n), topic=topic)
    for kind, out in outs.items():
        group = f"{run}-{kind}-relay"
        args = ["warmhandoff.streams.lab.bench.relay", kind, "--source", ins[kind], "--sink", out]
        args += ["--group", group, "--datadir", str(bench.workdir / f"{kind}-relay")]
        proc = bench.spawn(args, f"{kind}-relay.log")
        try:
            outcome.relay[kind], _ = await bench.measure(
                [proc], group, counts[kind], out, ins[kind]
            )
        finally:
            stop(proc)
        rate_s = f"{outcome.relay[kind].turns_per_s:,.0f}"
        say(f"({'a' if kind == 'aiokafka' else 'b'}) bare {kind} relay: {rate_s} turns/s")

    group = topics.faust_app_id
    decisions_topic = topics.name("escalation.decisions")
    one, ports = bench.workers(1)
    try:
        await wait_ready(ports, one)
        sampler = bench_profile.start(one[0].pid, profile) if profile else None
        await bench.produce(backlog)
        try:
            outcome.relay["pipeline"], decisions = await bench.measure(
                one, group, n, decisions_topic, prefix="a-"
            )
        finally:
            if sampler is not None:
                bench_profile.finish(sampler)
        if profile is not None:
            outcome.profile = bench_profile.summarise(profile)
        pipeline = outcome.relay["pipeline"]
        say(
            f"(c) pipeline: {pipeline.turns_per_s:,.0f} turns/s, "
            f"{pipeline.cpu_s_per_1k_turns:.2f} CPU s per 1k turns"
        )
        outcome.replay_check, outcome.state_bytes_per_conversation = replay_check(
            decisions, backlog, policy_file
        )
        offered = rate or outcome.relay["pipeline"].turns_per_s / 2
        fresh = simulated_turns(max(1000, int(offered * seconds)), seed=seed + 1, prefix="l")
        await offer(bench, fresh, offered)
        await bench.wait_committed(group, n + len(fresh), one)
        outcome.latency_ms = {
            "offered_turns_per_s": round(offered),
            "decision": latencies(await bench.read(decisions_topic, "l-"), "ts"),
            "handoff": latencies(
                await bench.read(topics.name("handoff.requests"), "l-"), "turn_ts"
            ),
        }
        say(f"(d) latency at {offered:,.0f} turns/s offered: {outcome.latency_ms['decision']}")
    finally:
        for proc in one:
            stop(proc)
    two, ports = bench.workers(2)
    try:
        await wait_ready(ports, two)
        await bench.produce(simulated_turns(n, seed=seed + 2, prefix="b"))
        total = 2 * n + len(fresh)
        both, _ = await bench.measure(two, group, total, decisions_topic, prefix="b-")
    finally:
        for proc in two:
            stop(proc)
    ratio = both.turns_per_s / outcome.relay["pipeline"].turns_per_s
    outcome.scale_out = {
        "two_workers_turns_per_s": round(both.turns_per_s),
        "ratio": round(ratio, 2),
        "cpu_s_per_1k_turns": round(both.cpu_s_per_1k_turns, 3),
    }
    say(f"(e) two workers: {both.turns_per_s:,.0f} turns/s ({ratio:.2f}x one)")
    outcome.misplaced = await misplaced_phase(bench, n, seed)
    return outcome


async def misplaced_phase(bench: Bench, n: int, seed: int) -> dict[str, float]:
    """(f): one fresh worker drains a backlog published as the Java client partitions, then
    one published on librdkafka's default partitions; the CPU it spent on each, start to
    last commit (forwarding happens early in a drain, so a window inside it would miss it)."""
    topics = bench.topics
    partitions = topics.spec("conversation.turns").partitions
    placed = simulated_turns(n, seed=seed + 3, prefix="p")
    misplaced = simulated_turns(n, seed=seed + 4, prefix="m")
    moved = sum(
        zlib.crc32(key) % partitions != partition_for(key, partitions)
        for key in (t["conversation_id"].encode() for t in misplaced)
    )
    group = topics.faust_app_id
    one, ports = bench.workers(1)
    cpu: dict[str, float] = {}
    try:
        await wait_ready(ports, one)
        pid = one[0].pid
        done = await bench.committed(group)
        for name, backlog in (("placed", placed), ("misplaced", misplaced)):
            before = proc_cpu_seconds(pid)
            await bench.produce(backlog, crc32=name == "misplaced")
            done += n
            await bench.wait_committed(group, done, one)
            if name == "misplaced":  # and every forwarded turn decided
                await bench.wait_committed(group, moved, one, topics.name("repartition.turns"))
            cpu[name] = proc_cpu_seconds(pid) - before
    finally:
        for proc in one:
            stop(proc)
    cost = cpu["misplaced"] / cpu["placed"]
    per_forward_ms = 1000 * (cpu["misplaced"] - cpu["placed"]) / max(moved, 1)
    bench.say(
        f"(f) {moved / n:.0%} of the turns on the wrong partition: {cost:.2f}x the CPU of the "
        f"same backlog partitioned right, {per_forward_ms:.2f} ms more per forwarded turn"
    )
    return {
        "share_misplaced": round(moved / n, 3),
        "cpu_s_per_1k_turns_placed": round(1000 * cpu["placed"] / n, 3),
        "cpu_s_per_1k_turns_misplaced": round(1000 * cpu["misplaced"] / n, 3),
        "cpu_misplaced_vs_placed": round(cost, 2),
        "cpu_ms_per_forwarded_turn": round(per_forward_ms, 3),
    }


async def bench_main(
    *,
    seconds: float,
    rate: float | None,
    seed: int,
    say: Any,
    profile: Path | None = None,
    broker_kind: Literal["embedded", "kafka"] = "embedded",
    processing_guarantee: Guarantee | None = None,
) -> Outcome:
    """Start (or use) a broker, apply topics under a fresh prefix, run the phases.

    The broker is the one at WARMHANDOFF_BOOTSTRAP_SERVERS when set; otherwise one the bench
    starts: the embedded broker, or Apache Kafka (`broker_kind="kafka"`, from the jar cache
    the tests use). The pipeline's workers run with `processing_guarantee` (None: the
    worker's setting in the environment).
    """
    if processing_guarantee is None:
        processing_guarantee = load_worker_settings().processing_guarantee
    workdir = Path(tempfile.mkdtemp(prefix="warmhandoff-bench-"))
    run_id = uuid.uuid4().hex[:6]
    explicit = os.environ.get("WARMHANDOFF_BOOTSTRAP_SERVERS")
    broker: EmbeddedBroker | ApacheKafka | None = None
    try:
        if explicit:
            bootstrap, described = explicit, f"given: {explicit}"
        elif broker_kind == "kafka":
            broker = ApacheKafka(data_dir=workdir)
            await broker.astart()
            bootstrap, described = broker.bootstrap, f"Apache Kafka {broker.version}"
        else:
            port = free_port()
            bootstrap, described = f"127.0.0.1:{port}", "embedded"
            broker = EmbeddedBroker(port=port, data_dir=workdir)
            await broker.astart()
        settings = WorkerSettings(
            bootstrap_servers=bootstrap,
            topic_prefix=f"bench-{run_id}.",
            app_id=f"warmhandoff-bench-{run_id}",
            data_dir=workdir / "state",
            embedded_broker="never",
        )
        say(f"broker at {bootstrap}; work folder {workdir}")
        topics = load_topics(
            settings.topics_file, prefix=settings.topic_prefix, app_id=settings.app_id
        )
        if not (await apply_topics(topics, settings)).ok:
            raise WarmhandoffError("could not apply topics.yaml")
        bench = Bench(settings, topics, workdir, say=say, processing_guarantee=processing_guarantee)
        policy_file = load_settings_policy()
        outcome = await run_phases(
            bench, seconds=seconds, rate=rate, seed=seed, policy_file=policy_file, profile=profile
        )
        outcome.broker = described
        outcome.processing_guarantee = processing_guarantee
        return outcome
    finally:
        if broker is not None:
            await broker.astop()


def load_settings_policy() -> Path | None:
    """The policy file the workers will load (the environment's; None: the default)."""
    return load_worker_settings().policy_file


def load_worker_settings() -> WorkerSettings:
    """The worker settings in the environment (what a worker the bench starts reads)."""
    from warmhandoff.streams.config.connection import load_settings

    return load_settings(WorkerSettings)


def state_store(count: int) -> dict[str, Any]:
    """Run streams/lab/bench/state.py in its own process; its JSON result."""
    if count <= 0:
        raise WarmhandoffError("--state-store needs a positive count")
    with tempfile.TemporaryDirectory(prefix="warmhandoff-state-") as folder:
        done = subprocess.run(
            [
                sys.executable,
                "-m",
                "warmhandoff.streams.lab.bench.state",
                "--count",
                str(count),
                "--path",
                str(Path(folder) / "db"),
                # One store per table partition, as a worker opens them (two tables).
                "--stores",
                str(2 * load_topics().spec("conversation.turns").partitions),
            ],
            capture_output=True,
            check=False,
            timeout=3600,
        )
    if done.returncode != 0:
        raise WarmhandoffError(f"state-store bench failed: {done.stderr.decode()[-500:]}")
    result: dict[str, Any] = orjson.loads(done.stdout)
    return result
