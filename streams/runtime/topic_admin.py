"""Making a Kafka cluster match topics.yaml: `warmhandoff topics apply` and `check`.

`apply_topics` creates what is missing (with partitions and configs) and reports drift in what
exists; `check_topics` only reports. Both read broker metadata for *all* topics: a metadata
request that names a missing topic makes brokers with auto-creation on (Tansu included)
create it with their default partition count.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any, Literal

from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.admin.config_resource import ConfigResource, ConfigResourceType
from aiokafka.errors import KafkaError, TopicAlreadyExistsError, for_code
from pydantic import BaseModel, ConfigDict, computed_field

from warmhandoff.streams.config.connection import ConnectionSettings, aiokafka_kwargs
from warmhandoff.streams.contract.errors import BrokerUnavailableError, TopicDriftError
from warmhandoff.streams.contract.topics import (
    CO_PARTITION_KEY,
    Topics,
    TopicSpec,
    cleanup_policies,
)

ADMIN_TIMEOUT_SECONDS = 30.0
VISIBLE_POLL_SECONDS = 0.05

Severity = Literal["error", "warning"]


# --- reports ---------------------------------------------------------------------------


class Drift(BaseModel):
    """One way a topic on the broker differs from topics.yaml."""

    model_config = ConfigDict(frozen=True)

    topic: str
    field: str  # "exists", "partitions", "replication_factor", or a Kafka config name
    expected: int | str | None
    actual: int | str | None
    severity: Severity
    hint: str  # one line: how to fix it


class TopicsReport(BaseModel):
    """What apply/check found: topics created, in sync, drifted, and configs not reported."""

    created: list[str] = []
    in_sync: list[str] = []
    drift: list[Drift] = []
    unverified: dict[str, list[str]] = {}  # topic -> configs the broker did not report

    @computed_field  # type: ignore[prop-decorator]
    @property
    def ok(self) -> bool:
        """False when any drift is an error."""
        return not self.errors

    @property
    def errors(self) -> list[Drift]:
        """Drift that must be fixed before a worker runs."""
        return [d for d in self.drift if d.severity == "error"]

    @property
    def warnings(self) -> list[Drift]:
        """Drift worth fixing that does not stop a worker."""
        return [d for d in self.drift if d.severity == "warning"]

    def raise_for_errors(self) -> None:
        """Raise TopicDriftError with `one_line(self)` when the report is not ok."""
        if not self.ok:
            raise TopicDriftError(one_line(self))


def one_line(report: TopicsReport) -> str:
    """A one-line summary (the worker's refusal message when not ok)."""
    missing = [d.topic for d in report.errors if d.actual == "missing"]
    others = [d for d in report.errors if d.actual != "missing"]
    if others:  # a wrong topic says more than a missing one: show it first
        more = len(report.errors) - 1
        tail = f" (+{more} more: run `warmhandoff topics check`)" if more else ""
        return f"topics do not match topics.yaml: {others[0].hint}{tail}"
    if missing:
        shown = ", ".join(missing[:3]) + (
            f" and {len(missing) - 3} more" if len(missing) > 3 else ""
        )
        return f"{len(missing)} topic(s) missing ({shown}): run `warmhandoff topics apply`"
    summary = f"topics ok: {len(report.in_sync)} in sync, {len(report.created)} created"
    if report.warnings:
        summary += f", {len(report.warnings)} warning(s): {report.warnings[0].hint}"
    return summary


def _compare(
    spec: TopicSpec, partitions: int, replicas: int, config: dict[str, str] | None
) -> tuple[list[Drift], list[str]]:
    """Drift between a spec and what the broker has, and the configs it did not report."""
    name, drift, unknown = spec.name, [], []
    if partitions != spec.partitions:
        drift.append(_partition_drift(spec, partitions))
    if replicas != spec.replication_factor:
        drift.append(
            Drift(
                topic=name,
                field="replication_factor",
                expected=spec.replication_factor,
                actual=replicas,
                severity="warning",
                hint=f"topic {name} has replication factor {replicas}, topics.yaml says "
                f"{spec.replication_factor}: reassign it (kafka-reassign-partitions) or set "
                f"replication_factor: {replicas} in topics.yaml",
            )
        )
    config = config or {}
    policy = config.get("cleanup.policy")
    if policy is None:
        unknown.append("cleanup.policy")
    elif cleanup_policies(policy) != cleanup_policies(spec.cleanup_policy):
        drift.append(
            Drift(
                topic=name,
                field="cleanup.policy",
                expected=spec.cleanup_policy,
                actual=policy,
                severity="error",
                hint=f"topic {name} has cleanup.policy={policy}, topics.yaml says "
                f"{spec.cleanup_policy}: kafka-configs --alter --entity-type topics --entity-name "
                f"{name} --add-config cleanup.policy={_config_value(spec.cleanup_policy)}, or set "
                f"cleanup_policy: {policy} in topics.yaml",
            )
        )
    if spec.retention_ms is not None:
        retention = config.get("retention.ms")
        if retention is None:
            unknown.append("retention.ms")
        elif retention.strip() != str(spec.retention_ms):
            drift.append(
                Drift(
                    topic=name,
                    field="retention.ms",
                    expected=spec.retention_ms,
                    actual=retention,
                    severity="warning",
                    hint=f"topic {name} keeps records {retention} ms, topics.yaml says "
                    f"{spec.retention_ms}: kafka-configs --alter --entity-type topics "
                    f"--entity-name {name} --add-config retention.ms={spec.retention_ms}",
                )
            )
    return drift, unknown


def _config_value(value: str) -> str:
    """A value as kafka-configs --add-config takes it (lists in square brackets)."""
    return f"[{value}]" if "," in value else value


def _partition_drift(spec: TopicSpec, actual: int) -> Drift:
    name, expected = spec.name, spec.partitions
    which = " (and on every conversation_id-keyed topic)" if spec.key == CO_PARTITION_KEY else ""
    recreate = "recreate it (kafka-topics --delete, then `warmhandoff topics apply`)"
    if actual < expected:
        fix = (
            f"{recreate}, raise it with kafka-topics --alter --partitions {expected} (real Kafka "
            f"only; moves keys between partitions), or set partitions: {actual} in "
            f"topics.yaml{which}"
        )
    else:
        fix = f"{recreate} or set partitions: {actual} in topics.yaml{which}"
    return Drift(
        topic=name,
        field="partitions",
        expected=expected,
        actual=actual,
        severity="error",
        hint=f"topic {name} has {actual} partitions, topics.yaml says {expected}: {fix}",
    )


def _missing(spec: TopicSpec) -> Drift:
    return Drift(
        topic=spec.name,
        field="exists",
        expected="present",
        actual="missing",
        severity="error",
        hint=f"topic {spec.name} does not exist: run `warmhandoff topics apply`",
    )


# --- admin operations ------------------------------------------------------------------


async def apply_topics(topics: Topics, settings: ConnectionSettings) -> TopicsReport:
    """Create the topics that are missing, then report drift in those that existed."""
    report = TopicsReport()
    async with admin_client(settings) as admin:
        existing = await _describe_all(admin)
        missing = [spec for spec in topics if spec.name not in existing]
        raced = await _create(admin, missing, report)
        # Kafka answers CreateTopics once its controller has recorded the topics; the brokers
        # learn of them a moment later, and a client asking before then is told they do not
        # exist. Return only once every topic is there, each partition with a leader.
        if report.created or raced:
            existing = await _wait_visible(admin, [*report.created, *raced])
        await _inspect(admin, [s for s in topics if s.name in existing], existing, report)
    accounted = {*report.created, *report.in_sync, *(d.topic for d in report.drift)}
    report.drift.extend(_missing(s) for s in topics if s.name not in accounted)
    return report


async def check_topics(topics: Topics, settings: ConnectionSettings) -> TopicsReport:
    """Report missing topics and drift without changing anything."""
    report = TopicsReport()
    async with admin_client(settings) as admin:
        existing = await _describe_all(admin)
        report.drift.extend(_missing(s) for s in topics if s.name not in existing)
        await _inspect(admin, [s for s in topics if s.name in existing], existing, report)
    return report


@asynccontextmanager
async def admin_client(
    settings: ConnectionSettings, what: str = "topic"
) -> AsyncIterator[AIOKafkaAdminClient]:
    """A started admin client whose whole use is bounded in time; a Kafka or network failure
    inside it becomes one BrokerUnavailableError naming `what` it administers."""
    admin = AIOKafkaAdminClient(
        **aiokafka_kwargs(settings),
        client_id=f"{settings.app_id}-{what.lower()}-admin",
        request_timeout_ms=int(ADMIN_TIMEOUT_SECONDS * 1000),
    )
    try:
        # Bounds the whole apply/check, however many requests it takes.
        async with asyncio.timeout(ADMIN_TIMEOUT_SECONDS):
            await admin.start()
            yield admin
    except (KafkaError, OSError, TimeoutError) as exc:
        raise BrokerUnavailableError(
            f"{what} admin on {settings.bootstrap_servers} failed: {exc or type(exc).__name__}"
        ) from None
    finally:
        await admin.close()


async def _describe_all(admin: AIOKafkaAdminClient) -> dict[str, tuple[int, int]]:
    """Every topic on the broker: name -> (partitions, replication factor)."""
    return _existing(await admin.describe_topics(None))  # None: all topics, never auto-creates


def _existing(described: list[dict[str, Any]]) -> dict[str, tuple[int, int]]:
    """Topics with partitions in a metadata answer: name -> (partitions, replication factor)."""
    existing: dict[str, tuple[int, int]] = {}
    for topic in described:
        parts = topic["partitions"]
        if parts:
            existing[topic["topic"]] = (len(parts), min(len(p["replicas"]) for p in parts))
    return existing


async def _wait_visible(admin: AIOKafkaAdminClient, names: list[str]) -> dict[str, tuple[int, int]]:
    """Every topic on the broker, once `names` are all among them with their leaders."""
    while True:
        described = await admin.describe_topics(None)
        led = {
            topic["topic"]
            for topic in described
            if topic["partitions"] and all(p["leader"] >= 0 for p in topic["partitions"])
        }
        if led.issuperset(names):
            return _existing(described)
        await asyncio.sleep(VISIBLE_POLL_SECONDS)


async def _create(
    admin: AIOKafkaAdminClient, specs: list[TopicSpec], report: TopicsReport
) -> list[str]:
    """Create `specs`, recording results in `report`; the names someone else created first."""
    if not specs:
        return []
    response = await admin.create_topics(
        [
            NewTopic(s.name, s.partitions, s.replication_factor, topic_configs=s.kafka_config())
            for s in specs
        ],
        timeout_ms=int(ADMIN_TIMEOUT_SECONDS * 1000),
    )
    raced = []
    for item in response.topic_errors:
        name, code = item[0], item[1]
        message = item[2] if len(item) > 2 and item[2] else ""
        if code == 0:
            report.created.append(name)
        elif code == TopicAlreadyExistsError.errno:
            raced.append(name)
        else:
            error = for_code(code).__name__
            report.drift.append(
                Drift(
                    topic=name,
                    field="exists",
                    expected="created",
                    actual=f"{error} {message}".strip(),
                    severity="error",
                    hint=f"creating topic {name} failed ({error} {message}): check the broker's "
                    "ACLs and limits, then run `warmhandoff topics apply` again",
                )
            )
    return raced


async def _inspect(
    admin: AIOKafkaAdminClient,
    specs: list[TopicSpec],
    existing: dict[str, tuple[int, int]],
    report: TopicsReport,
) -> None:
    """Compare existing topics with their specs, recording the result in `report`."""
    specs = [s for s in specs if s.name not in report.created]
    configs = await _describe_configs(admin, [s.name for s in specs])
    for spec in specs:
        partitions, replicas = existing[spec.name]
        drift, unknown = _compare(spec, partitions, replicas, configs.get(spec.name))
        report.drift.extend(drift)
        if not drift:
            report.in_sync.append(spec.name)
        if unknown:
            report.unverified[spec.name] = unknown


async def _describe_configs(
    admin: AIOKafkaAdminClient, names: list[str]
) -> dict[str, dict[str, str]]:
    """Topic configs the broker reports (Tansu reports only those set at creation)."""
    if not names:
        return {}
    resources = [ConfigResource(ConfigResourceType.TOPIC, name) for name in names]
    configs: dict[str, dict[str, str]] = {}
    for response in await admin.describe_configs(resources):
        for error_code, _message, _type, name, entries, *_ in response.resources:
            if error_code == 0:
                configs[name] = {e[0]: e[1] for e in entries if e[1] is not None}
    return configs
