"""TLS, SASL/SCRAM-SHA-512 and ACLs on a real Apache Kafka, with acls.yaml applied by the CLI.

The module starts an Apache Kafka of its own (not the run's shared broker) the way
docs/security.md describes: clients on a SASL_SSL listener (a throwaway CA from trustme, the
broker's key and certificate as PEM), SCRAM-SHA-512 users created when the storage is
formatted, the StandardAuthorizer with the administrator and the broker itself as super users.
`warmhandoff topics apply --acls` runs as the administrator, and then each role's principal
gets what acls.yaml grants it and nothing more: a bot writes turns and reads directives but is
refused handoff requests and signals, the worker runs under its own principal and carries
turns to handoff requests, which the sink's principal reads, and the desk reads its topics
without a group and publishes an agent's presence under its own. A client without the CA, or
with a wrong password, gets nowhere.

The controller listener authenticates the broker with SASL/PLAIN, so no principal on a
plaintext connection is a super user; the plaintext listener that remains (the start-up
probe's) is User:ANONYMOUS, which no ACL names: it can fetch cluster metadata and nothing else.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import secrets
import ssl
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from uuid import uuid4

import aiohttp
import orjson
import pytest
import trustme
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.errors import (
    KafkaConnectionError,
    TopicAuthorizationFailedError,
)
from aiokafka.protocol.admin import CreateAclsRequest, DeleteAclsRequest, DescribeAclsRequest
from cryptography.hazmat.primitives import serialization
from prometheus_client.parser import text_string_to_metric_families

from warmhandoff.agents.client import BotClient
from warmhandoff.streams.config.connection import ConnectionSettings, aiokafka_kwargs
from warmhandoff.streams.contract.acls import (
    Operation,
    PatternType,
    Permission,
    ResourceType,
    load_acls,
)
from warmhandoff.streams.contract.models import (
    AgentPresence,
    Directive,
    DirectiveType,
    PresenceState,
)
from warmhandoff.streams.contract.topics import Topics, load_topics
from warmhandoff.streams.core.codec import encode
from warmhandoff.streams.policy import load_policy
from warmhandoff.streams.runtime.apache_kafka import ApacheKafka
from warmhandoff.streams.runtime.broker import free_port, metadata_answers
from warmhandoff.streams.services.desk.auth import issue
from warmhandoff.streams.services.desk.feed import INPUTS as DESK_INPUTS
from warmhandoff.streams.services.desk.server import COOKIE as DESK_COOKIE

from ..brokers import TestBroker
from .conftest import DEFAULT_POLICY, GATHER_TIMEOUT_S, expected_handoffs, traffic

pytestmark = [pytest.mark.integration, pytest.mark.timeout(300)]

PREFIX = f"s{uuid4().hex[:6]}."
APP_ID = "wh"
ROLES = ("worker", "sink", "router", "learner", "desk", "bot")
ADMIN, BROKER = "warmhandoff-admin", "warmhandoff-broker"
CLI_TIMEOUT_S = 120.0
DESK_READY_S = 180.0


@dataclass(frozen=True)
class SecureKafka:
    """An Apache Kafka with TLS, SCRAM and ACLs, and what a client needs to reach it."""

    bootstrap: str  # the SASL_SSL listener
    probe: str  # the plaintext listener the start-up probe uses
    ca_file: Path
    passwords: dict[str, str]
    topics: Topics
    home: Path

    def settings(self, user: str, **overrides: object) -> ConnectionSettings:
        """Connection settings of `user` over SASL_SSL with SCRAM-SHA-512."""
        values: dict[str, object] = {
            "bootstrap_servers": self.bootstrap,
            "security_protocol": "SASL_SSL",
            "sasl_mechanism": "SCRAM-SHA-512",
            "sasl_username": user,
            "sasl_password": self.passwords[user],
            "ssl_cafile": self.ca_file,
            "topic_prefix": PREFIX,
            "app_id": APP_ID,
        }
        return ConnectionSettings(**(values | overrides))

    def env(self, user: str) -> dict[str, str]:
        """The environment of a warmhandoff process connecting as `user` (nothing inherited
        from the run's own WARMHANDOFF_ settings)."""
        env = {k: v for k, v in os.environ.items() if not k.startswith("WARMHANDOFF_")}
        env.update(
            {
                "WARMHANDOFF_BOOTSTRAP_SERVERS": self.bootstrap,
                "WARMHANDOFF_SECURITY_PROTOCOL": "SASL_SSL",
                "WARMHANDOFF_SASL_MECHANISM": "SCRAM-SHA-512",
                "WARMHANDOFF_SASL_USERNAME": user,
                "WARMHANDOFF_SASL_PASSWORD": self.passwords[user],
                "WARMHANDOFF_SSL_CAFILE": str(self.ca_file),
                "WARMHANDOFF_TOPIC_PREFIX": PREFIX,
                "WARMHANDOFF_APP_ID": APP_ID,
            }
        )
        return env

    def cli(self, *args: str, user: str = ADMIN) -> subprocess.CompletedProcess[str]:
        """`warmhandoff ARGS` as `user`, as an operator runs it."""
        return subprocess.run(
            [sys.executable, "-m", "warmhandoff.streams.cli", *args],
            env=self.env(user),
            capture_output=True,
            text=True,
            timeout=CLI_TIMEOUT_S,
            check=False,
        )


def principal(role: str) -> str:
    return f"warmhandoff-{role}"


def broker_properties(
    *, port: int, secure: int, controller: int, keystore: Path, ca_file: Path, password: str
) -> dict[str, str]:
    """The settings docs/security.md gives, on 127.0.0.1."""
    scram = "org.apache.kafka.common.security.scram.ScramLoginModule"
    plain = "org.apache.kafka.common.security.plain.PlainLoginModule"
    return {
        "listeners": f"PLAINTEXT://127.0.0.1:{port},SASL_SSL://127.0.0.1:{secure},"
        f"CONTROLLER://127.0.0.1:{controller}",
        "advertised.listeners": f"PLAINTEXT://127.0.0.1:{port},SASL_SSL://127.0.0.1:{secure}",
        "listener.security.protocol.map": "PLAINTEXT:PLAINTEXT,SASL_SSL:SASL_SSL,"
        "CONTROLLER:SASL_PLAINTEXT",
        "inter.broker.listener.name": "SASL_SSL",
        "sasl.mechanism.inter.broker.protocol": "SCRAM-SHA-512",
        "listener.name.sasl_ssl.sasl.enabled.mechanisms": "SCRAM-SHA-512",
        "listener.name.sasl_ssl.scram-sha-512.sasl.jaas.config": f"{scram} required "
        f'username="{BROKER}" password="{password}";',
        "listener.name.sasl_ssl.ssl.keystore.type": "PEM",
        "listener.name.sasl_ssl.ssl.keystore.location": str(keystore),
        "listener.name.sasl_ssl.ssl.truststore.type": "PEM",
        "listener.name.sasl_ssl.ssl.truststore.location": str(ca_file),
        "sasl.mechanism.controller.protocol": "PLAIN",
        "listener.name.controller.sasl.enabled.mechanisms": "PLAIN",
        "listener.name.controller.plain.sasl.jaas.config": f"{plain} required "
        f'username="{BROKER}" password="{password}" user_{BROKER}="{password}";',
        "authorizer.class.name": "org.apache.kafka.metadata.authorizer.StandardAuthorizer",
        "super.users": f"User:{ADMIN};User:{BROKER}",
        "allow.everyone.if.no.acl.found": "false",
    }


def write_keystore(ca: trustme.CA, path: Path) -> None:
    """The broker's key (PKCS#8, which Kafka's PEM keystore reads) and certificate chain."""
    leaf = ca.issue_cert("127.0.0.1", "localhost")
    key = serialization.load_pem_private_key(leaf.private_key_pem.bytes(), password=None)
    pkcs8 = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    path.write_bytes(pkcs8 + b"".join(pem.bytes() for pem in leaf.cert_chain_pems))
    path.chmod(0o600)


@pytest.fixture(scope="module")
def secure(
    test_broker: TestBroker, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[SecureKafka]:
    """The secured broker with topics and ACLs applied by `warmhandoff topics apply --acls`."""
    if test_broker.kind != "kafka":
        pytest.skip(
            "needs Apache Kafka (its authorizer, SCRAM and TLS listener); this run's test "
            f"broker is {test_broker.describe()}"
        )
    tmp = tmp_path_factory.mktemp("secure-kafka")
    ca = trustme.CA()
    ca_file = tmp / "ca.pem"
    ca.cert_pem.write_to_path(str(ca_file))
    keystore = tmp / "broker.pem"
    write_keystore(ca, keystore)
    users = [ADMIN, BROKER, *(principal(role) for role in ROLES)]
    passwords = {user: secrets.token_hex(12) for user in users}
    port, secure_port, controller = free_port(), free_port(), free_port()
    while len({port, secure_port, controller}) < 3:
        secure_port, controller = free_port(), free_port()
    kafka = ApacheKafka(
        data_dir=tmp,
        jars=test_broker.jars,
        port=port,
        controller_port=controller,
        properties=broker_properties(
            port=port,
            secure=secure_port,
            controller=controller,
            keystore=keystore,
            ca_file=ca_file,
            password=passwords[BROKER],
        ),
        format_arguments=[
            arg
            for user in users
            for arg in ("--add-scram", f"SCRAM-SHA-512=[name={user},password={passwords[user]}]")
        ],
    )
    with kafka:
        topics = load_topics(prefix=PREFIX, app_id=APP_ID)
        yield SecureKafka(
            f"127.0.0.1:{secure_port}", kafka.bootstrap, ca_file, passwords, topics, kafka.home
        )


@pytest.fixture(scope="module")
def applied(secure: SecureKafka) -> tuple[SecureKafka, subprocess.CompletedProcess[str]]:
    """`topics apply --acls` once, as the administrator: its output for the first test."""
    first = secure.cli("topics", "apply", "--acls")
    assert first.returncode == 0, first.stdout + first.stderr
    return secure, first


def acl_lines(output: str, label: str) -> list[str]:
    return [line for line in output.splitlines() if line.startswith(f"{label:<8} acl")]


# --- the CLI applies acls.yaml ------------------------------------------------------------


def test_a_broker_without_an_authorizer_refuses_acls_in_one_line(
    test_broker: TestBroker, kafka_bootstrap: str, topic_prefix: str
) -> None:
    # The run's own broker: Apache Kafka without an authorizer, or the embedded broker.
    env = {k: v for k, v in os.environ.items() if not k.startswith("WARMHANDOFF_")}
    env |= {
        "WARMHANDOFF_BOOTSTRAP_SERVERS": kafka_bootstrap,
        "WARMHANDOFF_TOPIC_PREFIX": topic_prefix,
    }
    result = subprocess.run(
        [sys.executable, "-m", "warmhandoff.streams.cli", "topics", "check", "--acls"],
        env=env,
        capture_output=True,
        text=True,
        timeout=CLI_TIMEOUT_S,
        check=False,
    )
    assert result.returncode == 2, result.stdout + result.stderr
    assert result.stderr.count("\n") == 1
    if test_broker.kind == "kafka":
        assert "has no authorizer (authorizer.class.name)" in result.stderr
    elif test_broker.kind == "embedded":
        assert "the embedded broker at" in result.stderr and "has no ACLs" in result.stderr
    assert "error    " in result.stdout  # the topics were checked first: none exist yet


def test_topics_apply_creates_every_binding_and_a_second_run_changes_nothing(
    applied: tuple[SecureKafka, subprocess.CompletedProcess[str]],
) -> None:
    secure, first = applied
    acls = load_acls(topics=secure.topics)
    created = acl_lines(first.stdout, "created")
    assert len(created) == len(acls.bindings())
    assert f"created  acl User:warmhandoff-bot ALLOW READ on topic {PREFIX}bot.directives" in (
        created
    )
    assert f"created  acl User:warmhandoff-bot ALLOW READ on groups starting {APP_ID}-bot-" in (
        created
    )
    again = secure.cli("topics", "apply", "--acls")
    assert again.returncode == 0, again.stderr
    assert acl_lines(again.stdout, "created") == []
    assert f"ok       acl: {len(acls.bindings())} bindings of 6 principals in place" in again.stdout
    check = secure.cli("topics", "check", "--acls")
    assert check.returncode == 0, check.stderr
    assert "warning" not in check.stdout and "error" not in check.stdout


def test_topics_apply_without_a_super_user_is_one_line_and_changes_nothing(
    applied: tuple[SecureKafka, subprocess.CompletedProcess[str]],
) -> None:
    secure, _ = applied
    refused = secure.cli("topics", "apply", "--acls", user=principal("bot"))
    assert refused.returncode == 2, refused.stdout + refused.stderr
    assert refused.stderr == (
        f"warmhandoff: error: warmhandoff-bot may not describe ACLs on {secure.bootstrap}: run "
        "`topics --acls` as a super user (WARMHANDOFF_SASL_USERNAME)\n"
    )
    check = secure.cli("topics", "check", "--acls")
    assert check.returncode == 0 and "warning" not in check.stdout, check.stdout


# --- what a bot may do --------------------------------------------------------------------


async def test_a_bot_writes_turns_and_reads_its_directives(
    applied: tuple[SecureKafka, subprocess.CompletedProcess[str]],
) -> None:
    secure, _ = applied
    topics = secure.topics
    bot = secure.settings(principal("bot"))
    conversation = f"c-{uuid4().hex[:8]}"
    async with BotClient(bot, topics=topics, bot_id="sec", conversations=[conversation]) as client:
        # WRITE on some topic is all an idempotent producer needs: no cluster grant.
        assert client.idempotent
        turn = await client.publish(
            conversation_id=conversation,
            seq=1,
            role="customer",
            text="hello",
            ts=datetime.now(UTC),
        )
        directive = Directive(
            directive_id=str(uuid4()),
            conversation_id=conversation,
            type=DirectiveType.resume,
            ts=datetime.now(UTC),
            seq=1,
            message="The bot is back.",
        )
        # The worker's principal publishes the directive, as a worker would.
        producer = AIOKafkaProducer(**aiokafka_kwargs(secure.settings(principal("worker"))))
        await producer.start()
        try:
            await producer.send_and_wait(
                topics.name("bot.directives"),
                directive.model_dump_json().encode(),
                key=conversation.encode(),
            )
        finally:
            await producer.stop()
        received = await client.next_directive(conversation, timeout=60)
    assert received is not None and received.directive_id == directive.directive_id
    turns = await read_all(secure.settings(ADMIN), topics.name("conversation.turns"))
    assert any(t["conversation_id"] == turn.conversation_id for t in turns)


@pytest.mark.parametrize("key", ["handoff.requests", "conversation.signals"])
async def test_a_bot_is_refused_handoff_requests_and_signals(
    applied: tuple[SecureKafka, subprocess.CompletedProcess[str]], key: str
) -> None:
    secure, _ = applied
    name = secure.topics.name(key)
    bot = aiokafka_kwargs(secure.settings(principal("bot")))
    # In the bot's own consumer group, which it may use: the topic is what it is refused.
    consumer = AIOKafkaConsumer(
        name, **bot, group_id=f"{APP_ID}-bot-snoop", auto_offset_reset="earliest"
    )
    try:
        with pytest.raises(TopicAuthorizationFailedError):  # its metadata is refused at start
            async with asyncio.timeout(60):
                await consumer.start()
                await consumer.getone()
    finally:
        await consumer.stop()


async def test_describing_every_topic_for_the_start_check_reads_none(
    applied: tuple[SecureKafka, subprocess.CompletedProcess[str]],
) -> None:
    # The worker may describe agent.presence (its start-up check) but not read it.
    secure, _ = applied
    worker = aiokafka_kwargs(secure.settings(principal("worker")))
    consumer = AIOKafkaConsumer(**worker, group_id=None, auto_offset_reset="earliest")
    await consumer.start()
    try:
        consumer.assign([TopicPartition(secure.topics.name("agent.presence"), 0)])
        with pytest.raises(TopicAuthorizationFailedError):
            async with asyncio.timeout(60):
                await consumer.getone()
    finally:
        await consumer.stop()


async def test_a_bot_cannot_forge_a_handoff_request(
    applied: tuple[SecureKafka, subprocess.CompletedProcess[str]],
) -> None:
    secure, _ = applied
    producer = AIOKafkaProducer(**aiokafka_kwargs(secure.settings(principal("bot"))))
    await producer.start()
    try:
        with pytest.raises(TopicAuthorizationFailedError):
            async with asyncio.timeout(60):
                await producer.send_and_wait(
                    secure.topics.name("handoff.requests"), b"{}", key=b"c-1"
                )
    finally:
        await producer.stop()


# --- TLS and SCRAM refuse strangers -------------------------------------------------------


async def test_a_client_without_the_ca_fails_tls_verification(secure: SecureKafka) -> None:
    host, port = secure.bootstrap.split(":")
    # The handshake itself: the system's trust store does not know the throwaway CA.
    with pytest.raises(ssl.SSLCertVerificationError):
        async with asyncio.timeout(30):
            await asyncio.open_connection(host, int(port), ssl=ssl.create_default_context())
    # With the CA the same handshake completes, so the refusal above is the certificate's.
    trusted = ssl.create_default_context(cafile=str(secure.ca_file))
    async with asyncio.timeout(30):
        _, writer = await asyncio.open_connection(host, int(port), ssl=trusted)
    assert writer.get_extra_info("ssl_object").version().startswith("TLSv1.")
    writer.close()
    # And a Kafka client given the right password but no CA never bootstraps.
    kwargs = aiokafka_kwargs(secure.settings(principal("bot")))
    kwargs["ssl_context"] = ssl.create_default_context()
    producer = AIOKafkaProducer(**kwargs, request_timeout_ms=5_000)
    with pytest.raises(KafkaConnectionError):
        async with asyncio.timeout(60):
            await producer.start()
    await producer.stop()


async def test_a_wrong_password_is_refused(secure: SecureKafka) -> None:
    settings = secure.settings(principal("bot"), sasl_password="not-the-password")
    producer = AIOKafkaProducer(**aiokafka_kwargs(settings), request_timeout_ms=5_000)
    with pytest.raises(KafkaConnectionError):
        async with asyncio.timeout(60):
            await producer.start()
    await producer.stop()
    # The broker says why: the credentials, not the connection (its log may lag the client).
    log = next(secure.home.parent.glob("kafka-*.log"))
    refusal = "Authentication failed during authentication due to invalid credentials"
    async with asyncio.timeout(30):
        while True:
            if refusal in await asyncio.to_thread(log.read_text, errors="replace"):
                break
            await asyncio.sleep(0.1)


async def test_the_plaintext_probe_listener_sees_no_topic(secure: SecureKafka) -> None:
    # User:ANONYMOUS: cluster metadata for the start-up probe, and nothing else.
    assert await metadata_answers(secure.probe)
    admin = AIOKafkaAdminClient(bootstrap_servers=secure.probe, request_timeout_ms=10_000)
    await admin.start()
    try:
        assert await admin.list_topics() == []
    finally:
        await admin.close()
    assert secure.topics.name("handoff.requests") in await list_topics(secure.settings(ADMIN))


# --- drift --------------------------------------------------------------------------------


async def test_drift_is_reported_and_deleted_only_when_asked(
    applied: tuple[SecureKafka, subprocess.CompletedProcess[str]],
) -> None:
    secure, _ = applied
    admin = secure.settings(ADMIN)
    requests = secure.topics.name("handoff.requests")
    turns = secure.topics.name("conversation.turns")
    bot = f"User:{principal('bot')}"
    extra = (ResourceType.TOPIC, requests, PatternType.LITERAL, bot, "*", Operation.READ)
    taken = (ResourceType.TOPIC, turns, PatternType.LITERAL, bot, "*", Operation.WRITE)
    # By hand, as someone might: a grant the file does not make, and one of its own removed.
    await acl_request(admin, CreateAclsRequest(*extra, Permission.ALLOW))
    await acl_request(admin, DeleteAclsRequest(*taken, Permission.ALLOW))
    extra_line = f"User:warmhandoff-bot ALLOW READ on topic {requests}"
    missing_line = f"User:warmhandoff-bot ALLOW WRITE on topic {turns}"
    await wait_for_bindings(admin, bot, present=[extra], absent=[taken])

    check = await asyncio.to_thread(secure.cli, "topics", "check", "--acls")
    assert check.returncode == 1, check.stdout + check.stderr
    assert acl_lines(check.stdout, "warning") == [
        f"warning  acl {extra_line}: on the broker but not in acls.yaml: add it to acls.yaml "
        "or delete it with `warmhandoff topics apply --acls --prune-acls`"
    ]
    assert acl_lines(check.stdout, "error") == [
        f"error    acl {missing_line}: missing, run `warmhandoff topics apply --acls`"
    ]

    applied_again = await asyncio.to_thread(secure.cli, "topics", "apply", "--acls")
    assert applied_again.returncode == 0, applied_again.stdout + applied_again.stderr
    assert acl_lines(applied_again.stdout, "created") == [f"created  acl {missing_line}"]
    assert len(acl_lines(applied_again.stdout, "warning")) == 1  # reported, not deleted
    assert extra in await bindings_of(admin, bot)

    pruned = await asyncio.to_thread(secure.cli, "topics", "apply", "--acls", "--prune-acls")
    assert pruned.returncode == 0, pruned.stdout + pruned.stderr
    assert acl_lines(pruned.stdout, "deleted") == [f"deleted  acl {extra_line}"]
    assert acl_lines(pruned.stdout, "warning") == []
    assert extra not in await bindings_of(admin, bot)
    assert taken in await bindings_of(admin, bot)


# --- the worker under its own principal ---------------------------------------------------


async def test_the_worker_runs_under_its_own_principal_and_hands_off(
    applied: tuple[SecureKafka, subprocess.CompletedProcess[str]], tmp_path: Path
) -> None:
    secure, _ = applied
    topics = secure.topics
    policy_file = tmp_path / "policy.yaml"
    text = DEFAULT_POLICY.read_text()
    assert "gather_timeout_seconds: 120" in text
    policy_file.write_text(
        text.replace("gather_timeout_seconds: 120", f"gather_timeout_seconds: {GATHER_TIMEOUT_S}")
    )
    turns = traffic(12, seed=31)
    expected = expected_handoffs(turns, load_policy(policy_file))
    assert expected, "the generated traffic must contain escalations"
    env = secure.env(principal("worker")) | {
        "WARMHANDOFF_DATA_DIR": str(tmp_path / "state"),
        "WARMHANDOFF_POLICY_FILE": str(policy_file),
        "WARMHANDOFF_WEB_PORT": "0",
        "WARMHANDOFF_LOG_FORMAT": "json",
    }
    log_path = tmp_path / "worker.log"
    worker = start_worker(env, log_path)
    try:
        bot = secure.settings(principal("bot"))
        async with BotClient(bot, topics=topics, bot_id="sec-traffic", listen=False) as client:
            await client.publish_many(turns)
        # The sink's principal reads the handoffs in a sink's group, as `warmhandoff sink` does.
        sink = secure.settings(principal("sink"))
        handoffs = await read_until_ids(
            sink,
            topics.name("handoff.requests"),
            group=f"{PREFIX}{APP_ID}-sink-check",
            wanted=set(expected),
            alive=lambda: worker.poll() is None,
            within=180,
        )
    finally:
        await asyncio.to_thread(stop_worker, worker)
    output = log_path.read_text(errors="replace")
    assert handoffs == set(expected), output[-3000:]
    assert "worker.ready" in output
    assert "AuthorizationFailed" not in output, output[-3000:]


# --- the desk under its own principal -----------------------------------------------------


async def test_the_desk_reads_its_topics_without_a_group_and_publishes_presence(
    applied: tuple[SecureKafka, subprocess.CompletedProcess[str]], tmp_path: Path
) -> None:
    secure, _ = applied
    topics = secure.topics
    agent = f"sec-agent-{uuid4().hex[:6]}"
    presence = AgentPresence(agent_id=agent, ts=datetime.now(UTC), state=PresenceState.available)
    # One record on each topic the desk reads, so catching up fetches from every one: the
    # agent's presence, and a record it cannot read (skipped and counted) on the others.
    unreadable = [key for key in DESK_INPUTS if key != "agent.presence"]
    producer = AIOKafkaProducer(**aiokafka_kwargs(secure.settings(ADMIN)))
    await producer.start()
    try:
        await producer.send_and_wait(
            topics.name("agent.presence"), encode(presence), key=agent.encode()
        )
        for key in unreadable:
            await producer.send_and_wait(topics.name(key), b"not json", key=agent.encode())
    finally:
        await producer.stop()
    secret = secrets.token_hex(32)
    port = free_port()
    env = secure.env(principal("desk")) | {
        "WARMHANDOFF_DESK_SECRET": secret,
        "WARMHANDOFF_WEB_HOST": "127.0.0.1",
        "WARMHANDOFF_WEB_PORT": str(port),
        "WARMHANDOFF_LOG_FORMAT": "json",
    }
    log_path = tmp_path / "desk.log"
    desk = start_worker(env, log_path, command="desk")
    base = f"http://127.0.0.1:{port}"
    try:
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=10)) as http:
            ready = await poll_ready(http, f"{base}/readyz", alive=lambda: desk.poll() is None)
            assert ready, log_path.read_text(errors="replace")[-3000:]
            async with http.get(f"{base}/metrics") as answer:
                metrics = await answer.text()
            for key in unreadable:
                assert skipped(metrics, key, "not_json") >= 1, key
            token = issue(secret, agent, "agent", hours=1)
            async with http.post(
                f"{base}/login", data={"token": token}, allow_redirects=False
            ) as login:
                assert login.status == 302
                session = login.cookies[DESK_COOKIE].value
            async with http.post(
                f"{base}/api/presence",
                json={"state": "away"},
                cookies={DESK_COOKIE: session},
                headers={"X-Warmhandoff-Desk": "1"},
            ) as changed:
                assert changed.status == 200, await changed.text()
    finally:
        await asyncio.to_thread(stop_worker, desk)
    output = log_path.read_text(errors="replace")
    assert "desk.caught_up" in output, output[-3000:]
    assert "AuthorizationFailed" not in output, output[-3000:]
    published = await read_all(secure.settings(ADMIN), topics.name("agent.presence"))
    assert {"agent_id": agent, "state": "away"}.items() <= published[-1].items()


async def poll_ready(http: aiohttp.ClientSession, url: str, *, alive: Callable[[], bool]) -> bool:
    """Whether `url` answered 200 before the process died or DESK_READY_S passed."""
    deadline = time.monotonic() + DESK_READY_S
    while time.monotonic() < deadline and alive():
        with contextlib.suppress(aiohttp.ClientError):
            async with http.get(url) as answer:
                if answer.status == 200:
                    return True
        await asyncio.sleep(0.5)  # the interval between polls
    return False


def skipped(metrics: str, topic: str, reason: str) -> float:
    """One warmhandoff_desk_skipped_records_total sample from a /metrics page, 0 if absent."""
    for family in text_string_to_metric_families(metrics):
        for sample in family.samples:
            if sample.name == "warmhandoff_desk_skipped_records_total" and sample.labels == {
                "topic": topic,
                "reason": reason,
            }:
                return sample.value
    return 0.0


# --- helpers ------------------------------------------------------------------------------


def stop_worker(worker: subprocess.Popen[bytes]) -> None:
    """SIGTERM and wait; SIGKILL if it does not stop in time."""
    worker.terminate()
    try:
        worker.wait(timeout=60)
    except subprocess.TimeoutExpired:
        worker.kill()
        worker.wait(timeout=30)


def start_worker(
    env: dict[str, str], log_path: Path, command: str = "worker"
) -> subprocess.Popen[bytes]:
    """`warmhandoff COMMAND` as a child process with `env`, its output in `log_path`."""
    with log_path.open("wb") as log:
        return subprocess.Popen(
            [sys.executable, "-m", "warmhandoff.streams.cli", command],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )


async def read_all(settings: ConnectionSettings, topic: str) -> list[dict[str, object]]:
    """Every record of `topic` now, decoded (no group)."""
    consumer = AIOKafkaConsumer(
        **aiokafka_kwargs(settings), group_id=None, auto_offset_reset="earliest"
    )
    await consumer.start()
    try:
        await consumer._client.force_metadata_update()
        partitions = [TopicPartition(topic, p) for p in consumer.partitions_for_topic(topic) or ()]
        assert partitions, f"no partitions of {topic} visible"
        consumer.assign(partitions)
        ends = await consumer.end_offsets(partitions)
        found: list[dict[str, object]] = []
        async with asyncio.timeout(60):
            for tp, end in ends.items():
                while await consumer.position(tp) < end:
                    records = (await consumer.getmany(tp, timeout_ms=500)).get(tp, [])
                    found.extend(orjson.loads(r.value) for r in records)
        return found
    finally:
        await consumer.stop()


async def read_until_ids(
    settings: ConnectionSettings,
    topic: str,
    *,
    group: str,
    wanted: set[str],
    alive: Callable[[], bool],
    within: float,
) -> set[str]:
    """The handoff ids read from `topic` until all of `wanted` arrived, the worker died or
    `within` seconds passed."""
    consumer = AIOKafkaConsumer(
        topic, **aiokafka_kwargs(settings), group_id=group, auto_offset_reset="earliest"
    )
    await consumer.start()
    seen: set[str] = set()
    deadline = time.monotonic() + within
    try:
        while not seen >= wanted and time.monotonic() < deadline and alive():
            batch = await consumer.getmany(timeout_ms=500)
            seen.update(orjson.loads(r.value)["handoff_id"] for rs in batch.values() for r in rs)
    finally:
        await consumer.stop()
    return seen


async def list_topics(settings: ConnectionSettings) -> list[str]:
    admin = AIOKafkaAdminClient(**aiokafka_kwargs(settings), request_timeout_ms=10_000)
    await admin.start()
    try:
        return list(await admin.list_topics())
    finally:
        await admin.close()


async def acl_request(settings: ConnectionSettings, request: object) -> None:
    """Send one aiokafka ACL request as `settings`' user and check its error codes."""
    admin = AIOKafkaAdminClient(**aiokafka_kwargs(settings), request_timeout_ms=10_000)
    await admin.start()
    try:
        response = await admin._send_request(request)
    finally:
        await admin.close()
    if hasattr(response, "creation_responses"):
        assert [r[0] for r in response.creation_responses] == [0]
    else:
        assert [r[0] for r in response.filter_responses] == [0]
        assert len(response.filter_responses[0][2]) == 1  # exactly one binding deleted


async def bindings_of(settings: ConnectionSettings, principal_name: str) -> set[tuple[object, ...]]:
    """The broker's bindings of one principal, as (type, name, pattern, principal, host, op)."""
    admin = AIOKafkaAdminClient(**aiokafka_kwargs(settings), request_timeout_ms=10_000)
    await admin.start()
    try:
        response = await admin._send_request(
            DescribeAclsRequest(
                resource_type=ResourceType.ANY,
                resource_name=None,
                resource_pattern_type_filter=PatternType.ANY,
                principal=principal_name,
                host=None,
                operation=Operation.ANY,
                permission_type=Permission.ANY,
            )
        )
    finally:
        await admin.close()
    assert response.error_code == 0
    return {
        (kind, name, pattern, who, host, op)
        for kind, name, pattern, entries in response.resources
        for who, host, op, permission in entries
        if permission == Permission.ALLOW
    }


async def wait_for_bindings(
    settings: ConnectionSettings,
    principal_name: str,
    *,
    present: list[tuple[object, ...]],
    absent: list[tuple[object, ...]],
) -> None:
    """Until the broker shows `present` and not `absent` (it applies changes a moment after
    the controller acknowledged them)."""
    async with asyncio.timeout(30):
        while True:
            found = await bindings_of(settings, principal_name)
            if all(b in found for b in present) and not any(b in found for b in absent):
                return
            await asyncio.sleep(0.1)
