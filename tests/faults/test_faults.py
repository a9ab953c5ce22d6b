"""Faults while traffic flows, on the run's test broker, with real worker and sink processes.

Each scenario feeds generated conversations at a modest sustained rate, injects its faults,
stops the traffic and then checks: every handoff the pipeline's pure functions say must happen
is in the file sink's file exactly once, nothing else is, the first decision for each turn
came out in seq order per conversation, and the workers' committed offsets reach the end of
conversation.turns (lag zero) within a bound. The figures go to stdout (`FAULTS ...` lines)
and to the end-of-run summary.
"""

from __future__ import annotations

import asyncio
import os
import signal
from pathlib import Path

import pytest

from warmhandoff.streams.contract.models import Turn
from warmhandoff.streams.runtime.broker import free_port

from ..brokers import RunningBroker
from ..integration.conftest import Deployment, WorkerProcess, traffic
from ..integration.test_sinks_e2e import SinkProcess
from ..integration.test_worker_ops import wait_for_status
from .conftest import SCALE, Feeder, file_handoff_ids, settle, watching

pytestmark = [
    pytest.mark.faults,
    pytest.mark.integration,
    pytest.mark.timeout(900 if os.environ.get("WARMHANDOFF_FAULTS_LONG") == "1" else 300),
]

READY_S = 90  # a worker joins the group and recovers its tables within this

# (a) was xfail(strict=False) while 1 run in 7 left 6 turns undecided; none has since the
# worker stopped delivering records fetched between an assignment and its seek (docs/benchmarks.md, Faults).


def pool(seed: int, seconds: float) -> list[Turn]:
    """Enough generated turns for `seconds` of traffic at the sustained rate."""
    return traffic(int(SCALE.rate * seconds / 3) + 50, seed=seed)


async def start_sink(dep: Deployment, path: Path, n: int) -> SinkProcess:
    sink = SinkProcess(dep, ["file", "--path", str(path)], dep.tmp / f"sink-{n}.log")
    await sink.wait_ready(within=READY_S)
    return sink


def own_worker(dep: Deployment, web_port: int = 0) -> WorkerProcess:
    """A worker with a state directory of its own, as a second host or pod would have (two
    workers cannot share one: RocksDB locks it)."""
    n = len(dep.workers)
    settings = dep.settings.model_copy(update={"data_dir": dep.tmp / f"state-{n}"})
    worker = WorkerProcess(settings, dep.tmp / f"worker-{n}.log", web_port)
    dep.workers.append(worker)
    worker.start()
    return worker


async def ready_worker(dep: Deployment) -> WorkerProcess:
    port = free_port()
    worker = own_worker(dep, web_port=port)
    await wait_for_status(port, "/readyz", 200, within=READY_S)
    return worker


def stop_sink(sink: SinkProcess) -> None:
    sink.stop()


async def test_a_rotate_three_workers_while_traffic_flows(deployment: Deployment) -> None:
    dep = deployment
    sink_file = dep.tmp / "handoffs.jsonl"
    sink = await start_sink(dep, sink_file, 0)
    try:
        live = [await ready_worker(dep) for _ in range(3)]
        async with watching(dep) as watcher:
            feeder = Feeder(dep, pool(41, 60 + 30 * SCALE.rotations), SCALE.rate)
            await feeder.start()
            await watcher.progress(int(SCALE.rate), within=READY_S)
            for _ in range(SCALE.rotations):
                victim = live.pop(0)
                assert await asyncio.to_thread(victim.stop) == 0, dep.logs()
                live.append(await ready_worker(dep))
                await watcher.progress(int(SCALE.rate), within=READY_S)
            verdict = await settle(
                dep, feeder, watcher, sink_file, scenario="a_rotate", faults=SCALE.rotations
            )
        assert all(w.alive() for w in live), dep.logs()
        verdict.assert_ok(dep.logs())
    finally:
        await asyncio.to_thread(stop_sink, sink)


async def test_b_kill_9_and_restart_repeatedly(deployment: Deployment) -> None:
    dep = deployment
    sink_file = dep.tmp / "handoffs.jsonl"
    sink = await start_sink(dep, sink_file, 0)
    try:
        worker = await ready_worker(dep)
        async with watching(dep) as watcher:
            feeder = Feeder(dep, pool(42, 60 + 30 * SCALE.kills), SCALE.rate)
            await feeder.start()
            for _ in range(SCALE.kills):
                # Mid-stream: it has decided turns since it started, and more are arriving.
                await watcher.progress(int(SCALE.rate), within=READY_S)
                await asyncio.to_thread(worker.kill)
                worker = dep.worker()
            await watcher.progress(int(SCALE.rate), within=READY_S)
            verdict = await settle(
                dep, feeder, watcher, sink_file, scenario="b_kill9", faults=SCALE.kills, crash=True
            )
        assert worker.alive(), dep.logs()
        verdict.assert_ok(dep.logs())
    finally:
        await asyncio.to_thread(stop_sink, sink)


async def test_c_second_worker_joins_mid_stream(deployment: Deployment) -> None:
    dep = deployment
    sink_file = dep.tmp / "handoffs.jsonl"
    sink = await start_sink(dep, sink_file, 0)
    try:
        first = await ready_worker(dep)
        async with watching(dep) as watcher:
            feeder = Feeder(dep, pool(43, 120), SCALE.rate)
            await feeder.start()
            await watcher.progress(int(SCALE.rate) * 2, within=READY_S)
            second = await ready_worker(dep)
            await watcher.progress(int(SCALE.rate) * 2, within=READY_S)
            verdict = await settle(dep, feeder, watcher, sink_file, scenario="c_join", faults=1)
        assert first.alive() and second.alive(), dep.logs()
        verdict.assert_ok(dep.logs())
    finally:
        await asyncio.to_thread(stop_sink, sink)


async def test_d_broker_stopped_and_resumed(
    deployment: Deployment, faults_broker: RunningBroker
) -> None:
    dep = deployment
    pid = faults_broker.pid
    if pid is None:
        pytest.skip("the broker was not started by the tests: it is not theirs to freeze")
    sink_file = dep.tmp / "handoffs.jsonl"
    sink = await start_sink(dep, sink_file, 0)
    try:
        worker = await ready_worker(dep)
        async with watching(dep) as watcher:
            feeder = Feeder(dep, pool(44, 120 + SCALE.sigstop_seconds), SCALE.rate)
            await feeder.start()
            await watcher.progress(int(SCALE.rate) * 2, within=READY_S)
            os.kill(pid, signal.SIGSTOP)
            try:
                await asyncio.sleep(SCALE.sigstop_seconds)  # the fault: the broker is frozen
            finally:
                os.kill(pid, signal.SIGCONT)
            await watcher.progress(int(SCALE.rate) * 2, within=READY_S * 2)
            verdict = await settle(dep, feeder, watcher, sink_file, scenario="d_sigstop", faults=1)
        verdict.figures["sigstop_s"] = SCALE.sigstop_seconds
        assert worker.alive(), dep.logs()
        verdict.assert_ok(dep.logs())
    finally:
        await asyncio.to_thread(stop_sink, sink)


async def test_e_sink_killed_mid_delivery_and_restarted(deployment: Deployment) -> None:
    dep = deployment
    sink_file = dep.tmp / "handoffs.jsonl"
    sink = await start_sink(dep, sink_file, 0)
    try:
        worker = await ready_worker(dep)
        async with watching(dep) as watcher:
            feeder = Feeder(dep, pool(45, 60 + 30 * SCALE.sink_restarts), SCALE.rate)
            await feeder.start()
            for n in range(1, SCALE.sink_restarts + 1):
                # Mid-delivery: handoffs are arriving and the sink has appended some since
                # its start.
                before = len(file_handoff_ids(sink_file))
                await watcher.progress(int(SCALE.rate), within=READY_S)
                await _grows(sink_file, before)
                sink.proc.kill()
                await asyncio.to_thread(sink.proc.wait, 30)
                sink = await start_sink(dep, sink_file, n)
            await watcher.progress(int(SCALE.rate), within=READY_S)
            verdict = await settle(
                dep, feeder, watcher, sink_file, scenario="e_sink_kill9", faults=SCALE.sink_restarts
            )
        assert worker.alive(), dep.logs()
        verdict.assert_ok(dep.logs() + sink.log.read_text(errors="replace"))
    finally:
        await asyncio.to_thread(stop_sink, sink)


async def _grows(path: Path, before: int) -> None:
    from .conftest import eventually

    await eventually(
        lambda: len(file_handoff_ids(path)) > before, READY_S, what="the sink appends a handoff"
    )
