"""A local Apache Kafka cluster of several KRaft nodes (three by default), for fault drills.

Each node is an `ApacheKafka` that is both broker and controller, one voter of a quorum of
all of them, on free local ports, formatted with one cluster id. The internal topics and the
default replication factor are 3 with min ISR 2 (apache_kafka.replication_for): one node may
be down while every `acks=all` write still succeeds. The JVMs are kept small (three share the
machine with the clients under test).

`start` waits until every node answers and the cluster's metadata lists all of them as
brokers. `partitions` reads leaders and in-sync replicas from a fresh metadata request;
`wait_fully_replicated` waits until every partition's ISR is all of its replicas, which is
when a restarted node has caught up. A node is killed, shut down, frozen and resumed through
its own methods (`ApacheKafka.kill`, `shutdown`, `pause`, `resume`) and started again on its
data with `start`.

Nothing in the product depends on this module: tests and an operator's drills use it.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

import structlog
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.admin.config_resource import ConfigResource, ConfigResourceType
from aiokafka.errors import KafkaError

from warmhandoff.streams.config.connection import host_port
from warmhandoff.streams.contract.errors import BrokerUnavailableError
from warmhandoff.streams.runtime.apache_kafka import ApacheKafka, new_cluster_id
from warmhandoff.streams.runtime.broker import StartStop, free_port, run_blocking
from warmhandoff.streams.runtime.kafka_jars import KAFKA_VERSION, KafkaJars, provision

log = structlog.get_logger(__name__)

_T = TypeVar("_T")

#: One node's JVM: a smaller heap than a lone test broker's, since three share the machine.
CLUSTER_JVM_OPTIONS = (
    "-Xms128m",
    "-Xmx384m",
    "-XX:+UseG1GC",
    "-XX:MaxGCPauseMillis=20",
    "-XX:InitiatingHeapOccupancyPercent=35",
    "-XX:+ExplicitGCInvokesConcurrent",
    "-Djava.awt.headless=true",
)
DEFAULT_SIZE = 3
#: Three JVMs starting at once on a small shared machine are slow: a generous bound.
READY_TIMEOUT_S = 180.0
METADATA_TIMEOUT_S = 10.0
POLL_S = 0.5


@dataclass(frozen=True)
class PartitionState:
    """One partition as the cluster's metadata describes it."""

    topic: str
    partition: int
    leader: int  # -1 while it has none
    replicas: tuple[int, ...]
    isr: tuple[int, ...]

    @property
    def fully_replicated(self) -> bool:
        """True when every replica is in sync and there is a leader."""
        return self.leader >= 0 and set(self.isr) == set(self.replicas)


class KafkaCluster(StartStop):
    """Several Apache Kafka KRaft nodes on 127.0.0.1; a sync and async context manager."""

    def __init__(
        self,
        *,
        data_dir: Path,
        size: int = DEFAULT_SIZE,
        host: str = "127.0.0.1",
        version: str = KAFKA_VERSION,
        jars: KafkaJars | None = None,
        properties: Mapping[str, str] | None = None,
        jvm_options: Sequence[str] = CLUSTER_JVM_OPTIONS,
        ready_timeout: float = READY_TIMEOUT_S,
    ) -> None:
        if size < 1:
            raise ValueError(f"a cluster needs at least one node, not {size}")
        self.data_dir = data_dir
        self.ready_timeout = ready_timeout
        self.jars = jars
        self.version = jars.version if jars is not None else version
        self.cluster_id = new_cluster_id()
        ports = distinct_free_ports(2 * size)
        brokers, controllers = ports[:size], ports[size:]
        voters = {n + 1: host_port(host, controllers[n]) for n in range(size)}
        self.nodes = [
            ApacheKafka(
                data_dir=data_dir,
                port=brokers[n],
                controller_port=controllers[n],
                host=host,
                version=self.version,
                jars=jars,
                properties=properties,
                ready_timeout=ready_timeout,
                node_id=n + 1,
                voters=voters,
                cluster_id=self.cluster_id,
                jvm_options=jvm_options,
            )
            for n in range(size)
        ]
        self.ready_seconds: float | None = None

    def __repr__(self) -> str:
        running = sum(node.running for node in self.nodes)
        return f"<KafkaCluster {self.bootstrap} running={running}/{len(self.nodes)}>"

    @property
    def bootstrap(self) -> str:
        """Every node's address: clients reach the cluster whichever node is down."""
        return ",".join(node.bootstrap for node in self.nodes)

    def node(self, node_id: int) -> ApacheKafka:
        """The node with this id."""
        for node in self.nodes:
            if node.node_id == node_id:
                return node
        raise KeyError(f"no node {node_id} in this cluster")

    # --- lifecycle ------------------------------------------------------------------------

    def start(self) -> None:
        """Start every node and block until all are registered brokers."""
        run_blocking(self.astart())

    async def astart(self) -> None:
        """Start every node and wait until all are registered brokers."""
        started = time.monotonic()
        if self.jars is None:
            self.jars = await asyncio.to_thread(provision, self.version)
        for node in self.nodes:
            node.jars = self.jars
        try:
            # At once: a node answers only once a quorum of voters has formed.
            async with asyncio.TaskGroup() as group:
                for node in self.nodes:
                    group.create_task(node.astart())
            await self.wait_registered(within=self.ready_timeout)
        except BaseException:
            await self.astop()
            raise
        self.ready_seconds = time.monotonic() - started
        log.info(
            "cluster.started",
            bootstrap=self.bootstrap,
            nodes=len(self.nodes),
            ready_seconds=round(self.ready_seconds, 3),
        )

    def stop(self) -> None:
        """Stop every node (each with a controlled shutdown first)."""
        run_blocking(self.astop())

    async def astop(self) -> None:
        """Stop every node at once: one by one, the last would wait for a lost quorum."""
        await asyncio.gather(*(node.astop() for node in self.nodes))

    # --- metadata -------------------------------------------------------------------------

    async def registered(self) -> set[int]:
        """Ids of the brokers the cluster's metadata lists now (empty when none answers)."""
        try:
            described = await self._metadata(lambda admin: admin.describe_cluster())
        except (KafkaError, OSError, TimeoutError):
            return set()
        return {int(broker["node_id"]) for broker in described.get("brokers", [])}

    async def partitions(self, topics: Sequence[str] | None = None) -> list[PartitionState]:
        """Leader, replicas and ISR of every partition of `topics` (all topics when None),
        from a fresh metadata request."""
        described = await self._metadata(
            lambda admin: admin.describe_topics(list(topics) if topics is not None else None)
        )
        found = []
        for topic in described:
            if topic["error_code"]:
                raise KafkaError(f"topic {topic['topic']}: error code {topic['error_code']}")
            for p in topic["partitions"]:
                found.append(
                    PartitionState(
                        topic=topic["topic"],
                        partition=p["partition"],
                        leader=p["leader"],
                        replicas=tuple(p["replicas"]),
                        isr=tuple(p["isr"]),
                    )
                )
        return sorted(found, key=lambda s: (s.topic, s.partition))

    async def topic_configs(self, topics: Sequence[str]) -> dict[str, dict[str, str]]:
        """Each topic's effective configs (its own, else the brokers' defaults)."""
        resources = [ConfigResource(ConfigResourceType.TOPIC, name) for name in topics]
        responses = await self._metadata(lambda admin: admin.describe_configs(resources))
        configs: dict[str, dict[str, str]] = {}
        for response in responses:
            for error_code, message, _type, name, entries, *_ in response.resources:
                if error_code:
                    raise KafkaError(f"topic {name}: {message or f'error code {error_code}'}")
                configs[name] = {e[0]: e[1] for e in entries if e[1] is not None}
        return configs

    async def leaders(self, topic: str) -> dict[int, int]:
        """Partition -> id of the node leading it, for one topic."""
        return {s.partition: s.leader for s in await self.partitions([topic])}

    async def wait_registered(self, within: float) -> float:
        """Seconds until every node is a registered broker in the cluster's metadata."""
        wanted = {node.node_id for node in self.nodes}
        return await self._wait(
            lambda: self._has_brokers(wanted), within, f"brokers {sorted(wanted)} registered"
        )

    async def wait_fully_replicated(self, within: float) -> float:
        """Seconds until every node is registered and every partition of every topic has all
        its replicas in sync (a restarted node has caught up)."""
        return await self._wait(self._fully_replicated, within, "every partition fully in sync")

    async def _has_brokers(self, wanted: set[int]) -> bool:
        return await self.registered() >= wanted

    async def _fully_replicated(self) -> bool:
        if not await self._has_brokers({node.node_id for node in self.nodes}):
            return False
        try:
            states = await self.partitions()
        except (KafkaError, OSError, TimeoutError):
            return False
        return all(s.fully_replicated for s in states)

    async def _wait(self, holds: Callable[[], Awaitable[bool]], within: float, what: str) -> float:
        started = time.monotonic()
        while not await holds():
            if time.monotonic() - started > within:
                raise BrokerUnavailableError(
                    f"the cluster at {self.bootstrap}: not within {within:g} s: {what}"
                )
            await asyncio.sleep(POLL_S)
        return time.monotonic() - started

    async def _metadata(self, ask: Callable[[AIOKafkaAdminClient], Awaitable[_T]]) -> _T:
        """One admin request to whichever node answers, bounded in time."""
        admin = AIOKafkaAdminClient(
            bootstrap_servers=self.bootstrap,
            request_timeout_ms=int(METADATA_TIMEOUT_S * 1000),
        )
        try:
            async with asyncio.timeout(METADATA_TIMEOUT_S * 2):
                await admin.start()
                return await ask(admin)
        finally:
            await admin.close()


def distinct_free_ports(count: int) -> list[int]:
    """`count` different TCP ports on 127.0.0.1 that were free a moment ago."""
    ports: list[int] = []
    while len(ports) < count:
        port = free_port()
        if port not in ports:
            ports.append(port)
    return ports
