"""acls.yaml, its loader and the comparison with a broker's bindings (no broker here).

The packaged file is checked against the code it grants access for: the worker's Faust app
and the bot client name exactly the topics and groups their roles list.
"""

from __future__ import annotations

from dataclasses import astuple
from pathlib import Path
from typing import Any

import pytest
import yaml

from warmhandoff.agents.client import BotClient
from warmhandoff.streams.cli.main import main
from warmhandoff.streams.config.connection import ConnectionSettings
from warmhandoff.streams.config.worker import WorkerSettings
from warmhandoff.streams.contract.acls import (
    PACKAGED_ACLS_FILE,
    AclBinding,
    Acls,
    Operation,
    PatternType,
    Permission,
    ResourceType,
    diff_bindings,
    expand_id,
    load_acls,
)
from warmhandoff.streams.contract.errors import AclError, ConfigError
from warmhandoff.streams.contract.topics import Topics, load_topics
from warmhandoff.streams.policy import load_policy
from warmhandoff.streams.runtime.acl_admin import _CreateAcls, _DeleteAcls, _send

PREFIX, APP_ID = "t1.", "wh"
BOT = "User:warmhandoff-bot"


@pytest.fixture
def topics() -> Topics:
    return load_topics(prefix=PREFIX, app_id=APP_ID)


@pytest.fixture
def acls(topics: Topics) -> Acls:
    return load_acls(topics=topics)


@pytest.fixture
def raw() -> dict[str, Any]:
    """The packaged file as plain data, to break on purpose."""
    data: dict[str, Any] = yaml.safe_load(PACKAGED_ACLS_FILE.read_text())
    return data


def write(tmp_path: Path, data: dict[str, Any]) -> Path:
    path = tmp_path / "acls.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


def topic(principal: str, name: str, operation: Operation) -> AclBinding:
    return AclBinding(principal, ResourceType.TOPIC, name, PatternType.LITERAL, operation)


def group(principal: str, name: str, pattern: PatternType = PatternType.LITERAL) -> AclBinding:
    return AclBinding(principal, ResourceType.GROUP, name, pattern, Operation.READ)


def granted(acls: Acls, role: str, operation: Operation) -> set[str]:
    """Names of the topics a role may perform `operation` on."""
    return {
        b.resource_name
        for b in acls.role(role).bindings
        if b.resource_type is ResourceType.TOPIC and b.operation is operation
    }


# --- the packaged file ------------------------------------------------------------------


def test_the_packaged_file_is_the_top_level_one() -> None:
    assert PACKAGED_ACLS_FILE.resolve() == (Path(__file__).parents[2] / "acls.yaml").resolve()


def test_every_role_has_its_own_principal(acls: Acls) -> None:
    assert [r.name for r in acls] == ["worker", "sink", "router", "learner", "desk", "bot"]
    assert acls.principals() == sorted(f"User:warmhandoff-{r.name}" for r in acls)


def test_a_bot_writes_turns_and_reads_its_directives_and_nothing_else(acls: Acls) -> None:
    assert acls.role("bot").bindings == {
        topic(BOT, f"{PREFIX}conversation.turns", Operation.WRITE),
        topic(BOT, f"{PREFIX}handoff.events", Operation.WRITE),
        topic(BOT, f"{PREFIX}bot.directives", Operation.READ),
        group(BOT, f"{APP_ID}-bot-", PatternType.PREFIXED),
    }


def test_only_what_the_processes_need_is_granted(acls: Acls) -> None:
    allowed = {Operation.READ, Operation.WRITE, Operation.DESCRIBE, Operation.DESCRIBE_CONFIGS}
    for binding in acls.bindings():
        assert binding.operation in allowed, binding
        assert binding.resource_type in (ResourceType.TOPIC, ResourceType.GROUP), binding
        assert binding.permission is Permission.ALLOW and binding.host == "*"
        if binding.resource_type is ResourceType.TOPIC:
            assert binding.pattern_type is PatternType.LITERAL, binding


def test_handoff_requests_are_read_by_sinks_the_router_and_the_desk_only(acls: Acls) -> None:
    requests = f"{PREFIX}handoff.requests"
    readers = {r.name for r in acls if requests in granted(acls, r.name, Operation.READ)}
    assert readers == {"sink", "router", "desk"}
    writers = {r.name for r in acls if requests in granted(acls, r.name, Operation.WRITE)}
    assert writers == {"worker"}


def test_the_start_check_may_describe_every_topic_and_read_none_more(
    acls: Acls, topics: Topics
) -> None:
    names = {spec.name for spec in topics}
    for role in ("worker", "sink", "router", "learner", "desk"):
        reads, writes = granted(acls, role, Operation.READ), granted(acls, role, Operation.WRITE)
        described = granted(acls, role, Operation.DESCRIBE)
        assert described == names - reads - writes  # READ and WRITE include DESCRIBE
        assert granted(acls, role, Operation.DESCRIBE_CONFIGS) == names
    assert not granted(acls, "bot", Operation.DESCRIBE)


def test_group_ids_follow_the_prefix_and_app_id_as_the_processes_name_them(acls: Acls) -> None:
    groups = {
        role.name: {
            (b.resource_name, b.pattern_type)
            for b in role.bindings
            if b.resource_type is ResourceType.GROUP
        }
        for role in acls
    }
    assert groups == {
        "worker": {(f"{PREFIX}{APP_ID}", PatternType.LITERAL)},  # the Faust app id
        "sink": {(f"{PREFIX}{APP_ID}-sink-", PatternType.PREFIXED)},
        "router": {(f"{APP_ID}-router", PatternType.LITERAL)},
        "learner": {(f"{PREFIX}{APP_ID}-learner", PatternType.LITERAL)},
        "desk": set(),  # it reads every partition without a group
        "bot": {(f"{APP_ID}-bot-", PatternType.PREFIXED)},
    }


def test_the_worker_role_covers_what_its_faust_app_reads_and_writes(
    acls: Acls, topics: Topics, tmp_path: Path
) -> None:
    from warmhandoff.streams.services.worker.app import Pipeline

    settings = WorkerSettings(
        store="memory://", data_dir=tmp_path, web_port=0, app_id=APP_ID, topic_prefix=PREFIX
    )
    pipeline = Pipeline(settings, topics, load_policy())
    consumed = {name for agent in pipeline.app.agents.values() for name in agent.channel.topics}
    changelogs = {table.changelog_topic.get_topic_name() for table in pipeline.app.tables.values()}
    produced = {name for name in astuple(pipeline.out) if name} | changelogs
    snapshots = {topics.name("learning.model")}
    assert granted(acls, "worker", Operation.READ) == consumed | changelogs | snapshots
    assert granted(acls, "worker", Operation.WRITE) == produced
    assert group("User:warmhandoff-worker", pipeline.app.conf.id) in acls.role("worker").bindings


def test_the_bot_role_covers_what_the_bot_client_uses(acls: Acls, topics: Topics) -> None:
    settings = ConnectionSettings(topic_prefix=PREFIX, app_id=APP_ID)
    client = BotClient(settings, topics=topics, bot_id="kiosk-7")
    assert granted(acls, "bot", Operation.WRITE) == {client._turns_topic, client._events_topic}
    assert granted(acls, "bot", Operation.READ) == {client._directives_topic}
    (bot_group,) = (b for b in acls.role("bot").bindings if b.resource_type is ResourceType.GROUP)
    assert client.group_id.startswith(bot_group.resource_name)


def test_the_desk_role_covers_what_the_desk_reads_and_publishes(acls: Acls, topics: Topics) -> None:
    from warmhandoff.streams.services.desk.feed import INPUTS

    assert granted(acls, "desk", Operation.READ) == {topics.name(key) for key in INPUTS}
    # Agents' actions and an agent's own presence (streams/services/desk/server.py).
    published = {topics.name("handoff.events"), topics.name("agent.presence")}
    assert granted(acls, "desk", Operation.WRITE) == published


def test_transactional_ids_expand_like_groups(
    tmp_path: Path, raw: dict[str, Any], topics: Topics
) -> None:
    raw["roles"]["worker"]["transactional_ids"] = ["{prefix}{app_id}-*"]
    acls = load_acls(write(tmp_path, raw), topics=topics)
    expected = AclBinding(
        "User:warmhandoff-worker",
        ResourceType.TRANSACTIONAL_ID,
        f"{PREFIX}{APP_ID}-",
        PatternType.PREFIXED,
        Operation.WRITE,
    )
    assert expected in acls.role("worker").bindings


def test_expand_id() -> None:
    assert expand_id("{prefix}{app_id}-sink-*", prefix="t.", app_id="wh") == (
        "t.wh-sink-",
        PatternType.PREFIXED,
    )
    assert expand_id("{app_id}-router", prefix="t.", app_id="wh") == (
        "wh-router",
        PatternType.LITERAL,
    )


def test_a_binding_reads_as_kafka_acls_lists_it() -> None:
    assert (
        str(topic(BOT, "t.turns", Operation.WRITE))
        == "User:warmhandoff-bot ALLOW WRITE on topic t.turns"
    )
    assert (
        str(group(BOT, "wh-bot-", PatternType.PREFIXED))
        == "User:warmhandoff-bot ALLOW READ on groups starting wh-bot-"
    )
    denied = AclBinding(
        BOT,
        ResourceType.CLUSTER,
        "kafka-cluster",
        PatternType.LITERAL,
        Operation.ALTER,
        Permission.DENY,
        "10.0.0.1",
    )
    assert str(denied) == "User:warmhandoff-bot DENY ALTER on cluster kafka-cluster from 10.0.0.1"


# --- a bad file is one line -------------------------------------------------------------


def _set(data: dict[str, Any], path: str, value: Any) -> None:
    *parents, last = path.split(".")
    for part in parents:
        data = data[part]
    data[last] = value


@pytest.mark.parametrize(
    ("path", "value", "fragment"),
    [
        (
            "roles.bot.reads",
            ["bot.directives", "nope"],
            "roles.bot.reads: topic 'nope' is not declared in",
        ),
        (
            "roles.bot.principal",
            "warmhandoff-bot",
            "roles.bot.principal: 'warmhandoff-bot': expected User:NAME",
        ),
        ("roles.bot.groups", ["{tenant}-bot-*"], "unknown placeholder {tenant}"),
        ("roles.bot.groups", ["wh-*-bot"], "'*' only at the end"),
        ("roles.bot.groups", ["*"], "'*' only at the end"),
        (
            "roles.bot.writes",
            ["conversation.turns", "conversation.turns"],
            "listed twice: conversation.turns",
        ),
        ("roles.bot.admin", True, "roles.bot.admin: Extra inputs are not permitted"),
        ("roles.bot.checks_topics", "sometimes", "roles.bot.checks_topics:"),
        ("roles.bot.description", "two\nlines", "roles.bot.description:"),
        ("version", 2, "version: Input should be 1"),
        ("roles", {}, "roles: Dictionary should have at least 1 item"),
    ],
)
def test_a_bad_file_is_one_line_naming_the_file_and_the_place(
    tmp_path: Path, raw: dict[str, Any], topics: Topics, path: str, value: Any, fragment: str
) -> None:
    _set(raw, path, value)
    source = write(tmp_path, raw)
    with pytest.raises(ConfigError) as caught:
        load_acls(source, topics=topics)
    message = str(caught.value)
    assert message.startswith(f"{source}: ")
    assert fragment in message
    assert "\n" not in message


def test_a_missing_checks_topics_is_refused(
    tmp_path: Path, raw: dict[str, Any], topics: Topics
) -> None:
    del raw["roles"]["worker"]["checks_topics"]
    with pytest.raises(ConfigError, match=r"roles\.worker\.checks_topics: Field required"):
        load_acls(write(tmp_path, raw), topics=topics)


def test_a_role_name_must_be_plain(tmp_path: Path, raw: dict[str, Any], topics: Topics) -> None:
    raw["roles"]["Bad Role"] = raw["roles"].pop("bot")
    with pytest.raises(ConfigError, match="role name 'Bad Role'"):
        load_acls(write(tmp_path, raw), topics=topics)


def test_invalid_yaml_names_the_line(tmp_path: Path, topics: Topics) -> None:
    path = tmp_path / "acls.yaml"
    path.write_text("version: 1\nroles:\n  bot: [unclosed\n")
    with pytest.raises(ConfigError, match=rf"^{path}:\d+:\d+: not valid YAML"):
        load_acls(path, topics=topics)


def test_missing_file(tmp_path: Path, topics: Topics) -> None:
    with pytest.raises(ConfigError, match="cannot read it"):
        load_acls(tmp_path / "absent.yaml", topics=topics)


# --- comparing with a broker ------------------------------------------------------------


def test_diff_finds_missing_extra_and_in_place() -> None:
    wanted = [topic(BOT, "turns", Operation.WRITE), topic(BOT, "directives", Operation.READ)]
    sneaky = topic(BOT, "handoff.requests", Operation.READ)
    denied = AclBinding(
        BOT, ResourceType.TOPIC, "turns", PatternType.LITERAL, Operation.WRITE, Permission.DENY
    )
    diff = diff_bindings(wanted, [wanted[0], sneaky, denied])
    assert diff.missing == (wanted[1],)
    assert set(diff.extra) == {sneaky, denied}  # a DENY the file does not make is drift too
    assert diff.in_place == (wanted[0],)


def test_diff_leaves_other_principals_alone() -> None:
    wanted = [topic(BOT, "turns", Operation.WRITE)]
    admin = topic("User:warmhandoff-admin", "turns", Operation.READ)
    other = group("User:billing", "billing")
    diff = diff_bindings(wanted, [*wanted, admin, other])
    assert diff.extra == () and diff.missing == ()


def test_diff_of_the_packaged_file_against_an_empty_broker_is_everything(acls: Acls) -> None:
    diff = diff_bindings(acls.bindings(), [])
    assert set(diff.missing) == acls.bindings() and diff.extra == () and diff.in_place == ()
    assert list(diff.missing) == sorted(diff.missing)  # reports list them in a stable order


# --- the requests and the command -------------------------------------------------------


def test_create_and_delete_carry_every_binding_in_version_1() -> None:
    bindings = [topic(BOT, "turns", Operation.WRITE), group(BOT, "wh-bot-", PatternType.PREFIXED)]
    versions = {30: (0, 3), 31: (0, 3)}  # what a broker's ApiVersions answer would say
    created = _CreateAcls(bindings).prepare(versions)
    assert created.API_VERSION == 1
    assert created.creations == [
        (2, "turns", 3, BOT, "*", 4, 3),
        (3, "wh-bot-", 4, BOT, "*", 3, 3),
    ]
    deleted = _DeleteAcls(bindings).prepare(versions)
    assert deleted.API_VERSION == 1 and deleted.filters == created.creations


class NoAclBroker:
    """An admin client whose broker lists no ACL API in its ApiVersions answer."""

    async def _send_request(self, request: Any) -> Any:
        return request.prepare({18: (0, 3)})


async def test_a_broker_without_the_acl_api_is_one_line() -> None:
    settings = ConnectionSettings(bootstrap_servers="broker-1:9092")
    with pytest.raises(AclError, match=r"^the broker at broker-1:9092 has no ACL API: "):
        await _send(NoAclBroker(), _CreateAcls([]), settings)  # type: ignore[arg-type]


def test_prune_goes_with_apply_only(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["topics", "check", "--prune-acls"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "--prune-acls goes with `topics apply` only" in err


def test_a_bad_acl_file_stops_the_command_before_it_connects(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    # Nothing listens on port 1: reaching the broker would fail differently.
    monkeypatch.setenv("WARMHANDOFF_BOOTSTRAP_SERVERS", "127.0.0.1:1")
    bad = tmp_path / "acls.yaml"
    bad.write_text("version: 1\nroles:\n  bot:\n    principal: bot\n")
    assert main(["topics", "apply", "--acls-file", str(bad)]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"warmhandoff: error: {bad}: roles.bot.principal: ")
    assert err.count("\n") == 1
