"""audit.decisions on a real broker (Tansu unless one is configured): `warmhandoff topics apply`
creates it with cleanup.policy=compact,delete and its retention, `topics check` finds it in
sync, a topic made with another policy is drift, and `warmhandoff audit` reads records back."""

from __future__ import annotations

import os
import subprocess
import sys

import orjson
import pytest
from aiokafka import AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.admin.config_resource import ConfigResource, ConfigResourceType

from warmhandoff.streams.config.connection import aiokafka_kwargs, topics_for
from warmhandoff.streams.config.worker import WorkerSettings

pytestmark = [pytest.mark.integration, pytest.mark.timeout(90)]


def cli(bootstrap: str, prefix: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "WARMHANDOFF_BOOTSTRAP_SERVERS": bootstrap,
        "WARMHANDOFF_TOPIC_PREFIX": prefix,
        "WARMHANDOFF_APP_ID": "wh",
        "WARMHANDOFF_EMBEDDED_BROKER": "never",
    }
    return subprocess.run(
        [sys.executable, "-m", "warmhandoff.streams.cli", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


async def configs_of(settings: WorkerSettings, name: str) -> dict[str, str]:
    admin = AIOKafkaAdminClient(**aiokafka_kwargs(settings), request_timeout_ms=10_000)
    await admin.start()
    try:
        described = await admin.describe_configs([ConfigResource(ConfigResourceType.TOPIC, name)])
    finally:
        await admin.close()
    return {
        entry[0]: entry[1]
        for response in described
        for _code, _msg, _type, _name, entries, *_ in response.resources
        for entry in entries
    }


async def test_topics_apply_creates_the_audit_topic_compacted_and_deleted(
    kafka_bootstrap: str, topic_prefix: str
) -> None:
    settings = WorkerSettings(
        bootstrap_servers=kafka_bootstrap, topic_prefix=topic_prefix, app_id="wh"
    )
    audit = topics_for(settings).spec("audit.decisions")
    applied = cli(kafka_bootstrap, topic_prefix, "topics", "apply")
    assert applied.returncode == 0, applied.stdout + applied.stderr
    assert f"created  {audit.name}\n" in applied.stdout
    configs = await configs_of(settings, audit.name)
    assert set(configs["cleanup.policy"].replace(" ", "").split(",")) == {"compact", "delete"}
    assert configs["retention.ms"] == str(audit.retention_ms)
    checked = cli(kafka_bootstrap, topic_prefix, "topics", "check")
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert f"ok       {audit.name}\n" in checked.stdout


async def test_an_audit_topic_with_another_policy_is_drift_with_the_fix(
    kafka_bootstrap: str, topic_prefix: str
) -> None:
    settings = WorkerSettings(
        bootstrap_servers=kafka_bootstrap, topic_prefix=topic_prefix, app_id="wh"
    )
    audit = topics_for(settings).spec("audit.decisions")
    admin = AIOKafkaAdminClient(**aiokafka_kwargs(settings), request_timeout_ms=10_000)
    await admin.start()
    try:
        await admin.create_topics(
            [NewTopic(audit.name, 8, 1, topic_configs={"cleanup.policy": "delete"})]
        )
    finally:
        await admin.close()
    applied = cli(kafka_bootstrap, topic_prefix, "topics", "apply")
    assert applied.returncode == 1
    assert f"error    {audit.name}: topic {audit.name} has cleanup.policy=delete" in applied.stdout
    assert "--add-config cleanup.policy=[compact,delete]" in applied.stdout


async def test_audit_prints_the_records_of_a_decision_or_a_conversation(
    kafka_bootstrap: str, topic_prefix: str
) -> None:
    settings = WorkerSettings(
        bootstrap_servers=kafka_bootstrap, topic_prefix=topic_prefix, app_id="wh"
    )
    audit = topics_for(settings).spec("audit.decisions")
    assert cli(kafka_bootstrap, topic_prefix, "topics", "apply").returncode == 0
    records = [
        {"decision_id": f"d-{i}", "conversation_id": f"c-{i % 2}", "seq": i, "action": "none"}
        for i in range(4)
    ]
    producer = AIOKafkaProducer(**aiokafka_kwargs(settings))
    await producer.start()
    try:
        for r in [*records, records[0]]:  # d-0 twice, as a redelivery would publish it
            await producer.send_and_wait(audit.name, orjson.dumps(r), key=r["decision_id"].encode())
    finally:
        await producer.stop()

    one = cli(kafka_bootstrap, topic_prefix, "audit", "d-1", "--json")
    assert one.returncode == 0, one.stderr
    assert [orjson.loads(line) for line in one.stdout.splitlines()] == [records[1]]
    twice = cli(kafka_bootstrap, topic_prefix, "audit", "d-0", "--json")
    assert [orjson.loads(line) for line in twice.stdout.splitlines()] == [records[0]]
    conversation = cli(kafka_bootstrap, topic_prefix, "audit", "--conversation", "c-1", "--json")
    found = [orjson.loads(line) for line in conversation.stdout.splitlines()]
    assert [r["decision_id"] for r in found] == ["d-1", "d-3"]
    text = cli(kafka_bootstrap, topic_prefix, "audit", "--conversation", "c-1")
    assert text.returncode == 0 and "d-1" in text.stdout and "d-3" in text.stdout
    missing = cli(kafka_bootstrap, topic_prefix, "audit", "d-404")
    assert missing.returncode == 1
    assert "no record of decision d-404" in missing.stderr
