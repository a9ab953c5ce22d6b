"""Apache Kafka provisioned by the project: a record round-trips through a broker started from
the cached jars, and the broker process and its port are gone once the context exits.

Each test starts a broker of its own (not the session's), so it runs whichever broker the run
uses; where Apache Kafka cannot be provisioned it skips with the reason, and fails under CI.
"""

from __future__ import annotations

import os
import socket
import time
from pathlib import Path

import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient, NewTopic

from warmhandoff.streams.contract.errors import BrokerUnavailableError, KafkaUnavailableError
from warmhandoff.streams.runtime.apache_kafka import ApacheKafka
from warmhandoff.streams.runtime.broker import broker_answers
from warmhandoff.streams.runtime.kafka_jars import KafkaJars, provision

pytestmark = [pytest.mark.integration, pytest.mark.timeout(240)]


@pytest.fixture(scope="module")
def jars() -> KafkaJars:
    try:
        return provision()
    except KafkaUnavailableError as exc:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"Apache Kafka cannot be provisioned: {exc}")
        pytest.skip(f"Apache Kafka cannot be provisioned: {exc}")


def processes_of(home: Path) -> list[int]:
    """Processes whose command line names this broker's directory (its settings file)."""
    found = []
    for proc in Path("/proc").iterdir():
        try:
            cmdline = (proc / "cmdline").read_bytes()
        except OSError:
            continue
        if str(home).encode() in cmdline:
            found.append(int(proc.name))
    return found


def process_gone(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    return False


async def test_a_record_round_trips_and_the_broker_is_gone_after_the_context(
    jars: KafkaJars, tmp_path: Path
) -> None:
    async with ApacheKafka(data_dir=tmp_path, jars=jars) as kafka:
        pid = kafka.pid
        assert pid is not None and kafka.running
        admin = AIOKafkaAdminClient(bootstrap_servers=kafka.bootstrap, request_timeout_ms=30_000)
        await admin.start()
        try:
            await admin.create_topics([NewTopic("round.trip", 3, 1)])
            described = await admin.describe_cluster()
        finally:
            await admin.close()
        assert described["cluster_id"] == kafka.cluster_id
        producer = AIOKafkaProducer(bootstrap_servers=kafka.bootstrap, acks="all")
        await producer.start()
        try:
            sent = await producer.send_and_wait("round.trip", b"hello kafka", key=b"c-1")
        finally:
            await producer.stop()
        consumer = AIOKafkaConsumer(
            "round.trip",
            bootstrap_servers=kafka.bootstrap,
            group_id="round-trip",
            auto_offset_reset="earliest",
        )
        await consumer.start()
        try:
            record = await consumer.getone()
        finally:
            await consumer.stop()
        assert (record.partition, record.offset) == (sent.partition, sent.offset)
        assert (record.key, record.value) == (b"c-1", b"hello kafka")
    assert not kafka.running
    assert process_gone(pid)  # stop() waited for it: reaped, not merely signalled
    assert processes_of(kafka.home) == []
    assert not broker_answers(kafka.bootstrap, timeout=0.5)
    assert "Kafka Server started" in kafka.log_path.read_text(errors="replace")


def test_a_taken_port_is_one_line_and_leaves_no_process(jars: KafkaJars, tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        kafka = ApacheKafka(data_dir=tmp_path, jars=jars, port=port)
        started = time.monotonic()
        with pytest.raises(BrokerUnavailableError) as caught:
            kafka.start()
    message = str(caught.value)
    assert message.startswith(f"Apache Kafka {jars.version} on 127.0.0.1:{port} failed to start: ")
    assert "already in use" in message and "\n" not in message
    assert time.monotonic() - started < kafka.ready_timeout  # seen, not waited out
    assert not kafka.running
    assert processes_of(kafka.home) == []
