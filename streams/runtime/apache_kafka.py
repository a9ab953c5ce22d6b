"""A single-node Apache Kafka (KRaft, broker and controller in one JVM) on free local ports.

The jars come from `kafka_jars.provision` (Maven Central, cached once per machine). Each
broker gets a directory of its own under `data_dir`: the `server.properties` and log4j2
settings written here, storage formatted with `kafka.tools.StorageTool`, and the log
directory. Its output goes to `kafka-<port>.log` beside it. `format_arguments` go to the storage
format step (SCRAM users, for instance: `--add-scram SCRAM-SHA-512=[name=...,password=...]`).

The settings are a production broker's, cut to one node: internal topics at replication 1
with min ISR 1, no auto-created topics (topics.yaml is the source of truth and `topics apply`
creates them), no initial rebalance delay. Record timestamps keep Kafka's default bound (at
most an hour in the future): warmhandoff never sets a record's timestamp itself; a
turn's own `ts` is in its value.

A node may instead be one of several controller voters (`voters`, node id -> controller
address; streams/runtime/kafka_cluster.py starts such a cluster): then the internal topics and
the default replication factor are 3 (at most the number of nodes) with min ISR one less,
Kafka's production settings, so one node may be down while every `acks=all` write succeeds.
Such a node can also be killed, frozen, resumed and started again on its own data.

Like the embedded broker, it runs in its own session (a Ctrl-C reaches the caller first,
which stops it last), and `atexit` stops it when the caller exits without stopping it (an
exception, a forgotten `stop`; not a kill -9 of the caller).
"""

from __future__ import annotations

import atexit
import base64
import os
import signal
import subprocess
import uuid
from collections.abc import Mapping, Sequence
from pathlib import Path

import structlog

from warmhandoff.streams.config.connection import host_port
from warmhandoff.streams.contract.errors import BrokerUnavailableError
from warmhandoff.streams.runtime.broker import (
    BrokerProcess,
    free_port,
)
from warmhandoff.streams.runtime.kafka_jars import KAFKA_VERSION, KafkaJars, provision

log = structlog.get_logger(__name__)

#: Kafka's own start script defaults for a broker JVM, with a small heap for one test node.
JVM_OPTIONS = (
    "-Xms256m",
    "-Xmx1g",
    "-XX:+UseG1GC",
    "-XX:MaxGCPauseMillis=20",
    "-XX:InitiatingHeapOccupancyPercent=35",
    "-XX:+ExplicitGCInvokesConcurrent",
    "-Djava.awt.headless=true",
)

FORMAT_TIMEOUT_S = 120.0
KILL_WAIT_S = 30.0
MAX_INTERNAL_REPLICAS = 3

LOG4J2_PROPERTIES = """\
status = warn
appender.out.type = Console
appender.out.name = OUT
appender.out.layout.type = PatternLayout
appender.out.layout.pattern = [%d] %p %m (%c)%n
rootLogger.level = INFO
rootLogger.appenderRef.out.ref = OUT
# Every client and config object logs its full settings at INFO: once per start is enough.
logger.config.name = org.apache.kafka.common.config.AbstractConfig
logger.config.level = WARN
logger.request.name = kafka.request.logger
logger.request.level = WARN
"""


def server_properties(
    *,
    host: str,
    port: int,
    controller_port: int,
    log_dir: Path,
    node_id: int = 1,
    voters: Mapping[int, str] | None = None,
) -> dict[str, str]:
    """A KRaft node's settings: PLAINTEXT on `port`, its controller on the other.

    Without `voters` it is a one-node cluster. With them (node id -> controller host:port,
    this node among them) it is one voter of a cluster of that many nodes."""
    quorum = dict(voters) if voters else {node_id: host_port(host, controller_port)}
    if node_id not in quorum:
        raise ValueError(f"node {node_id} is not among the controller voters {sorted(quorum)}")
    replicas, min_isr = replication_for(len(quorum))
    return {
        "process.roles": "broker,controller",
        "node.id": str(node_id),
        "controller.quorum.voters": ",".join(f"{n}@{address}" for n, address in quorum.items()),
        "listeners": f"PLAINTEXT://{host_port(host, port)},"
        f"CONTROLLER://{host_port(host, controller_port)}",
        "advertised.listeners": f"PLAINTEXT://{host_port(host, port)}",
        "listener.security.protocol.map": "PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT",
        "inter.broker.listener.name": "PLAINTEXT",
        "controller.listener.names": "CONTROLLER",
        "log.dirs": str(log_dir),
        # Internal topics and the defaults for others (`replication_for`): no more replicas
        # than brokers.
        "offsets.topic.replication.factor": replicas,
        "transaction.state.log.replication.factor": replicas,
        "transaction.state.log.min.isr": min_isr,
        "share.coordinator.state.topic.replication.factor": replicas,
        "share.coordinator.state.topic.min.isr": min_isr,
        "default.replication.factor": replicas,
        "min.insync.replicas": min_isr,
        # Topics come from topics.yaml (`topics apply`), never from a typo in a client.
        "auto.create.topics.enable": "false",
        "group.initial.rebalance.delay.ms": "0",
    }


def replication_for(nodes: int) -> tuple[str, str]:
    """Replicas and min ISR of the internal topics on `nodes` brokers: Kafka's production 3
    and 2 where there are three or more, so one broker may be down while acks=all writes
    still reach two; as many as there are below that."""
    replicas = min(nodes, MAX_INTERNAL_REPLICAS)
    return str(replicas), str(max(1, replicas - 1))


def render_properties(properties: Mapping[str, str]) -> str:
    """A Java properties file, one `key=value` a line (the values here need no escaping)."""
    return "".join(f"{key}={value}\n" for key, value in properties.items())


def new_cluster_id() -> str:
    """A KRaft cluster id: a random UUID in Kafka's URL-safe base64 form (22 characters)."""
    while True:
        text = base64.urlsafe_b64encode(uuid.uuid4().bytes).decode().rstrip("=")
        if not text.startswith("-"):  # Kafka avoids ids that look like command-line options
            return text


class ApacheKafka(BrokerProcess):
    """An Apache Kafka broker process on 127.0.0.1; a sync and async context manager."""

    #: A controlled shutdown moves leadership and flushes logs first: give it time.
    stop_grace = 20.0
    ready_poll = 0.1

    def __init__(
        self,
        *,
        data_dir: Path,
        port: int | None = None,
        controller_port: int | None = None,
        host: str = "127.0.0.1",
        version: str = KAFKA_VERSION,
        jars: KafkaJars | None = None,
        properties: Mapping[str, str] | None = None,
        format_arguments: Sequence[str] = (),
        ready_timeout: float = 90.0,
        node_id: int = 1,
        voters: Mapping[int, str] | None = None,
        cluster_id: str | None = None,
        jvm_options: Sequence[str] = JVM_OPTIONS,
    ) -> None:
        self.host = host
        self.port = port if port is not None else free_port()
        self.controller_port = controller_port or _other_free_port(self.port)
        self.data_dir = data_dir
        self.version = jars.version if jars is not None else version
        self.name = f"Apache Kafka {self.version}"
        self.jars = jars
        self.overrides = dict(properties or {})
        self.format_arguments = tuple(format_arguments)
        self.ready_timeout = ready_timeout
        self.node_id = node_id
        self.voters = dict(voters) if voters else None
        self.cluster_id = cluster_id or new_cluster_id()
        self.jvm_options = tuple(jvm_options)
        self.ready_seconds: float | None = None
        self._formatted = False
        self._log_start = 0
        self._proc = None
        self._log_file = None

    def __repr__(self) -> str:
        return f"<ApacheKafka {self.version} {self.bootstrap} running={self.running}>"

    @property
    def home(self) -> Path:
        """This broker's own directory: settings and log directory."""
        return self.data_dir / f"kafka-{self.port}"

    @property
    def log_path(self) -> Path:
        """The file the broker's output goes to."""
        return self.data_dir / f"kafka-{self.port}.log"

    def properties(self) -> dict[str, str]:
        """The broker's settings: `server_properties` with this broker's overrides."""
        base = server_properties(
            host=self.host,
            port=self.port,
            controller_port=self.controller_port,
            log_dir=self.home / "data",
            node_id=self.node_id,
            voters=self.voters,
        )
        return base | self.overrides

    def _spawn(self) -> None:
        if self._proc is not None:
            raise RuntimeError("this ApacheKafka was already started")
        jars = self.jars = self.jars or provision(self.version)
        self.home.mkdir(parents=True, exist_ok=True)
        config = self.home / "server.properties"
        config.write_text(render_properties(self.properties()))
        log4j = self.home / "log4j2.properties"
        log4j.write_text(LOG4J2_PROPERTIES)
        java = [jars.java, f"-Dlog4j2.configurationFile={log4j}", "-cp", jars.classpath]
        # A restart runs on the storage already formatted, and keeps the earlier output.
        self._log_file = self.log_path.open("ab" if self._formatted else "wb")
        self._log_start = self._log_file.tell()
        if not self._formatted:
            self._format(java, config)
            self._formatted = True
        self._proc = subprocess.Popen(
            [*java, *self.jvm_options, "kafka.Kafka", str(config)],
            stdin=subprocess.DEVNULL,
            stdout=self._log_file,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # keep terminal signals away; we stop it ourselves
        )
        # A crashed or interrupted parent must not leave a broker holding the ports.
        atexit.register(self.stop)

    def _format(self, java: list[str], config: Path) -> None:
        assert self._log_file is not None
        format_storage = [
            "kafka.tools.StorageTool",
            "format",
            "-t",
            self.cluster_id,
            *self.format_arguments,
        ]
        try:
            formatted = subprocess.run(
                [*java, "-Xmx256m", *format_storage, "-c", str(config)],
                stdin=subprocess.DEVNULL,
                stdout=self._log_file,
                stderr=subprocess.STDOUT,
                timeout=FORMAT_TIMEOUT_S,
                check=False,
            )
            code = formatted.returncode
            failure = (self._first_error() or f"it exited with code {code}") if code else ""
        except subprocess.TimeoutExpired:
            failure = f"it took over {FORMAT_TIMEOUT_S:g} s"
        if failure:
            self._log_file.close()
            self._log_file = None
            raise BrokerUnavailableError(
                f"Apache Kafka {self.version} could not format its storage: {failure} "
                f"(log: {self.log_path})"
            )

    def kill(self) -> None:
        """kill -9: no controlled shutdown, no flush; `start` runs it again on its data."""
        proc = self._proc
        if proc is not None and proc.poll() is None:
            proc.kill()
            proc.wait(timeout=KILL_WAIT_S)
        self.stop()  # forgets the dead process and closes its output file

    def shutdown(self, grace: float) -> bool:
        """A controlled shutdown (SIGTERM); False when it took over `grace` s and was killed."""
        proc = self._proc
        if proc is None or proc.poll() is not None:
            self.stop()
            return True
        os.kill(proc.pid, signal.SIGCONT)  # a frozen broker would hold SIGTERM
        proc.terminate()
        try:
            proc.wait(timeout=grace)
        except subprocess.TimeoutExpired:
            self.kill()
            return False
        self.stop()
        return True

    def pause(self) -> None:
        """SIGSTOP: the process is frozen, its connections open but silent."""
        self._signal(signal.SIGSTOP)

    def resume(self) -> None:
        """SIGCONT: a paused broker runs again."""
        self._signal(signal.SIGCONT)

    def _signal(self, sig: signal.Signals) -> None:
        if self._proc is None or self._proc.poll() is not None:
            raise RuntimeError(f"{self.name} node {self.node_id} is not running")
        os.kill(self._proc.pid, sig)

    def _startup_failure(self) -> str | None:
        if self.running:
            return None
        code = self._proc.returncode if self._proc is not None else None
        return self._first_error() or f"it exited with code {code}"

    def _first_error(self) -> str:
        """The first line of the log that says why, or an empty string."""
        try:
            with self.log_path.open("rb") as output:
                output.seek(self._log_start)  # this start's output, not an earlier run's
                text = output.read().decode(errors="replace")
        except OSError:
            return ""
        if "Address already in use" in text:
            return f"port {self.port} or {self.controller_port} is already in use"
        lines = [line.strip() for line in text.splitlines() if line.strip()]
        for line in lines:
            if " ERROR " in line or " FATAL " in line or "Exception" in line:
                return line[:300]
        return lines[-1][:300] if lines else ""


def _other_free_port(taken: int) -> int:
    while (port := free_port()) == taken:
        continue
    return port


def local_kafka(port: int, data_dir: Path) -> ApacheKafka:
    """A single-node Apache Kafka on `port` whose topics outlive it: started again on the same
    `data_dir`, it runs on the storage formatted the first time."""
    kafka = ApacheKafka(port=port, data_dir=data_dir)
    if (kafka.home / "data" / "meta.properties").exists():
        kafka._formatted = True
    return kafka
