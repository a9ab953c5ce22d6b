"""Which Kafka broker the tests run on, and starting it.

`WARMHANDOFF_TEST_BROKER` picks it:

- `kafka`: Apache Kafka, its jars fetched once per machine from Maven Central
  (streams/runtime/kafka_jars.py) and a single KRaft node started on free ports;
- `embedded`: the embedded broker (Tansu) on a free port;
- `HOST:PORT`: a broker that is already running there.

Unset, a broker answering at WARMHANDOFF_BOOTSTRAP_SERVERS is used, and otherwise the default
below. When Apache Kafka cannot be provisioned (no Java 17+, no Maven, Maven Central
unreachable), a CI run (`CI=true`) fails with that one line; elsewhere the tests fall back to
the embedded broker and the pytest header says why.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Literal, Protocol

from warmhandoff.streams.config.connection import bootstrap_hosts
from warmhandoff.streams.contract.errors import KafkaUnavailableError
from warmhandoff.streams.runtime.apache_kafka import ApacheKafka
from warmhandoff.streams.runtime.broker import EmbeddedBroker, broker_answers
from warmhandoff.streams.runtime.kafka_jars import KafkaJars, provision

TEST_BROKER_ENV = "WARMHANDOFF_TEST_BROKER"
DEFAULT_TEST_BROKER = "kafka"


class BrokerUnusable(Exception):
    """The broker asked for cannot be used, and the run must stop: the one-line reason."""


class RunningBroker(Protocol):
    """What a test needs of a broker: where to connect, and its process when it owns one."""

    @property
    def bootstrap(self) -> str: ...

    @property
    def pid(self) -> int | None: ...


@dataclass(frozen=True)
class ExternalBroker:
    """A broker the tests did not start: no process of theirs to stop or freeze."""

    bootstrap: str
    pid: int | None = None


@dataclass(frozen=True)
class TestBroker:
    """The broker chosen for this run, and why."""

    __test__ = False  # not a test class, whatever pytest's name patterns say

    kind: Literal["kafka", "embedded", "external"]
    address: str | None = None
    jars: KafkaJars | None = None
    note: str = ""

    def describe(self) -> str:
        """One line for the pytest header."""
        if self.kind == "kafka":
            assert self.jars is not None
            text = f"Apache Kafka {self.jars.version} (jars: {self.jars.directory})"
        elif self.kind == "embedded":
            text = "embedded (Tansu)"
        else:
            text = f"{self.address}"
        return f"{text}: {self.note}" if self.note else text

    @contextlib.contextmanager
    def started(self, data_dir: Path) -> Iterator[RunningBroker]:
        """A broker of this kind, started under `data_dir` and stopped at the end."""
        if self.kind == "kafka":
            with ApacheKafka(data_dir=data_dir, jars=self.jars) as kafka:
                yield kafka
        elif self.kind == "embedded":
            with EmbeddedBroker(data_dir=data_dir) as embedded:
                yield embedded
        else:
            assert self.address is not None
            yield ExternalBroker(self.address)


def choose_broker(env: Mapping[str, str] | None = None) -> TestBroker:
    """The broker this run uses; raises BrokerUnusable when the run must not go on."""
    env = os.environ if env is None else env
    wanted = env.get(TEST_BROKER_ENV, "").strip()
    source = f"{TEST_BROKER_ENV}={wanted}"
    if not wanted:
        external = env.get("WARMHANDOFF_BOOTSTRAP_SERVERS")
        if external and broker_answers(external):
            return TestBroker("external", address=external, note="WARMHANDOFF_BOOTSTRAP_SERVERS")
        wanted, source = DEFAULT_TEST_BROKER, f"the default; {TEST_BROKER_ENV} picks another"
    if wanted == "embedded":
        return TestBroker("embedded", note=source)
    if wanted == "kafka":
        try:
            jars = provision(env=env)
        except KafkaUnavailableError as exc:
            reason = f"Apache Kafka cannot be provisioned: {exc}"
            if env.get("CI", "").lower() == "true":
                raise BrokerUnusable(reason) from None
            return TestBroker("embedded", note=f"fallback, {reason}")
        return TestBroker("kafka", jars=jars, note=source)
    try:
        if ":" not in wanted:
            raise ValueError("no port")
        bootstrap_hosts(wanted)
    except ValueError as exc:
        raise BrokerUnusable(f"{source}: expected kafka, embedded or HOST:PORT ({exc})") from None
    if not broker_answers(wanted):
        raise BrokerUnusable(f"{source}: no broker answers there")
    return TestBroker("external", address=wanted, note=source)
