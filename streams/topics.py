"""Topic bindings from topics.yaml, and the admin operations that make a cluster match it.

topics.yaml is the single source of truth: code asks `Topics.name("conversation.turns")` and
never spells a topic name. `apply_topics` creates what is missing (with partitions and
configs) and reports drift in what exists; `check_topics` only reports. Both read broker
metadata for *all* topics: a metadata request that names a missing topic makes brokers with
auto-creation on (Tansu included) create it with their default partition count.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any, Literal

import yaml
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.admin.config_resource import ConfigResource, ConfigResourceType
from aiokafka.errors import KafkaError, TopicAlreadyExistsError, for_code
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    computed_field,
    field_validator,
    model_validator,
)

from . import models
from .errors import BrokerUnavailableError, ConfigError, TopicDriftError, UnknownTopicError
from .settings import Settings, aiokafka_kwargs

PACKAGED_TOPICS_FILE = Path(__file__).with_name("topics.yaml")
CO_PARTITION_KEY = "conversation_id"
MAX_TOPIC_NAME = 249  # Kafka's limit
ADMIN_TIMEOUT_SECONDS = 30.0
_LEGAL_NAME = re.compile(r"^[A-Za-z0-9._-]+$")

Severity = Literal["error", "warning"]
CleanupPolicy = Literal["delete", "compact", "compact,delete"]


def _policies(value: str) -> frozenset[str]:
    """The parts of a cleanup.policy value ("compact, delete" -> {"compact", "delete"})."""
    return frozenset(part.strip() for part in value.split(",") if part.strip())


class TopicSpec(BaseModel):
    """One topic as topics.yaml declares it."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(min_length=1)
    partitions: int = Field(ge=1, le=10_000)
    replication_factor: int = Field(ge=1, le=32)
    # "compact,delete": one record per key, and records older than retention_ms deleted too.
    cleanup_policy: CleanupPolicy
    retention_ms: int | None = Field(default=None, ge=-1)  # -1: keep forever (Kafka's meaning)
    key: str | None  # the record key's field; null for topics nobody writes
    value_schema: str | None  # a class name in streams/models.py
    description: str = Field(min_length=1, pattern=r"^[^\n]+$")
    internal: bool = False

    @field_validator("cleanup_policy", mode="before")
    @classmethod
    def _canonical_policy(cls, value: Any) -> Any:
        """Accept "delete,compact" and spaces: the one spelling is "compact,delete"."""
        if isinstance(value, str) and "," in value:
            return ",".join(sorted(_policies(value)))
        return value

    @property
    def deletes(self) -> bool:
        """True when old records are deleted after retention_ms (delete or compact,delete)."""
        return "delete" in _policies(self.cleanup_policy)

    @model_validator(mode="after")
    def _valid(self) -> TopicSpec:
        if not _LEGAL_NAME.match(self.name.replace("{app_id}", "app")):
            raise ValueError(
                f"name {self.name!r}: use letters, digits, '.', '_', '-' and the "
                "{app_id} placeholder only"
            )
        if self.deletes and self.retention_ms is None:
            raise ValueError(
                f"retention_ms is required when cleanup_policy is {self.cleanup_policy}"
            )
        if not self.deletes and self.retention_ms is not None:
            raise ValueError(
                "retention_ms applies to delete and compact,delete topics only: remove it"
            )
        if self.value_schema is not None and not isinstance(
            getattr(models, self.value_schema, None), type
        ):
            raise ValueError(f"value_schema {self.value_schema!r} is not a class in models.py")
        return self

    def kafka_config(self) -> dict[str, str]:
        """The topic-level Kafka configs this spec sets at creation."""
        config: dict[str, str] = {"cleanup.policy": self.cleanup_policy}
        if self.retention_ms is not None:
            config["retention.ms"] = str(self.retention_ms)
        return config


class TopicsFile(BaseModel):
    """The whole of topics.yaml; keys starting with `x-` hold YAML anchors and are ignored."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    version: Literal[1]
    topics: dict[str, TopicSpec] = Field(min_length=1)

    @model_validator(mode="before")
    @classmethod
    def _drop_anchors(cls, data: Any) -> Any:
        if isinstance(data, dict):
            return {k: v for k, v in data.items() if not str(k).startswith("x-")}
        return data

    @model_validator(mode="after")
    def _consistent(self) -> TopicsFile:
        for key, model in models.TOPIC_MODELS.items():
            spec = self.topics.get(key)
            if spec is None:
                raise ValueError(f"topics.{key}: missing (every topic in models.TOPIC_MODELS)")
            if spec.value_schema != model.__name__ or spec.internal:
                raise ValueError(
                    f"topics.{key}: value_schema must be {model.__name__} and internal false"
                )
        for key, spec in self.topics.items():
            if spec.value_schema is None and not spec.internal:
                raise ValueError(f"topics.{key}: value_schema is required for public topics")
        names = [spec.name for spec in self.topics.values()]
        if len(set(names)) != len(names):
            raise ValueError(
                f"two topics share a name: {sorted(n for n in names if names.count(n) > 1)}"
            )
        counts = {
            key: spec.partitions
            for key, spec in self.topics.items()
            if spec.key == CO_PARTITION_KEY
        }
        if len(set(counts.values())) > 1:
            detail = ", ".join(f"{k}={n}" for k, n in counts.items())
            raise ValueError(
                f"topics keyed by {CO_PARTITION_KEY} must have the same partitions: {detail}"
            )
        return self


class Topics:
    """The topics of one deployment: logical keys mapped to specs carrying real names."""

    def __init__(self, specs: dict[str, TopicSpec], *, source: Path, prefix: str, app_id: str):
        self._specs = specs
        self.source = source
        self.prefix = prefix
        self.app_id = app_id

    def __repr__(self) -> str:
        return f"<Topics {len(self)} from {self.source} prefix={self.prefix!r}>"

    @property
    def faust_app_id(self) -> str:
        """The id to give faust.App so its changelog and leader topics get these names."""
        return f"{self.prefix}{self.app_id}"

    def name(self, key: str) -> str:
        """The real (prefixed) topic name of a logical topic."""
        return self.spec(key).name

    def spec(self, key: str) -> TopicSpec:
        """The spec of a logical topic, its name already real."""
        try:
            return self._specs[key]
        except KeyError:
            raise UnknownTopicError(f"topic {key!r} is not declared in {self.source}") from None

    def model(self, key: str) -> type[BaseModel]:
        """The wire model (streams/models.py) of a logical topic's values."""
        schema = self.spec(key).value_schema
        if schema is None:
            raise UnknownTopicError(f"topic {key!r} has no value_schema in {self.source}")
        model: type[BaseModel] = getattr(models, schema)
        return model

    def keys(self) -> list[str]:
        """The logical keys, in file order."""
        return list(self._specs)

    def items(self) -> Iterator[tuple[str, TopicSpec]]:
        """(logical key, spec) pairs, in file order."""
        return iter(self._specs.items())

    def __iter__(self) -> Iterator[TopicSpec]:
        return iter(self._specs.values())

    def __len__(self) -> int:
        return len(self._specs)

    def __contains__(self, key: object) -> bool:
        return key in self._specs


def load_topics(
    path: Path | None = None, *, prefix: str = "", app_id: str = "warmhandoff"
) -> Topics:
    """Load and validate topics.yaml (the packaged one by default); ConfigError names the file."""
    source = path or PACKAGED_TOPICS_FILE
    try:
        data = yaml.safe_load(source.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ConfigError(f"{source}: cannot read it: {exc.strerror or exc}") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"{source}:{mark.line + 1}:{mark.column + 1}" if mark else str(source)
        raise ConfigError(f"{where}: not valid YAML: {getattr(exc, 'problem', exc)}") from None
    try:
        parsed = TopicsFile.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(f"{source}: {_describe_errors(exc)}") from None
    specs: dict[str, TopicSpec] = {}
    for key, spec in parsed.topics.items():
        real = prefix + spec.name.replace("{app_id}", app_id)
        if not _LEGAL_NAME.match(real) or len(real) > MAX_TOPIC_NAME:
            raise ConfigError(
                f"{source}: topics.{key}.name: {real!r} is not a legal Kafka topic name "
                "(check the topic prefix and app id)"
            )
        specs[key] = spec.model_copy(update={"name": real})
    return Topics(specs, source=source, prefix=prefix, app_id=app_id)


def topics_for(settings: Settings) -> Topics:
    """The topics file, prefix and app id the settings name."""
    return load_topics(settings.topics_file, prefix=settings.topic_prefix, app_id=settings.app_id)


def _describe_errors(exc: ValidationError) -> str:
    problems = []
    for err in exc.errors():
        where = ".".join(str(part) for part in err["loc"])
        message = err["msg"].removeprefix("Value error, ")
        problems.append(f"{where}: {message}" if where else message)
    return "; ".join(problems)


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
    elif _policies(policy) != _policies(spec.cleanup_policy):
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


async def apply_topics(topics: Topics, settings: Settings) -> TopicsReport:
    """Create the topics that are missing, then report drift in those that existed."""
    report = TopicsReport()
    async with _admin(settings) as admin:
        existing = await _describe_all(admin)
        missing = [spec for spec in topics if spec.name not in existing]
        raced = await _create(admin, missing, report)
        if raced:  # someone else created them meanwhile: compare what they made
            existing = await _describe_all(admin)
        await _inspect(admin, [s for s in topics if s.name in existing], existing, report)
    accounted = {*report.created, *report.in_sync, *(d.topic for d in report.drift)}
    report.drift.extend(_missing(s) for s in topics if s.name not in accounted)
    return report


async def check_topics(topics: Topics, settings: Settings) -> TopicsReport:
    """Report missing topics and drift without changing anything."""
    report = TopicsReport()
    async with _admin(settings) as admin:
        existing = await _describe_all(admin)
        report.drift.extend(_missing(s) for s in topics if s.name not in existing)
        await _inspect(admin, [s for s in topics if s.name in existing], existing, report)
    return report


@asynccontextmanager
async def _admin(settings: Settings) -> AsyncIterator[AIOKafkaAdminClient]:
    admin = AIOKafkaAdminClient(
        **aiokafka_kwargs(settings),
        client_id=f"{settings.app_id}-topics",
        request_timeout_ms=int(ADMIN_TIMEOUT_SECONDS * 1000),
    )
    try:
        # Bounds the whole apply/check, however many requests it takes.
        async with asyncio.timeout(ADMIN_TIMEOUT_SECONDS):
            await admin.start()
            yield admin
    except (KafkaError, OSError, TimeoutError) as exc:
        raise BrokerUnavailableError(
            f"topic admin on {settings.bootstrap_servers} failed: {type(exc).__name__} {exc}"
        ) from None
    finally:
        await admin.close()


async def _describe_all(admin: AIOKafkaAdminClient) -> dict[str, tuple[int, int]]:
    """Every topic on the broker: name -> (partitions, replication factor)."""
    existing: dict[str, tuple[int, int]] = {}
    for topic in await admin.describe_topics(None):  # None: all topics, never auto-creates
        parts = topic["partitions"]
        if parts:
            existing[topic["topic"]] = (len(parts), min(len(p["replicas"]) for p in parts))
    return existing


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
