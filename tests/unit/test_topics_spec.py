"""topics.yaml and its loader: completeness, co-partitioning, Faust's internal names, errors."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import faust
import pytest
import yaml

from warmhandoff.streams.config.connection import ConnectionSettings, topics_for
from warmhandoff.streams.contract import models
from warmhandoff.streams.contract.errors import ConfigError, TopicDriftError, UnknownTopicError
from warmhandoff.streams.contract.topics import PACKAGED_TOPICS_FILE, Topics, load_topics
from warmhandoff.streams.runtime.topic_admin import Drift, TopicsReport, one_line

DESIGN_TOPICS = [
    "conversation.turns", "conversation.signals", "escalation.decisions", "handoff.requests",
    "bot.directives", "handoff.events", "agent.presence", "queue.health", "alerts",
    "learning.examples", "deadletter",
]  # fmt: skip


@pytest.fixture
def topics() -> Topics:
    return load_topics()


@pytest.fixture
def raw() -> dict[str, Any]:
    """The packaged file as plain data (anchors resolved), to break on purpose."""
    data: dict[str, Any] = yaml.safe_load(PACKAGED_TOPICS_FILE.read_text())
    return data


def write(tmp_path: Path, data: dict[str, Any]) -> Path:
    path = tmp_path / "topics.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


def test_packaged_file_is_the_top_level_one() -> None:
    assert PACKAGED_TOPICS_FILE.resolve() == (Path(__file__).parents[2] / "topics.yaml").resolve()


def test_every_design_topic_is_declared_with_its_model(topics: Topics) -> None:
    assert sorted(DESIGN_TOPICS) == sorted(models.TOPIC_MODELS)
    for key in DESIGN_TOPICS:
        spec = topics.spec(key)
        assert not spec.internal
        assert topics.model(key) is models.TOPIC_MODELS[key]
        assert spec.description and "\n" not in spec.description


def test_conversation_keyed_topics_are_co_partitioned(topics: Topics) -> None:
    counts = {s.name: s.partitions for s in topics if s.key == "conversation_id"}
    assert set(counts.values()) == {8}, counts
    assert topics.spec("changelog.conversations").partitions == 8
    assert topics.spec("agent.presence").key == "agent_id"
    assert topics.spec("queue.health").key == "queue"
    assert topics.spec("alerts").key == "queue"


def test_retention_and_compaction(topics: Topics) -> None:
    for spec in topics:
        if spec.cleanup_policy in ("delete", "compact,delete"):
            assert spec.deletes
            assert spec.retention_ms is not None and spec.retention_ms > 0
            assert spec.kafka_config()["retention.ms"] == str(spec.retention_ms)
        else:
            assert not spec.deletes
            assert "retention.ms" not in spec.kafka_config()
    assert topics.spec("changelog.conversations").cleanup_policy == "compact"
    assert topics.spec("agent.presence").cleanup_policy == "compact"


def test_the_audit_topic_is_compacted_and_deleted_per_decision(topics: Topics) -> None:
    audit, decisions = topics.spec("audit.decisions"), topics.spec("escalation.decisions")
    assert audit.key == "decision_id" and not audit.internal
    assert topics.model("audit.decisions") is models.Decision
    assert audit.kafka_config() == {
        "cleanup.policy": "compact,delete",
        "retention.ms": str(audit.retention_ms),
    }
    assert audit.retention_ms is not None and decisions.retention_ms is not None
    assert audit.retention_ms >= decisions.retention_ms  # the audit record outlives the stream


@pytest.mark.parametrize("spelling", ["delete,compact", "compact, delete", " delete , compact"])
def test_compact_delete_has_one_spelling(
    tmp_path: Path, raw: dict[str, Any], spelling: str
) -> None:
    raw["topics"]["audit.decisions"]["cleanup_policy"] = spelling
    spec = load_topics(write(tmp_path, raw)).spec("audit.decisions")
    assert spec.cleanup_policy == "compact,delete"
    assert spec.kafka_config()["cleanup.policy"] == "compact,delete"


def test_cleanup_policy_drift_compares_the_set_of_policies(topics: Topics) -> None:
    from warmhandoff.streams.runtime.topic_admin import _compare

    audit = topics.spec("audit.decisions")
    retention = str(audit.retention_ms)
    for same in ("compact,delete", "delete,compact", "delete, compact"):
        drift, unknown = _compare(audit, 8, 1, {"cleanup.policy": same, "retention.ms": retention})
        assert drift == [] and unknown == []
    for other in ("compact", "delete"):
        [drift], _ = _compare(audit, 8, 1, {"cleanup.policy": other, "retention.ms": retention})
        assert (drift.field, drift.severity, drift.expected) == (
            "cleanup.policy", "error", "compact,delete",
        )  # fmt: skip
        # kafka-configs takes a list value in square brackets.
        assert "--add-config cleanup.policy=[compact,delete]" in drift.hint
    [drift], _ = _compare(audit, 8, 1, {"cleanup.policy": "compact,delete", "retention.ms": "5"})
    assert (drift.field, drift.severity) == ("retention.ms", "warning")
    assert f"retention.ms={retention}" in drift.hint
    _, unknown = _compare(audit, 8, 1, {"cleanup.policy": "compact,delete"})
    assert unknown == ["retention.ms"]


def test_internal_topics_match_what_faust_creates() -> None:
    # Names come from Faust itself, so a Faust upgrade that renames them fails here.
    topics = load_topics(prefix="t1.", app_id="wh")
    app = faust.App(topics.faust_app_id, broker="kafka://localhost:1", store="memory://")
    for table in ("conversations", "pending_transfers"):
        spec = topics.spec(f"changelog.{table}")
        made = app.Table(table, partitions=spec.partitions).changelog_topic
        assert made.get_topic_name() == spec.name == f"t1.wh-{table}-changelog"
        assert made.compacting and spec.cleanup_policy == "compact"
        assert spec.internal and spec.value_schema is None
    declared_internal = {s.name for s in topics if s.internal}
    assert declared_internal == {
        "t1.wh-conversations-changelog",
        "t1.wh-pending_transfers-changelog",
        "t1.wh-timers",
        "t1.wh-turns-repartition",
        "t1.wh-handoff-events-repartition",
    }


def test_the_worker_config_keeps_faust_from_creating_topics() -> None:
    # The leader topic is not declared because the worker disables it; Faust must not
    # declare any topic itself (topics.yaml and `topics apply` own them all).
    from warmhandoff.streams.config.worker import WorkerSettings
    from warmhandoff.streams.runtime.faust_app import faust_config

    topics = load_topics(prefix="t1.", app_id="wh")
    config = faust_config(WorkerSettings(), topics)
    assert config["topic_disable_leader"] is True
    assert config["topic_allow_declare"] is False


def test_prefix_applies_to_every_name(topics: Topics) -> None:
    prefixed = load_topics(prefix="tenant-a.", app_id="wh")
    for key, _spec in topics.items():
        assert prefixed.name(key).startswith("tenant-a.")
    assert prefixed.name("conversation.turns") == "tenant-a.conversation.turns"
    assert prefixed.faust_app_id == "tenant-a.wh"
    assert topics.name("conversation.turns") == "conversation.turns"
    assert topics.name("changelog.conversations") == "warmhandoff-conversations-changelog"


def test_topics_for_settings(tmp_path: Path, raw: dict[str, Any]) -> None:
    path = write(tmp_path, raw)
    topics = topics_for(ConnectionSettings(topics_file=path, topic_prefix="x.", app_id="a"))
    assert topics.source == path
    assert topics.name("changelog.pending_transfers") == "x.a-pending_transfers-changelog"


def test_unknown_topic_is_a_key_error(topics: Topics) -> None:
    with pytest.raises(UnknownTopicError, match=r"conversation\.turn'") as caught:
        topics.name("conversation.turn")
    assert isinstance(caught.value, KeyError)
    with pytest.raises(UnknownTopicError, match="no value_schema"):
        topics.model("changelog.conversations")


def test_iteration_and_lookup(topics: Topics) -> None:
    assert len(topics) == len(list(topics)) == len(topics.keys()) == 18
    assert "deadletter" in topics and "nope" not in topics
    assert dict(topics.items())["alerts"].name == "alerts"


@pytest.mark.parametrize(
    ("breakage", "fragment"),
    [
        (lambda d: d["topics"]["conversation.turns"].update(partitions=0),
         "topics.conversation.turns.partitions: Input should be greater than or equal to 1"),
        (lambda d: d["topics"]["conversation.signals"].update(partitions=4),
         "must have the same partitions"),
        (lambda d: d["topics"]["changelog.conversations"].update(partitions=4),
         "must have the same partitions"),
        (lambda d: d["topics"].pop("alerts"), "topics.alerts: missing"),
        (lambda d: d["topics"]["alerts"].update(value_schema="Turn"), "value_schema must be Alert"),
        (lambda d: d["topics"]["changelog.conversations"].update(value_schema="Nope"),
         "'Nope' is not a class in models.py"),
        (lambda d: d["topics"]["alerts"].pop("retention_ms"), "retention_ms is required"),
        (lambda d: d["topics"]["agent.presence"].update(retention_ms=5), "delete topics only"),
        (lambda d: d["topics"]["audit.decisions"].pop("retention_ms"),
         "retention_ms is required when cleanup_policy is compact,delete"),
        (lambda d: d["topics"]["audit.decisions"].update(cleanup_policy="compact,shred"),
         "topics.audit.decisions.cleanup_policy: Input should be"),
        (lambda d: d["topics"]["alerts"].update(colour="red"), "topics.alerts.colour: Extra"),
        (lambda d: d["topics"]["alerts"].update(name="a{tenant}"), "placeholder only"),
        (lambda d: d["topics"]["alerts"].update(name="deadletter"), "two topics share a name"),
        (lambda d: d.update(version=2), "version: Input should be 1"),
    ],
)  # fmt: skip
def test_broken_file_gives_an_error_naming_file_and_path(
    tmp_path: Path, raw: dict[str, Any], breakage: Any, fragment: str
) -> None:
    breakage(raw)
    path = write(tmp_path, raw)
    with pytest.raises(ConfigError) as caught:
        load_topics(path)
    message = str(caught.value)
    assert message.startswith(f"{path}: ")
    assert fragment in message
    assert "\n" not in message


def test_invalid_yaml_names_the_line(tmp_path: Path) -> None:
    path = tmp_path / "topics.yaml"
    path.write_text("version: 1\ntopics:\n  a: [unclosed\n")
    with pytest.raises(ConfigError, match=rf"^{path}:\d+:\d+: not valid YAML"):
        load_topics(path)


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot read it"):
        load_topics(tmp_path / "absent.yaml")


def test_illegal_prefix_is_refused() -> None:
    with pytest.raises(ConfigError, match="not a legal Kafka topic name"):
        load_topics(prefix="bad prefix/")


def _drift(field: str, severity: str, actual: Any = 4, topic: str = "conversation.turns") -> Drift:
    return Drift(
        topic=topic,
        field=field,
        expected=8,
        actual=actual,
        severity=severity,
        hint=f"hint for {topic} {field}",
    )


def test_report_ok_and_one_line() -> None:
    clean = TopicsReport(created=["a"], in_sync=["b", "c"])
    assert clean.ok and one_line(clean) == "topics ok: 2 in sync, 1 created"
    clean.raise_for_errors()

    warned = TopicsReport(in_sync=["b"], drift=[_drift("retention.ms", "warning")])
    assert warned.ok and "1 warning(s): hint for conversation.turns retention.ms" in one_line(
        warned
    )

    broken = TopicsReport(
        drift=[
            _drift("exists", "error", actual="missing", topic="alerts"),
            _drift("partitions", "error"),
            _drift("retention.ms", "warning"),
        ]
    )
    assert not broken.ok
    assert len(broken.errors) == 2 and len(broken.warnings) == 1
    line = one_line(broken)
    assert line.startswith(
        "topics do not match topics.yaml: hint for conversation.turns partitions"
    )
    assert "(+1 more" in line
    with pytest.raises(TopicDriftError, match=r"hint for conversation\.turns partitions"):
        broken.raise_for_errors()
    assert broken.model_dump()["ok"] is False

    missing = TopicsReport(
        drift=[_drift("exists", "error", actual="missing", topic=f"t{i}") for i in range(5)]
    )
    assert one_line(missing) == (
        "5 topic(s) missing (t0, t1, t2 and 2 more): run `warmhandoff topics apply`"
    )


def test_one_setting_replicates_every_topic_without_editing_the_file(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from warmhandoff.streams.config.connection import ConnectionSettings, topics_for

    assert {spec.replication_factor for spec in load_topics()} == {1}
    monkeypatch.setenv("WARMHANDOFF_TOPIC_REPLICATION_FACTOR", "3")
    topics = topics_for(ConnectionSettings())
    assert {spec.replication_factor for spec in topics} == {3}
    assert (
        topics.spec("conversation.turns").partitions
        == load_topics().spec("conversation.turns").partitions
    )
