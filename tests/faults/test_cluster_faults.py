"""Broker faults on a three-node Apache Kafka cluster while traffic flows, with real worker and
sink processes.

The module starts its own cluster (streams/runtime/kafka_cluster.py): three KRaft nodes, each
broker and controller, internal topics at replication 3 with min ISR 2 and the same defaults
for every topic. WARMHANDOFF_TOPIC_REPLICATION_FACTOR=3 is set for everything the tests start,
so `topics apply` creates every warmhandoff topic with three replicas and each worker and sink
checks them against that at start. Every producer on the way writes with acks=all: the
Feeder, the worker's Faust producer (`producer_acks`, streams/runtime/faust_app.py) and the
sink's (streams/services/sink.py).

Scenarios, each mid-stream: (1) kill -9 of the broker leading the most conversation.turns
partitions, traffic on the two left, then a restart; (2) one broker frozen with SIGSTOP for
30 s, then SIGCONT; (3) a rolling restart, each broker in turn shut down with SIGTERM
(controlled shutdown), started again and waited for until every partition is fully in sync.
The checks and the `FAULTS ...` lines are the fault suite's (tests/faults/conftest.py: every
expected handoff in the sink file once, nothing else, decisions in seq order per
conversation, lag zero); broker figures are added to each line. Runs only on Apache Kafka:
the embedded broker and an external one have no nodes of ours to fault.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from uuid import uuid4

import aiohttp
import pytest
from aiokafka import AIOKafkaProducer
from aiokafka.errors import KafkaError

from warmhandoff.streams.config.connection import ConnectionSettings, topics_for
from warmhandoff.streams.config.worker import WorkerSettings
from warmhandoff.streams.contract.models import Turn
from warmhandoff.streams.runtime.apache_kafka import ApacheKafka
from warmhandoff.streams.runtime.faust_app import faust_config
from warmhandoff.streams.runtime.kafka_cluster import KafkaCluster
from warmhandoff.streams.runtime.topic_admin import apply_topics

from ..brokers import TestBroker
from ..integration.conftest import Deployment, traffic
from ..integration.test_worker_ops import get
from .conftest import LONG, Feeder, Verdict, report, settle, watching
from .test_faults import READY_S, ready_worker, start_sink, stop_sink

pytestmark = [
    pytest.mark.faults,
    pytest.mark.integration,
    # The first test also waits for the cluster to start.
    pytest.mark.timeout(1800 if LONG else 600),
]

REPLICAS = 3
MIN_ISR = 2
LAG_METRIC = "warmhandoff_consumer_lag_messages"


@dataclass(frozen=True)
class ClusterScale:
    """How hard the module pushes: the short version for CI, the long one on demand."""

    # Sustained turns/s. Lower than the one-broker suite's: every write is replicated by
    # three JVMs on the same machine, and an acting turn waits for acks=all before its state
    # is saved, so the worker's pace is bound by replication latency.
    rate: float
    kills: int  # kill -9 and restart cycles in (1)
    sigstops: int  # SIGSTOP/SIGCONT cycles in (2)
    sigstop_seconds: float  # how long (2) holds a broker frozen
    rolls: int  # rolling restarts of all brokers in (3)


CLUSTER_SCALE = (
    ClusterScale(rate=100, kills=3, sigstops=2, sigstop_seconds=30, rolls=2)
    if LONG
    else ClusterScale(rate=40, kills=1, sigstops=1, sigstop_seconds=30, rolls=1)
)
RATE = CLUSTER_SCALE.rate
#: Deadlines only, never asserted on as timings: a node back up and every partition in sync,
#: and a controlled shutdown, on a shared two-core machine.
REJOIN_S = 240.0
SHUTDOWN_GRACE_S = 120.0


# --- fixtures ------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def cluster(
    test_broker: TestBroker, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[KafkaCluster]:
    """Three Apache Kafka nodes for this module only."""
    if test_broker.kind != "kafka":
        pytest.skip(
            "broker faults need a three-node Apache Kafka cluster, and this run's test broker "
            f"is not Apache Kafka: {test_broker.describe()}"
        )
    with KafkaCluster(data_dir=tmp_path_factory.mktemp("cluster"), jars=test_broker.jars) as c:
        yield c


@pytest.fixture(scope="module")
def kafka_bootstrap(cluster: KafkaCluster) -> str:
    """Overrides the fault suite's broker: every test here talks to all three nodes."""
    return cluster.bootstrap


@pytest.fixture(scope="module", autouse=True)
def replication_factor_everywhere() -> Iterator[None]:
    """Workers and sinks inherit it and check every topic against replication factor 3."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("WARMHANDOFF_TOPIC_REPLICATION_FACTOR", str(REPLICAS))
        yield


@pytest.fixture
async def topic_prefix(cluster: KafkaCluster) -> str:
    """A fresh prefix whose topics are created as `topics apply` creates them with
    WARMHANDOFF_TOPIC_REPLICATION_FACTOR=3, on a cluster with every node up and in sync.
    The deployment fixture then applies topics.yaml and finds them all in place."""
    for node in cluster.nodes:  # a failed test before this one may have left one down
        if not node.running:
            await node.astart()
        node.resume()
    await cluster.wait_fully_replicated(within=REJOIN_S)
    prefix = f"t{uuid4().hex[:8]}."
    settings = ConnectionSettings(
        bootstrap_servers=cluster.bootstrap, topic_prefix=prefix, app_id="wh"
    )
    assert settings.topic_replication_factor == REPLICAS
    report = await apply_topics(topics_for(settings), settings)
    assert report.ok and not report.drift, report
    return prefix


# --- helpers -------------------------------------------------------------------------------


async def check_replication(cluster: KafkaCluster, dep: Deployment) -> None:
    """Every warmhandoff topic and Kafka's offsets and transaction state: 3 replicas, min
    ISR 2."""
    await open_transaction_state(cluster)
    names = [spec.name for spec in dep.topics]
    # The offsets topic exists once a group has joined: the worker's has.
    internal = ["__consumer_offsets", "__transaction_state"]
    states = await cluster.partitions([*names, *internal])
    replicas = Counter((s.topic, len(s.replicas)) for s in states)
    assert {topic for topic, _ in replicas} == {*names, *internal}, replicas
    assert all(n == REPLICAS for _, n in replicas), replicas
    configs = await cluster.topic_configs([*names, *internal])
    assert {c["min.insync.replicas"] for c in configs.values()} == {str(MIN_ISR)}, configs


async def open_transaction_state(cluster: KafkaCluster) -> None:
    """Makes the brokers create __transaction_state (on a first transactional producer, as
    under exactly-once), so its replication can be checked."""
    producer = AIOKafkaProducer(
        bootstrap_servers=cluster.bootstrap,
        transactional_id=f"replication-check-{uuid4().hex[:8]}",
        request_timeout_ms=60_000,
    )
    await producer.start()
    try:
        async with asyncio.timeout(READY_S), producer.transaction():
            pass  # an empty transaction: the producer id is all that is needed
    finally:
        await producer.stop()


async def busiest_leader(cluster: KafkaCluster, dep: Deployment) -> tuple[ApacheKafka, int]:
    """The node leading the most conversation.turns partitions now, and how many it leads."""
    leaders = await cluster.leaders(dep.topics.name("conversation.turns"))
    counts = Counter(leaders.values())
    node_id, led = max(sorted(counts.items()), key=lambda item: item[1])
    return cluster.node(node_id), led


async def leads_none(cluster: KafkaCluster, dep: Deployment, node: ApacheKafka) -> float:
    """Seconds until `node` leads no conversation.turns partition (its leadership moved)."""
    topic = dep.topics.name("conversation.turns")
    started = time.monotonic()
    while True:
        # A request that reached the frozen node fails; the next goes elsewhere.
        with contextlib.suppress(KafkaError, OSError, TimeoutError):
            if node.node_id not in (await cluster.leaders(topic)).values():
                return time.monotonic() - started
        await asyncio.sleep(0.5)


async def restart(cluster: KafkaCluster, node: ApacheKafka) -> tuple[float, float]:
    """Start a stopped node; seconds until it answered, and until every partition was in
    sync again."""
    started = time.monotonic()
    await node.astart()
    up = time.monotonic() - started
    await cluster.wait_fully_replicated(within=REJOIN_S)
    return up, time.monotonic() - started


def pool(seed: int, seconds: float) -> list[Turn]:
    """Enough generated turns for `seconds` of traffic at the sustained rate."""
    return traffic(int(RATE * seconds / 3) + 50, seed=seed)


async def settled(cluster: KafkaCluster, dep: Deployment, *args: Any, **kwargs: Any) -> Verdict:
    """`settle`, with `diagnose` printed when turns or handoffs are missing."""
    try:
        verdict = await settle(dep, *args, **kwargs)
    except AssertionError:
        await diagnose(cluster, dep)
        raise
    if verdict.missing or verdict.undecided:
        await diagnose(cluster, dep)
    return verdict


async def diagnose(cluster: KafkaCluster, dep: Deployment) -> None:
    """Print who leads each input partition and who is in sync, and each worker's own lag:
    with the "Failed fetch ... from N" lines of the logs, they tell a client stuck on a
    stale leader from a partition without one."""
    with contextlib.suppress(KafkaError, OSError, TimeoutError):
        keys = ("conversation.turns", "handoff.requests")
        for state in await cluster.partitions([dep.topics.name(k) for k in keys]):
            print(f"CLUSTER {state}")
    for worker in dep.workers:
        with contextlib.suppress(aiohttp.ClientError, TimeoutError):
            _, text = await get(worker.web_port, "/metrics")
            lag = [line for line in text.splitlines() if line.startswith(LAG_METRIC)]
            print(f"WORKER {worker.web_port} " + " ".join(lag))


def finish(verdict: Verdict, dep: Deployment, worker: Any, **figures: Any) -> None:
    """Add the broker figures to the scenario's line, print it, then check the verdict."""
    verdict.figures.update(figures, rate=RATE)
    report(verdict.figures)
    assert worker.alive(), dep.logs()
    verdict.assert_ok(dep.logs())


# --- scenarios -----------------------------------------------------------------------------


def test_0_the_workers_faust_producer_waits_for_every_in_sync_replica(tmp_path: Path) -> None:
    """min.insync.replicas protects only writes made with acks=all: what the worker's Faust
    producer hands aiokafka, built from the worker's own Faust settings."""
    import faust

    settings = WorkerSettings(bootstrap_servers="127.0.0.1:1", data_dir=tmp_path)
    app = faust.App("acks-check", **faust_config(settings, topics_for(settings)))
    producer: Any = app.producer  # Faust's aiokafka driver: the settings it hands aiokafka
    assert producer._settings_default()["acks"] == -1


async def test_1_leader_broker_killed_and_restarted(
    deployment: Deployment, cluster: KafkaCluster
) -> None:
    dep = deployment
    sink_file = dep.tmp / "handoffs.jsonl"
    sink = await start_sink(dep, sink_file, 0)
    try:
        worker = await ready_worker(dep)
        await check_replication(cluster, dep)
        victims: list[str] = []
        up: list[float] = []
        in_sync: list[float] = []
        async with watching(dep) as watcher:
            feeder = Feeder(dep, pool(51, 90 + 90 * CLUSTER_SCALE.kills), RATE)
            await feeder.start()
            for _ in range(CLUSTER_SCALE.kills):
                await watcher.progress(int(RATE), within=READY_S)
                victim, led = await busiest_leader(cluster, dep)
                victims.append(f"n{victim.node_id}:{led}")
                await asyncio.to_thread(victim.kill)
                # Two brokers left: decisions keep coming while it is down.
                await watcher.progress(int(RATE), within=READY_S * 2)
                answered, synced = await restart(cluster, victim)
                up.append(answered)
                in_sync.append(synced)
                await watcher.progress(int(RATE), within=READY_S)
            verdict = await settled(
                cluster,
                dep,
                feeder,
                watcher,
                sink_file,
                scenario="k1_leader_kill9",
                faults=CLUSTER_SCALE.kills,
                quiet=True,
            )
        finish(
            verdict,
            dep,
            worker,
            killed=",".join(victims),  # node:turns partitions it led
            restart_s=max_of(up),
            in_sync_s=max_of(in_sync),
        )
    finally:
        await asyncio.to_thread(stop_sink, sink)


async def test_2_broker_frozen_and_resumed(deployment: Deployment, cluster: KafkaCluster) -> None:
    dep = deployment
    sink_file = dep.tmp / "handoffs.jsonl"
    sink = await start_sink(dep, sink_file, 0)
    try:
        worker = await ready_worker(dep)
        await check_replication(cluster, dep)
        victims: list[str] = []
        moved: list[float | None] = []
        in_sync: list[float] = []
        seconds = CLUSTER_SCALE.sigstop_seconds
        async with watching(dep) as watcher:
            feeder = Feeder(dep, pool(52, 90 + (seconds + 90) * CLUSTER_SCALE.sigstops), RATE)
            await feeder.start()
            for _ in range(CLUSTER_SCALE.sigstops):
                await watcher.progress(int(RATE) * 2, within=READY_S)
                victim, led = await busiest_leader(cluster, dep)
                victims.append(f"n{victim.node_id}:{led}")
                victim.pause()
                try:
                    # A figure, not a wait: how soon its partitions got other leaders.
                    failover = asyncio.create_task(leads_none(cluster, dep, victim))
                    await asyncio.sleep(seconds)  # the fault: the broker is frozen
                finally:
                    victim.resume()
                moved.append(failover.result() if failover.done() else None)
                failover.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await failover
                in_sync.append(await cluster.wait_fully_replicated(within=REJOIN_S))
                await watcher.progress(int(RATE) * 2, within=READY_S * 2)
            verdict = await settled(
                cluster,
                dep,
                feeder,
                watcher,
                sink_file,
                scenario="k2_broker_sigstop",
                faults=CLUSTER_SCALE.sigstops,
                quiet=True,
            )
        finish(
            verdict,
            dep,
            worker,
            frozen=",".join(victims),  # node:turns partitions it led
            sigstop_s=seconds,
            leaders_moved_s=",".join("-" if m is None else f"{m:.1f}" for m in moved),
            in_sync_s=max_of(in_sync),
        )
    finally:
        await asyncio.to_thread(stop_sink, sink)


async def test_3_rolling_restart_of_every_broker(
    deployment: Deployment, cluster: KafkaCluster
) -> None:
    dep = deployment
    sink_file = dep.tmp / "handoffs.jsonl"
    sink = await start_sink(dep, sink_file, 0)
    try:
        worker = await ready_worker(dep)
        await check_replication(cluster, dep)
        unclean: list[int] = []
        up: list[float] = []
        in_sync: list[float] = []
        restarts = CLUSTER_SCALE.rolls * len(cluster.nodes)
        async with watching(dep) as watcher:
            feeder = Feeder(dep, pool(53, 90 + 60 * restarts), RATE)
            await feeder.start()
            for _ in range(CLUSTER_SCALE.rolls):
                for node in cluster.nodes:
                    await watcher.progress(int(RATE), within=READY_S)
                    if not await asyncio.to_thread(node.shutdown, SHUTDOWN_GRACE_S):
                        unclean.append(node.node_id)
                    answered, synced = await restart(cluster, node)
                    up.append(answered)
                    in_sync.append(synced)
            await watcher.progress(int(RATE), within=READY_S)
            verdict = await settled(
                cluster,
                dep,
                feeder,
                watcher,
                sink_file,
                scenario="k3_rolling_restart",
                faults=restarts,
                quiet=True,
            )
        # A controlled shutdown that had to be killed is a different fault (scenario 1).
        assert not unclean, f"nodes {unclean} took over {SHUTDOWN_GRACE_S:g} s to shut down"
        finish(verdict, dep, worker, restart_s=max_of(up), in_sync_s=max_of(in_sync))
    finally:
        await asyncio.to_thread(stop_sink, sink)


def max_of(seconds: list[float]) -> float:
    """The longest of several measured durations, rounded for the report."""
    return round(max(seconds), 1) if seconds else 0.0
