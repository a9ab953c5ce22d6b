"""`warmhandoff soak`: the whole path under a steady open-loop load for a long time.

One broker (one the soak starts, the embedded one or Apache Kafka, unless a bootstrap is
given), fresh topics, one `warmhandoff worker` and one `warmhandoff sink file`, started as
`warmhandoff bench` starts its worker, and a simulated desk whose agents take, then close,
every handoff the sink delivers (a share of the customers leave first). An Apache Kafka the
soak starts rolls its log segments each minute and checks retention every 30 s, so with
`retention_minutes` (each deleting topic's retention capped at that) old segments are deleted
while the soak runs and its disk use levels off.
Without `--rate`, a backlog of simulated turns is drained first to measure the sustained
rate as bench's phase (c) does (about 15 s here), and `--fraction` of it is offered. Then,
window after window, a window's worth of freshly generated conversations (new ids each
window, so state grows as with real traffic) is offered at the fixed rate whatever the
pipeline does, stamped at send.

Decisions are counted from `escalation.decisions` (only the decision taken on each soak
turn; a gather deadline's decision is driven by the wall clock and is not one), each put in
the window its record timestamp falls in. Lag is counted, not read from the broker: turns
offered up to a window's end minus turns decided up to it (the embedded broker's high
watermarks are not exact). A redelivered decision would count twice; that needs a worker
restart, and the soak stops with an error when the worker exits.

Verdict, over the windows after the warm-up (`--warmup`, one window by default):

- every window: decisions at least `TARGET_WINDOW_THROUGHPUT` of the turns it offered, p99
  turn-to-decision latency at most `TARGET_WINDOW_P99_MS` (a decision must reach the bot
  before its next reply, which customers expect within a second or two), and a lag at its end
  under one second of offered turns; the windows that miss are listed with what they missed;
- throughput: mean decisions/s of the last third of the windows ÷ that of the first third,
  met at >= 0.95;
- lag: least-squares slope of the lag at each window's end, in turns/min; met when the
  fitted growth over the run is under one second of offered turns, and the lag drains to 0
  within `DRAIN_BOUND_S` after the offer stops;
- memory: (worker RSS at the last window's end - RSS after warm-up) ÷ RSS after warm-up,
  met under 0.10.

`--json` prints one object with these keys (a ratio or slope is null when there are too few
windows to compute it):

- `broker` (what it ran on), `retention_minutes` (null: topics.yaml's), `pinned` (with
  `--pin-worker`: `worker` and `others`, the cores of each; null without);
- `offered_rate` (turns/s), `sustained_rate` and `fraction` (null with `--rate`),
  `minutes`, `window_s`, `warmup_windows`, `offered`, `decided` (totals);
- `windows`: one object per window: `index`, `start_s` (from the first window's start),
  `duration_s`, `offered`, `decided`, `decisions_per_s`, `lag`, `latency_ms` (`p50`, `p99`
  of decision record time - turn time; null when nothing was decided), `worker_rss_mb`
  (VmRSS at the window's end), `worker_cpu_s` (in the window), `sink_rss_mb`, `sink_cpu_s`,
  `load_cpu_s` (the soak's own process: offering turns, reading decisions, the desk),
  `broker_rss_mb` and `broker_cpu_s` (null for an external broker), `broker_disk_mb` (what
  its log directory takes on disk; null for an external or the embedded broker);
- `throughput_ratio_last_first`, `lag_slope_per_min`, `final_lag`, `drain_s` (offer end →
  last decision; null when it did not drain), `rss_growth`, `worker_peak_rss_mb` (VmHWM),
  `sink_handoffs` (lines in the sink's file when the soak ended), `desk` (events the
  simulated desk published by type, and `open`: handoffs it had not closed when the soak
  ended; streams/lab/bench/soak_desk.py), `workdir` (logs);
- `window_misses`: one object per judged window that missed (`index`, `missed`: a list of
  `throughput`, `latency`, `lag`);
- `targets`: the thresholds above; `met`: `windows`, `throughput`, `lag`, `drain`, `rss`,
  `all`.
"""

from __future__ import annotations

import asyncio
import bisect
import contextlib
import math
import os
import statistics
import subprocess
import tempfile
import time
import uuid
from array import array
from collections.abc import AsyncIterator, Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, Literal

import orjson
from aiokafka import AIOKafkaConsumer

from warmhandoff.streams.config.worker import WorkerSettings
from warmhandoff.streams.contract.errors import WarmhandoffError
from warmhandoff.streams.contract.topics import Topics, load_topics
from warmhandoff.streams.core.transfer import decision_id
from warmhandoff.streams.lab.bench.soak_desk import SoakDesk
from warmhandoff.streams.lab.bench.throughput import (
    BACKLOG_PER_SECOND,
    Bench,
    offer,
    percentile,
    proc_cpu_seconds,
    proc_peak_rss_mb,
    simulated_turns,
    stop,
    wait_ready,
)
from warmhandoff.streams.runtime.apache_kafka import ApacheKafka
from warmhandoff.streams.runtime.broker import EmbeddedBroker
from warmhandoff.streams.runtime.topic_admin import apply_topics

#: Turns drained to measure the sustained rate (bench's default backlog).
CALIBRATION_TURNS = 5 * BACKLOG_PER_SECOND
#: Windows before the judged ones (`--warmup`): start-up, caches filling.
WARMUP_WINDOWS = 1
#: How long the lag may take to reach 0 once the offer stops.
DRAIN_BOUND_S = 120.0
TARGET_THROUGHPUT_RATIO = 0.95
TARGET_RSS_GROWTH = 0.10
#: Lag may grow by at most this many seconds of offered turns over the whole run.
LAG_TOLERANCE_S = 1.0
#: Every judged window: decisions ÷ turns offered in it at least this ...
TARGET_WINDOW_THROUGHPUT = 0.95
#: ... and p99 turn-to-decision latency at most this.
TARGET_WINDOW_P99_MS = 500.0
PAGE_MB = os.sysconf("SC_PAGE_SIZE") / 2**20 if hasattr(os, "sysconf") else 4096 / 2**20
SOAK_KEY_PREFIX = b"s"  # soak conversations are s<window>-…; calibration ones c-…


def proc_rss_mb(pid: int) -> float:
    """Resident set size of a process now, in MiB (statm's resident pages: VmRSS)."""
    return int(Path(f"/proc/{pid}/statm").read_text().split()[1]) * PAGE_MB


@dataclass
class Window:
    """What one window offered and measured; decisions are added as they are read."""

    start_ms: float
    end_ms: float | None = None
    offered: int = 0
    latencies_ms: array[float] = field(default_factory=lambda: array("d"))
    worker_rss_mb: float = 0.0
    worker_cpu_s: float = 0.0
    sink_rss_mb: float = 0.0
    sink_cpu_s: float = 0.0
    load_cpu_s: float = 0.0
    broker_rss_mb: float | None = None
    broker_cpu_s: float | None = None
    broker_disk_mb: float | None = None


class Tally:
    """Turn decisions read back, bucketed into the windows by record timestamp."""

    def __init__(self) -> None:
        self.windows: list[Window] = []
        self.starts: list[float] = []
        self.decided = 0
        self.last_ms = 0.0
        self.target: int | None = None
        self.done = asyncio.Event()
        self.reader: asyncio.Task[None] | None = None

    def open(self, start_ms: float) -> Window:
        """Start a window at `start_ms` (the previous one's end)."""
        window = Window(start_ms)
        self.windows.append(window)
        self.starts.append(start_ms)
        return window

    def add(self, record_ms: float, latency_ms: float) -> None:
        """One turn decided: its record time and its latency."""
        self.decided += 1
        self.last_ms = max(self.last_ms, record_ms)
        last = self.windows[-1] if self.windows else None
        # A decision recorded after the offer stopped counts for the drain only, in no window.
        if last is not None and (last.end_ms is None or record_ms < last.end_ms):
            index = max(0, bisect.bisect_right(self.starts, record_ms) - 1)
            self.windows[index].latencies_ms.append(latency_ms)
        if self.target is not None and self.decided >= self.target:
            self.done.set()

    def expect(self, total: int) -> None:
        """Every offered turn is in: `done` is set once `total` are decided."""
        self.target = total
        if self.decided >= total:
            self.done.set()

    def observe(self, record_ms: float, value: bytes) -> None:
        """A record of escalation.decisions from a soak conversation."""
        d = orjson.loads(value)
        if d["decision_id"] != decision_id(d["conversation_id"], d["seq"]):
            return  # a gather deadline's decision, not a turn's
        turn_ms = datetime.fromisoformat(d["ts"]).timestamp() * 1000
        self.add(record_ms, record_ms - turn_ms)

    def start_reading(self, kwargs: dict[str, Any], topic: str) -> None:
        """Read the decisions topic in the background."""
        self.reader = asyncio.create_task(self.consume(kwargs, topic))

    def check_reading(self) -> None:
        """Raise what stopped the reader, if it stopped."""
        if self.reader is not None and self.reader.done():
            self.reader.result()

    async def stop_reading(self) -> None:
        """Cancel the reader (what it raised was reported by check_reading)."""
        if self.reader is not None:
            self.reader.cancel()
            await asyncio.gather(self.reader, return_exceptions=True)

    async def consume(self, kwargs: dict[str, Any], topic: str) -> None:
        """Read the decisions topic until cancelled."""
        # No group: nothing is committed, and the soak's windows come from record times.
        consumer = AIOKafkaConsumer(topic, **kwargs, auto_offset_reset="earliest")
        await consumer.start()
        try:
            while True:
                batches = await consumer.getmany(timeout_ms=500, max_records=10_000)
                for records in batches.values():
                    for m in records:
                        if (m.key or b"").startswith(SOAK_KEY_PREFIX):
                            self.observe(m.timestamp, m.value or b"{}")
        finally:
            await consumer.stop()


# --- the verdict (pure) -------------------------------------------------------------------


def window_rows(windows: Sequence[Window]) -> list[dict[str, Any]]:
    """One JSON object per closed window, with the cumulative lag at its end."""
    rows: list[dict[str, Any]] = []
    origin = windows[0].start_ms if windows else 0.0
    offered = decided = 0
    for i, w in enumerate(windows):
        end = w.end_ms if w.end_ms is not None else w.start_ms
        duration = max((end - w.start_ms) / 1000, 1e-9)
        offered += w.offered
        decided += len(w.latencies_ms)
        lat = w.latencies_ms
        rows.append(
            {
                "index": i,
                "start_s": round((w.start_ms - origin) / 1000, 3),
                "duration_s": round(duration, 3),
                "offered": w.offered,
                "decided": len(lat),
                "decisions_per_s": round(len(lat) / duration, 1),
                "lag": offered - decided,
                "latency_ms": (
                    {"p50": round(percentile(lat, 0.5), 1), "p99": round(percentile(lat, 0.99), 1)}
                    if lat
                    else None
                ),
                "worker_rss_mb": round(w.worker_rss_mb, 1),
                "worker_cpu_s": round(w.worker_cpu_s, 2),
                "sink_rss_mb": round(w.sink_rss_mb, 1),
                "sink_cpu_s": round(w.sink_cpu_s, 2),
                "load_cpu_s": round(w.load_cpu_s, 2),
                "broker_rss_mb": None if w.broker_rss_mb is None else round(w.broker_rss_mb, 1),
                "broker_cpu_s": None if w.broker_cpu_s is None else round(w.broker_cpu_s, 2),
                "broker_disk_mb": None if w.broker_disk_mb is None else round(w.broker_disk_mb, 1),
            }
        )
    return rows


def throughput_ratio(rows: Sequence[dict[str, Any]]) -> float | None:
    """Mean decisions/s of the last third of the rows ÷ the first third."""
    if len(rows) < 2:
        return None
    third = max(1, len(rows) // 3)
    first = statistics.fmean(r["decisions_per_s"] for r in rows[:third])
    last = statistics.fmean(r["decisions_per_s"] for r in rows[-third:])
    return round(last / first, 3) if first > 0 else None


def lag_slope_per_min(rows: Sequence[dict[str, Any]]) -> float | None:
    """Least-squares slope of the lag at each window's end, in turns per minute."""
    if len(rows) < 2:
        return None
    ends = [(r["start_s"] + r["duration_s"]) / 60 for r in rows]
    fit = statistics.linear_regression(ends, [float(r["lag"]) for r in rows])
    return round(fit.slope, 2)


def window_misses(rows: Sequence[dict[str, Any]], offered_rate: float) -> list[dict[str, Any]]:
    """The windows that miss a per-window target, each with what it missed."""
    misses = []
    for r in rows:
        missed = []
        if r["decided"] < TARGET_WINDOW_THROUGHPUT * r["offered"]:
            missed.append("throughput")
        if r["latency_ms"] is None or r["latency_ms"]["p99"] > TARGET_WINDOW_P99_MS:
            missed.append("latency")
        if r["lag"] >= offered_rate * LAG_TOLERANCE_S:
            missed.append("lag")
        if missed:
            misses.append({"index": r["index"], "missed": missed})
    return misses


def verdict(
    rows: Sequence[dict[str, Any]],
    *,
    offered_rate: float,
    final_lag: int,
    drain_s: float | None,
    warmup: int = WARMUP_WINDOWS,
) -> dict[str, Any]:
    """The soak's figures and which targets they meet (rows after the warm-up are judged)."""
    judged = rows[warmup:]
    ratio = throughput_ratio(judged)
    slope = lag_slope_per_min(judged)
    span_min = sum(r["duration_s"] for r in judged) / 60
    rss_growth = None
    if judged and rows[warmup - 1]["worker_rss_mb"] > 0:
        base = rows[warmup - 1]["worker_rss_mb"]
        rss_growth = round((judged[-1]["worker_rss_mb"] - base) / base, 4)
    misses = window_misses(judged, offered_rate)
    met = {
        "windows": bool(judged) and not misses,
        "throughput": ratio is not None and ratio >= TARGET_THROUGHPUT_RATIO,
        "lag": slope is not None and slope * span_min < offered_rate * LAG_TOLERANCE_S,
        "drain": final_lag == 0 and drain_s is not None,
        "rss": rss_growth is not None and rss_growth < TARGET_RSS_GROWTH,
    }
    return {
        "throughput_ratio_last_first": ratio,
        "lag_slope_per_min": slope,
        "final_lag": final_lag,
        "drain_s": drain_s,
        "rss_growth": rss_growth,
        "window_misses": misses,
        "targets": {
            "window_throughput_at_least": TARGET_WINDOW_THROUGHPUT,
            "window_p99_ms_at_most": TARGET_WINDOW_P99_MS,
            "throughput_ratio_at_least": TARGET_THROUGHPUT_RATIO,
            "lag_growth_under_s_of_offer": LAG_TOLERANCE_S,
            "drain_within_s": DRAIN_BOUND_S,
            "rss_growth_under": TARGET_RSS_GROWTH,
        },
        "met": {**met, "all": all(met.values())},
    }


def render(report: dict[str, Any]) -> str:
    """The windows as a table, then the verdict, for a terminal."""
    columns = "win start_s offered decided dec/s lag p50_ms p99_ms"
    columns += " worker_mb worker_cpu sink_mb sink_cpu load_cpu broker_mb broker_cpu disk_mb"
    head = " ".join(f"{c:>{max(len(c), 6)}}" for c in columns.split())
    retention = report["retention_minutes"]
    lines = [
        f"broker: {report['broker']}"
        + (f"; retention capped at {retention:g} min" if retention is not None else "")
        + (
            f"; worker pinned to core(s) {report['pinned']['worker']}, "
            f"the rest to {report['pinned']['others']}"
            if report.get("pinned")
            else ""
        ),
        f"offered {report['offered_rate']:,.0f} turns/s"
        + (
            f" ({report['fraction']:.0%} of {report['sustained_rate']:,.0f} sustained)"
            if report["sustained_rate"]
            else ""
        ),
        head,
    ]
    for r in report["windows"]:
        lat = r["latency_ms"] or {"p50": math.nan, "p99": math.nan}
        keys = ("broker_rss_mb", "broker_cpu_s", "broker_disk_mb")
        broker = [math.nan if r[k] is None else r[k] for k in keys]
        lines.append(
            f"{r['index']:>6} {r['start_s']:>7.1f} {r['offered']:>7,} {r['decided']:>7,} "
            f"{r['decisions_per_s']:>6,.0f} {r['lag']:>6,} {lat['p50']:>6.0f} {lat['p99']:>6.0f} "
            f"{r['worker_rss_mb']:>9.1f} {r['worker_cpu_s']:>10.2f} {r['sink_rss_mb']:>7.1f} "
            f"{r['sink_cpu_s']:>8.2f} {r['load_cpu_s']:>8.2f} "
            f"{broker[0]:>9.1f} {broker[1]:>10.2f} {broker[2]:>7.1f}"
        )
    met = report["met"]

    def mark(ok: bool) -> str:
        return "met" if ok else "NOT met"

    def num(value: float | None, spec: str) -> str:
        return "n/a (too few windows)" if value is None else format(value, spec)

    drain = report["drain_s"]
    judged = len(report["windows"]) - report["warmup_windows"]
    misses = report["window_misses"]
    lines += [
        f"windows after warm-up meeting throughput >= {TARGET_WINDOW_THROUGHPUT:.0%} of the "
        f"offer, p99 <= {TARGET_WINDOW_P99_MS:g} ms and lag under {LAG_TOLERANCE_S:g} s of "
        f"offer: {judged - len(misses)} of {judged}: {mark(met['windows'])}"
        + "".join(f"\n  window {m['index']} missed {', '.join(m['missed'])}" for m in misses),
        f"throughput last/first third: {num(report['throughput_ratio_last_first'], '.3f')} "
        f"(target >= {TARGET_THROUGHPUT_RATIO}): {mark(met['throughput'])}",
        f"lag slope: {num(report['lag_slope_per_min'], '+.1f')} turns/min (growth over the run "
        f"under {LAG_TOLERANCE_S:g} s of offer): {mark(met['lag'])}",
        f"final lag: {report['final_lag']:,}"
        + (f", drained {drain:.1f} s after the offer stopped" if drain is not None else "")
        + f" (bound {DRAIN_BOUND_S:g} s): {mark(met['drain'])}",
        f"worker RSS growth after {report['warmup_windows']} warm-up window(s): "
        f"{num(report['rss_growth'], '+.1%')} "
        f"(target < {TARGET_RSS_GROWTH:.0%}): {mark(met['rss'])}",
        "desk: "
        + ", ".join(f"{kind} {n:,}" for kind, n in report["desk"].items() if kind != "open")
        + f"; {report['desk']['open']:,} handoffs still open at the end",
        f"all targets: {mark(met['all'])}; logs in {report['workdir']}",
    ]
    return "\n".join(lines) + "\n"


# --- the run ------------------------------------------------------------------------------


@dataclass
class Plan:
    """What the user asked for."""

    minutes: float
    rate: float | None
    fraction: float
    window_s: float
    seed: int
    warmup: int = WARMUP_WINDOWS
    retention_minutes: float | None = None
    pin_worker: bool = False

    @property
    def windows(self) -> int:
        """How many windows the offer lasts."""
        return max(1, math.ceil(self.minutes * 60 / self.window_s))

    def check(self) -> None:
        """Refuse values that cannot make a soak."""
        if self.minutes <= 0 or self.window_s <= 0:
            raise WarmhandoffError("--minutes and --window must be above 0")
        if self.rate is not None and self.rate <= 0:
            raise WarmhandoffError("--rate must be above 0")
        if not 0 < self.fraction <= 1:
            raise WarmhandoffError("--fraction must be in (0, 1]")
        if self.retention_minutes is not None and self.retention_minutes <= 0:
            raise WarmhandoffError("--retention-minutes must be above 0")
        if self.pin_worker and len(available_cores()) < 2:
            raise WarmhandoffError("--pin-worker needs at least 2 cores this process may use")
        if not 1 <= self.warmup < self.windows:
            raise WarmhandoffError(
                f"--warmup must be at least 1 and leave windows to judge ({self.windows} in all)"
            )


def available_cores() -> list[int]:
    """The cores this process may run on (all of them where affinity is not supported)."""
    if hasattr(os, "sched_getaffinity"):
        return sorted(os.sched_getaffinity(0))
    return list(range(os.cpu_count() or 1))


@dataclass(frozen=True)
class Pinning:
    """`--pin-worker`: the worker's core, and the cores of everything else."""

    worker: frozenset[int]
    others: frozenset[int]

    @classmethod
    def split(cls) -> Pinning:
        """The last available core for the worker, the rest for the others."""
        cores = available_cores()
        return cls(frozenset(cores[-1:]), frozenset(cores[:-1]))

    def pin_this_process(self, cores: frozenset[int]) -> None:
        """Every thread of this process onto `cores`; what it starts next inherits them."""
        for tid in os.listdir("/proc/self/task"):
            with contextlib.suppress(OSError):  # a thread may end meanwhile
                os.sched_setaffinity(int(tid), cores)

    @contextlib.contextmanager
    def worker_core(self) -> Iterator[None]:
        """Processes started inside run on the worker's core (the caller's thread only)."""
        os.sched_setaffinity(0, self.worker)
        try:
            yield
        finally:
            os.sched_setaffinity(0, self.others)

    def describe(self) -> dict[str, list[int]]:
        """For the report."""
        return {"worker": sorted(self.worker), "others": sorted(self.others)}


@dataclass(frozen=True)
class BrokerUnderTest:
    """A broker the soak started: its process, its name, and its log directory on disk."""

    pid: int | None
    name: str
    log_dir: Path | None  # None: the broker keeps its records in memory

    def disk_mb(self) -> float | None:
        """MiB its log directory takes on disk now (None for a broker without one)."""
        if self.log_dir is None:
            return None
        total = 0
        for path in self.log_dir.rglob("*"):
            with contextlib.suppress(OSError):  # retention may delete a segment meanwhile
                if path.is_file():
                    # Blocks, not sizes: Kafka preallocates its index files as sparse files.
                    total += path.stat().st_blocks * 512
        return total / 2**20


@dataclass
class Processes:
    """The processes under test (and the broker when the soak started it)."""

    worker: subprocess.Popen[bytes]
    sink: subprocess.Popen[bytes]
    broker: BrokerUnderTest | None
    cpu_seen: dict[int, float] = field(default_factory=dict)

    def check_alive(self) -> None:
        """Stop the soak when a process under test exited: its log says why."""
        for name, proc in (("worker", self.worker), ("sink", self.sink)):
            if proc.poll() is not None:
                raise WarmhandoffError(f"the {name} exited ({proc.returncode}); see its log")

    def cpu_since(self, pid: int) -> float:
        """CPU seconds `pid` used since the previous call (0 on the first)."""
        now = proc_cpu_seconds(pid)
        before = self.cpu_seen.get(pid, now)
        self.cpu_seen[pid] = now
        return now - before

    def measure(self, window: Window) -> None:
        """Fill the window's process figures: RSS now, CPU since the previous window."""
        window.worker_cpu_s = self.cpu_since(self.worker.pid)
        window.worker_rss_mb = proc_rss_mb(self.worker.pid)
        window.sink_rss_mb = proc_rss_mb(self.sink.pid)
        window.sink_cpu_s = self.cpu_since(self.sink.pid)
        window.load_cpu_s = self.cpu_since(os.getpid())
        if self.broker is not None and self.broker.pid is not None:
            window.broker_cpu_s = self.cpu_since(self.broker.pid)
            window.broker_rss_mb = proc_rss_mb(self.broker.pid)
            window.broker_disk_mb = self.broker.disk_mb()


async def calibrate(bench: Bench, procs: Processes, plan: Plan) -> float:
    """The worker's sustained rate on a drained backlog, as bench's phase (c)."""
    backlog = await asyncio.to_thread(
        simulated_turns, CALIBRATION_TURNS, seed=plan.seed, prefix="c"
    )
    await bench.produce(backlog)
    decisions = bench.topics.name("escalation.decisions")
    phase, _ = await bench.measure(
        [procs.worker], bench.topics.faust_app_id, len(backlog), decisions, prefix="c-"
    )
    return phase.turns_per_s


async def offer_windows(
    bench: Bench, procs: Processes, tally: Tally, plan: Plan, rate: float
) -> None:
    """Offer window after window at `rate`, the next window's turns generated meanwhile."""
    per_window = max(1, round(rate * plan.window_s))
    count = plan.windows

    def turns(k: int) -> asyncio.Task[list[dict[str, Any]]]:
        generated = asyncio.to_thread(
            simulated_turns, per_window, seed=plan.seed + 1 + k, prefix=f"s{k}"
        )
        return asyncio.create_task(generated)

    upcoming = turns(0)
    procs.measure(Window(0.0))  # starts the CPU clocks
    start_ms = time.time() * 1000
    try:
        for k in range(count):
            chunk = await upcoming
            if k + 1 < count:
                upcoming = turns(k + 1)
            window = tally.open(start_ms)
            await offer(bench, chunk, rate)
            # offer() sends its last turn at (n - 1) / rate: keep the next window on the beat.
            ahead = start_ms / 1000 + len(chunk) / rate - time.time()
            if ahead > 0:
                await asyncio.sleep(ahead)  # pacing the offered load, not synchronisation
            window.offered = len(chunk)
            window.end_ms = start_ms = time.time() * 1000
            procs.measure(window)
            procs.check_alive()
            tally.check_reading()
            bench.say(
                f"window {k + 1}/{count}: offered {window.offered:,}, {tally.decided:,} decided "
                f"so far, worker RSS {window.worker_rss_mb:.1f} MB, CPU {window.worker_cpu_s:.1f} s"
            )
    finally:
        upcoming.cancel()


async def drain(procs: Processes, tally: Tally, offered: int) -> None:
    """Until every offered turn is decided, or DRAIN_BOUND_S passed."""
    tally.expect(offered)
    deadline = time.monotonic() + DRAIN_BOUND_S
    while not tally.done.is_set() and time.monotonic() < deadline:
        procs.check_alive()
        tally.check_reading()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(tally.done.wait(), timeout=1.0)  # wakes to check processes


async def run_soak(
    bench: Bench, plan: Plan, broker: BrokerUnderTest | None, pinning: Pinning | None = None
) -> dict[str, Any]:
    """Start the worker and the sink, calibrate if asked, offer, drain, judge."""
    with pinning.worker_core() if pinning is not None else contextlib.nullcontext():
        workers, ports = bench.workers(1)
    sink_file = bench.workdir / "handoffs.jsonl"
    sink = bench.spawn(
        ["warmhandoff.streams.cli", "sink", "file", "--path", str(sink_file)], "sink.log"
    )
    procs = Processes(workers[0], sink, broker)
    tally = Tally()
    desk = SoakDesk(bench.kwargs, bench.topics, seed=plan.seed)
    desk_task: asyncio.Task[None] | None = None
    try:
        await wait_ready(ports, workers)
        procs.check_alive()
        desk_task = asyncio.create_task(desk.run())
        sustained = None
        if plan.rate is None:
            bench.say(f"measuring the sustained rate on {CALIBRATION_TURNS:,} turns")
            sustained = await calibrate(bench, procs, plan)
        rate = plan.rate or plan.fraction * (sustained or 0.0)
        bench.say(f"offering {rate:,.0f} turns/s for {plan.minutes:g} min")
        decisions = bench.topics.name("escalation.decisions")
        tally.start_reading(bench.kwargs, decisions)
        await offer_windows(bench, procs, tally, plan, rate)
        offer_end_ms = tally.windows[-1].end_ms or 0.0
        offered = sum(w.offered for w in tally.windows)
        await drain(procs, tally, offered)
        peak = proc_peak_rss_mb(procs.worker.pid)
        if desk_task.done():
            desk_task.result()  # what stopped the desk early
    finally:
        if desk_task is not None:
            desk_task.cancel()
            await asyncio.gather(desk_task, return_exceptions=True)
        await tally.stop_reading()
        stop(sink)
        for proc in workers:
            stop(proc)
    drain_s = max(0.0, (tally.last_ms - offer_end_ms) / 1000) if tally.done.is_set() else None
    rows = window_rows(tally.windows)
    return {
        "broker": broker.name
        if broker is not None
        else f"given: {bench.settings.bootstrap_servers}",
        "retention_minutes": plan.retention_minutes,
        "pinned": None if pinning is None else pinning.describe(),
        "offered_rate": round(rate, 1),
        "sustained_rate": None if sustained is None else round(sustained, 1),
        "fraction": None if plan.rate else plan.fraction,
        "minutes": plan.minutes,
        "window_s": plan.window_s,
        "warmup_windows": plan.warmup,
        "offered": offered,
        "decided": tally.decided,
        "windows": rows,
        **verdict(
            rows,
            offered_rate=rate,
            final_lag=offered - tally.decided,
            drain_s=None if drain_s is None else round(drain_s, 2),
            warmup=plan.warmup,
        ),
        "worker_peak_rss_mb": round(peak, 1),
        "sink_handoffs": len(sink_file.read_bytes().splitlines()) if sink_file.exists() else 0,
        "desk": desk.figures(),
        "workdir": str(bench.workdir),
    }


#: Settings of an Apache Kafka the soak starts: segments roll each minute and retention is
#: checked every 30 s, so a capped retention (`retention_minutes`) deletes during the soak.
SOAK_KAFKA_PROPERTIES = {
    "log.roll.ms": "60000",
    "log.retention.check.interval.ms": "30000",
}


def capped_retention(topics: Topics, minutes: float | None) -> Topics:
    """`topics` with every deleting topic's retention at most `minutes` (None: unchanged)."""
    if minutes is None:
        return topics
    cap = round(minutes * 60_000)
    specs = {
        key: spec.model_copy(update={"retention_ms": cap})
        if spec.deletes
        and (spec.retention_ms is None or spec.retention_ms < 0 or cap < spec.retention_ms)
        else spec
        for key, spec in topics.items()
    }
    return Topics(specs, source=topics.source, prefix=topics.prefix, app_id=topics.app_id)


@contextlib.asynccontextmanager
async def soak_bench(
    bootstrap: str | None,
    say: Callable[[str], None],
    *,
    broker_kind: Literal["embedded", "kafka"] = "embedded",
    retention_minutes: float | None = None,
) -> AsyncIterator[tuple[Bench, BrokerUnderTest | None]]:
    """A Bench on fresh topics, and the broker when the soak started it."""
    workdir = Path(tempfile.mkdtemp(prefix="warmhandoff-soak-"))
    run_id = uuid.uuid4().hex[:6]
    async with contextlib.AsyncExitStack() as stack:
        broker = None
        if bootstrap is None:
            if broker_kind == "kafka":
                kafka = ApacheKafka(data_dir=workdir, properties=SOAK_KAFKA_PROPERTIES)
                await stack.enter_async_context(kafka)
                broker = BrokerUnderTest(kafka.pid, f"Apache Kafka {kafka.version}", kafka.home)
                bootstrap = kafka.bootstrap
            else:
                embedded = await stack.enter_async_context(EmbeddedBroker(data_dir=workdir))
                broker = BrokerUnderTest(embedded.pid, "embedded", None)
                bootstrap = embedded.bootstrap
        settings = WorkerSettings(
            bootstrap_servers=bootstrap,
            topic_prefix=f"soak-{run_id}.",
            app_id=f"warmhandoff-soak-{run_id}",
            data_dir=workdir / "state",
            embedded_broker="never",
        )
        topics = load_topics(
            settings.topics_file, prefix=settings.topic_prefix, app_id=settings.app_id
        )
        topics = capped_retention(topics, retention_minutes)
        if not (await apply_topics(topics, settings)).ok:
            raise WarmhandoffError(f"could not apply topics.yaml at {bootstrap}")
        described = broker.name if broker is not None else f"given: {bootstrap}"
        say(f"broker at {bootstrap} ({described}); work folder {workdir}")
        yield Bench(settings, topics, workdir, say=say), broker


async def soak_main(
    plan: Plan,
    *,
    bootstrap: str | None,
    say: Callable[[str], None],
    broker_kind: Literal["embedded", "kafka"] = "embedded",
) -> dict[str, Any]:
    """The whole soak; its report (module docstring)."""
    plan.check()
    pinning = Pinning.split() if plan.pin_worker else None
    if pinning is not None:
        pinning.pin_this_process(pinning.others)  # before the broker starts: it inherits them
    async with soak_bench(
        bootstrap, say, broker_kind=broker_kind, retention_minutes=plan.retention_minutes
    ) as (bench, broker):
        try:
            return await run_soak(bench, plan, broker, pinning)
        except WarmhandoffError as exc:
            raise WarmhandoffError(f"soak stopped: {exc}\nlogs in {bench.workdir}") from exc
