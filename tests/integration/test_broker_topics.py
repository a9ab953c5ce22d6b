"""The embedded broker and topic admin against a real broker (Tansu unless one is configured).

Each test uses its own topic prefix, so tests share one broker without seeing each other.
"""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.admin.config_resource import ConfigResource, ConfigResourceType

from warmhandoff.streams.config.connection import aiokafka_kwargs, topics_for
from warmhandoff.streams.config.worker import WorkerSettings
from warmhandoff.streams.contract.errors import BrokerUnavailableError, TopicDriftError
from warmhandoff.streams.contract.topics import Topics
from warmhandoff.streams.runtime.broker import (
    EmbeddedBroker,
    broker_answers,
    ensure_broker,
    free_port,
)
from warmhandoff.streams.runtime.topic_admin import apply_topics, check_topics, one_line

pytestmark = [pytest.mark.integration, pytest.mark.timeout(60)]


@pytest.fixture
def settings(kafka_bootstrap: str, topic_prefix: str) -> WorkerSettings:
    return WorkerSettings(bootstrap_servers=kafka_bootstrap, topic_prefix=topic_prefix, app_id="wh")


@pytest.fixture
def topics(settings: WorkerSettings) -> Topics:
    return topics_for(settings)


@pytest.fixture
async def admin(settings: WorkerSettings) -> AsyncIterator[AIOKafkaAdminClient]:
    client = AIOKafkaAdminClient(**aiokafka_kwargs(settings), request_timeout_ms=10_000)
    await client.start()
    yield client
    await client.close()


async def broker_topics(admin: AIOKafkaAdminClient, prefix: str) -> dict[str, int]:
    """Topics under `prefix` with their partition counts (all-topic metadata: no auto-create)."""
    return {
        t["topic"]: len(t["partitions"])
        for t in await admin.describe_topics(None)
        if t["topic"].startswith(prefix)
    }


# --- topics --------------------------------------------------------------------------------


async def test_check_on_an_empty_broker_reports_every_topic_missing(
    topics: Topics, settings: WorkerSettings, admin: AIOKafkaAdminClient, topic_prefix: str
) -> None:
    report = await check_topics(topics, settings)
    assert not report.ok
    assert {d.topic for d in report.errors} == {s.name for s in topics}
    assert all(d.field == "exists" and "topics apply" in d.hint for d in report.drift)
    assert one_line(report).startswith(f"{len(topics)} topic(s) missing")
    assert await broker_topics(admin, topic_prefix) == {}  # check changed nothing


async def test_apply_creates_every_topic_with_partitions_and_configs(
    topics: Topics, settings: WorkerSettings, admin: AIOKafkaAdminClient, topic_prefix: str
) -> None:
    report = await apply_topics(topics, settings)
    assert report.ok, one_line(report)
    assert sorted(report.created) == sorted(s.name for s in topics)
    assert await broker_topics(admin, topic_prefix) == {s.name: s.partitions for s in topics}
    described = await admin.describe_configs(
        [ConfigResource(ConfigResourceType.TOPIC, s.name) for s in topics]
    )
    configs = {
        name: {entry[0]: entry[1] for entry in entries}
        for response in described
        for _code, _msg, _type, name, entries, *_ in response.resources
    }
    for spec in topics:
        assert configs[spec.name]["cleanup.policy"] == spec.cleanup_policy
        if spec.retention_ms is not None:
            assert configs[spec.name]["retention.ms"] == str(spec.retention_ms)


async def test_second_apply_reports_everything_in_sync(
    topics: Topics, settings: WorkerSettings
) -> None:
    await apply_topics(topics, settings)
    report = await apply_topics(topics, settings)
    assert report.ok and report.created == [] and report.drift == []
    assert sorted(report.in_sync) == sorted(s.name for s in topics)
    assert report.unverified == {}  # configs set at creation are reported back
    assert one_line(report) == f"topics ok: {len(topics)} in sync, 0 created"


async def test_wrong_partition_count_is_an_error_with_a_hint(
    topics: Topics, settings: WorkerSettings, admin: AIOKafkaAdminClient
) -> None:
    turns = topics.spec("conversation.turns")
    await admin.create_topics([NewTopic(turns.name, 4, 1, topic_configs=turns.kafka_config())])
    report = await apply_topics(topics, settings)
    assert not report.ok
    assert sorted(report.created) == sorted(s.name for s in topics if s.name != turns.name)
    [drift] = report.drift
    assert (drift.topic, drift.field, drift.expected, drift.actual, drift.severity) == (
        turns.name, "partitions", 8, 4, "error",
    )  # fmt: skip
    assert drift.hint.startswith(
        f"topic {turns.name} has 4 partitions, topics.yaml says 8: recreate it "
        "(kafka-topics --delete, then `warmhandoff topics apply`)"
    )
    assert "kafka-topics --alter --partitions 8" in drift.hint
    assert "set partitions: 4 in topics.yaml" in drift.hint
    assert drift.hint in one_line(report)
    with pytest.raises(TopicDriftError, match="has 4 partitions"):
        report.raise_for_errors()
    assert (await check_topics(topics, settings)).drift == [drift]


async def test_cleanup_policy_is_an_error_and_retention_a_warning(
    topics: Topics, settings: WorkerSettings, admin: AIOKafkaAdminClient
) -> None:
    turns, signals = topics.spec("conversation.turns"), topics.spec("conversation.signals")
    await admin.create_topics(
        [
            NewTopic(turns.name, 8, 1, topic_configs={"cleanup.policy": "compact"}),
            NewTopic(
                signals.name, 8, 1,
                topic_configs={"cleanup.policy": "delete", "retention.ms": "1000"},
            ),
        ]
    )  # fmt: skip
    await apply_topics(topics, settings)
    report = await check_topics(topics, settings)
    found = {(d.topic, d.field): d for d in report.drift}
    assert set(found) == {(turns.name, "cleanup.policy"), (signals.name, "retention.ms")}
    policy, retention = found[turns.name, "cleanup.policy"], found[signals.name, "retention.ms"]
    assert (policy.severity, policy.actual, policy.expected) == ("error", "compact", "delete")
    assert "cleanup.policy=delete" in policy.hint
    assert (retention.severity, retention.actual) == ("warning", "1000")
    assert "retention.ms=259200000" in retention.hint
    assert not report.ok


async def test_configs_the_broker_does_not_report_are_unverified_not_drift(
    topics: Topics, settings: WorkerSettings, admin: AIOKafkaAdminClient
) -> None:
    # Tansu reports only configs set at creation; real Kafka reports defaults as well.
    turns = topics.spec("conversation.turns")
    await admin.create_topics([NewTopic(turns.name, 8, 1)])
    report = await apply_topics(topics, settings)
    assert not [d for d in report.errors if d.topic == turns.name]
    if turns.name in report.unverified:
        assert set(report.unverified[turns.name]) <= {"cleanup.policy", "retention.ms"}
        assert turns.name in report.in_sync


async def test_admin_on_a_dead_address_is_broker_unavailable() -> None:
    settings = WorkerSettings(bootstrap_servers=f"127.0.0.1:{free_port()}")
    with pytest.raises(BrokerUnavailableError, match=r"topic admin on 127\.0\.0\.1"):
        await check_topics(topics_for(settings), settings)


# --- the embedded broker -------------------------------------------------------------------


def test_embedded_broker_sync_context_manager(tmp_path: Path) -> None:
    with EmbeddedBroker(data_dir=tmp_path) as broker:
        assert broker.running and broker_answers(broker.bootstrap)
        assert broker.ready_seconds is not None and broker.ready_seconds < 20
        assert broker.log_path.parent == tmp_path
    assert not broker.running
    assert not broker_answers(broker.bootstrap, timeout=0.2)
    assert "listening on: tcp://" + broker.bootstrap in broker.log_path.read_text()


async def test_ensure_broker_uses_an_answering_broker(kafka_bootstrap: str) -> None:
    assert await ensure_broker(WorkerSettings(bootstrap_servers=kafka_bootstrap)) is None


async def test_ensure_broker_starts_one_when_nothing_answers(tmp_path: Path) -> None:
    address = f"127.0.0.1:{free_port()}"
    broker = await ensure_broker(WorkerSettings(bootstrap_servers=address, data_dir=tmp_path))
    assert broker is not None
    try:
        assert broker.bootstrap == address and broker_answers(address)
    finally:
        await broker.astop()
    assert not broker_answers(address, timeout=0.2)


async def test_ensure_broker_never_mode_raises(tmp_path: Path) -> None:
    settings = WorkerSettings(
        bootstrap_servers=f"127.0.0.1:{free_port()}", embedded_broker="never", data_dir=tmp_path
    )
    with pytest.raises(BrokerUnavailableError, match="EMBEDDED_BROKER=never"):
        await ensure_broker(settings)


async def test_a_taken_port_fails_fast_with_a_reason(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        always = WorkerSettings(
            bootstrap_servers=f"127.0.0.1:{port}", embedded_broker="always", data_dir=tmp_path
        )
        with pytest.raises(BrokerUnavailableError, match="already listens"):
            await ensure_broker(always)
        broker = EmbeddedBroker(port=port, data_dir=tmp_path)
        with pytest.raises(BrokerUnavailableError, match=f"port {port} is already in use"):
            await broker.astart()
        assert not broker.running


def test_run_broker_forever_stops_on_sigterm(tmp_path: Path) -> None:
    port = free_port()
    env = {
        **os.environ,
        "WARMHANDOFF_BOOTSTRAP_SERVERS": f"127.0.0.1:{port}",
        "WARMHANDOFF_DATA_DIR": str(tmp_path),
    }
    code = (
        "import sys\n"
        "from warmhandoff.streams.runtime.broker import run_broker_forever\n"
        "from warmhandoff.streams.config.worker import WorkerSettings\n"
        "sys.exit(run_broker_forever(WorkerSettings(), "
        "on_ready=lambda b: print('ready', b.bootstrap, flush=True)))\n"
    )
    proc = subprocess.Popen(
        [sys.executable, "-c", code], env=env, stdout=subprocess.PIPE, text=True
    )
    try:
        assert proc.stdout is not None
        # Unconfigured structlog also writes to stdout: skip its lines.
        lines = (line.split() for line in proc.stdout)
        assert next(words for words in lines if words[:1] == ["ready"]) == [
            "ready",
            f"127.0.0.1:{port}",
        ]
        assert broker_answers(f"127.0.0.1:{port}")
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=20) == 0
    finally:
        if proc.poll() is None:  # SIGTERM, not SIGKILL: it must get to stop its broker
            proc.terminate()
            proc.wait(timeout=20)
    deadline = time.monotonic() + 10
    while broker_answers(f"127.0.0.1:{port}", timeout=0.2):
        assert time.monotonic() < deadline, "the broker outlived run_broker_forever"
        time.sleep(0.05)


async def test_the_worker_refuses_to_run_against_drifted_topics(
    topics: Topics, settings: WorkerSettings, admin: AIOKafkaAdminClient, tmp_path: Path
) -> None:
    turns = topics.spec("conversation.turns")
    await admin.create_topics([NewTopic(turns.name, 4, 1, topic_configs=turns.kafka_config())])
    await apply_topics(topics, settings)
    env = {
        **os.environ,
        "WARMHANDOFF_BOOTSTRAP_SERVERS": settings.bootstrap_servers,
        "WARMHANDOFF_TOPIC_PREFIX": settings.topic_prefix,
        "WARMHANDOFF_APP_ID": settings.app_id,
        "WARMHANDOFF_DATA_DIR": str(tmp_path),
        "WARMHANDOFF_WEB_PORT": "0",
    }
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "warmhandoff.streams.cli", "worker",
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    _, err = await asyncio.wait_for(proc.communicate(), 60)
    stderr = err.decode()
    assert proc.returncode == 2
    lines = stderr.strip().splitlines()
    assert lines[0].startswith("warmhandoff: error: topics do not match topics.yaml:")
    assert f"topic {turns.name} has 4 partitions, topics.yaml says 8" in lines[0]
    assert "Traceback" not in stderr
