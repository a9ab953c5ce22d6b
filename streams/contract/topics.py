"""Topic bindings from topics.yaml: the topic spec every producer and consumer shares.

topics.yaml is the single source of truth: code asks `Topics.name("conversation.turns")` and
never spells a topic name. Making a cluster match the file is the runtime's topic admin
(streams/runtime/topic_admin.py).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from warmhandoff.streams.contract import models
from warmhandoff.streams.contract.errors import (
    ConfigError,
    UnknownTopicError,
)

PACKAGED_TOPICS_FILE = Path(__file__).with_name("topics.yaml")
CO_PARTITION_KEY = "conversation_id"
MAX_TOPIC_NAME = 249  # Kafka's limit
_LEGAL_NAME = re.compile(r"^[A-Za-z0-9._-]+$")

CleanupPolicy = Literal["delete", "compact", "compact,delete"]


def cleanup_policies(value: str) -> frozenset[str]:
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
    value_schema: str | None  # a class name in streams/contract/models.py
    description: str = Field(min_length=1, pattern=r"^[^\n]+$")
    internal: bool = False

    @field_validator("cleanup_policy", mode="before")
    @classmethod
    def _canonical_policy(cls, value: Any) -> Any:
        """Accept "delete,compact" and spaces: the one spelling is "compact,delete"."""
        if isinstance(value, str) and "," in value:
            return ",".join(sorted(cleanup_policies(value)))
        return value

    @property
    def deletes(self) -> bool:
        """True when old records are deleted after retention_ms (delete or compact,delete)."""
        return "delete" in cleanup_policies(self.cleanup_policy)

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


class AnchoredFile(BaseModel):
    """A versioned YAML file whose top-level keys starting with `x-` hold anchors, ignored."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    version: Literal[1]

    @model_validator(mode="before")
    @classmethod
    def _drop_anchors(cls, data: Any) -> Any:
        if isinstance(data, dict):
            return {k: v for k, v in data.items() if not str(k).startswith("x-")}
        return data


class TopicsFile(AnchoredFile):
    """The whole of topics.yaml."""

    topics: dict[str, TopicSpec] = Field(min_length=1)

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
        """The wire model (streams/contract/models.py) of a logical topic's values."""
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
    path: Path | None = None,
    *,
    prefix: str = "",
    app_id: str = "warmhandoff",
    replication_factor: int | None = None,
) -> Topics:
    """Load and validate topics.yaml (the packaged one by default); ConfigError names the file.

    `replication_factor` replaces every topic's (a production cluster's 3 without editing the
    file)."""
    source = path or PACKAGED_TOPICS_FILE
    try:
        data = yaml.safe_load(source.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ConfigError(f"{source}: cannot read it: {exc.strerror or exc}") from None
    except UnicodeDecodeError:
        raise ConfigError(f"{source}: not UTF-8 text") from None
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
        update: dict[str, object] = {"name": real}
        if replication_factor is not None:
            update["replication_factor"] = replication_factor
        specs[key] = spec.model_copy(update=update)
    return Topics(specs, source=source, prefix=prefix, app_id=app_id)


def _describe_errors(exc: ValidationError) -> str:
    problems = []
    for err in exc.errors():
        where = ".".join(str(part) for part in err["loc"])
        message = err["msg"].removeprefix("Value error, ")
        problems.append(f"{where}: {message}" if where else message)
    return "; ".join(problems)
