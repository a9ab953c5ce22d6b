"""Provisioning Apache Kafka: the pom and broker settings written, the jar cache, and the one
line said when Java, Maven or Maven Central is missing.

Missing tools are simulated with PATH and JAVA_HOME pointing at empty or fake directories;
a fake `java` or `mvn` is a small shell script that prints what the real one would.
"""

from __future__ import annotations

import base64
import shutil
import socket
import threading
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from warmhandoff.streams.contract.errors import BrokerUnavailableError, KafkaUnavailableError
from warmhandoff.streams.runtime.apache_kafka import (
    LOG4J2_PROPERTIES,
    ApacheKafka,
    new_cluster_id,
    render_properties,
    server_properties,
)
from warmhandoff.streams.runtime.kafka_jars import (
    CACHE_ENV,
    KAFKA_VERSION,
    KafkaJars,
    cache_root,
    find_java,
    java_major,
    maven_pom,
    provision,
    version_dir,
)

from ..brokers import BrokerUnusable, choose_broker

POM = "{http://maven.apache.org/POM/4.0.0}"


def fake_tool(folder: Path, name: str, script: str) -> Path:
    """An executable shell script `folder/name`."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text("#!/bin/sh\nPATH=/usr/bin:/bin\n" + script)
    path.chmod(0o755)
    return path


def fake_java(folder: Path, version: str = "17.0.15") -> Path:
    return fake_tool(
        folder, "java", f"echo 'openjdk version \"{version}\" 2025-04-15' >&2\nexit 0\n"
    )


FAKE_MVN = """\
for arg in "$@"; do
  case "$arg" in -DoutputDirectory=*) out="${arg#-DoutputDirectory=}";; esac
done
echo run >> "$(dirname "$0")/runs"
sleep 0.3  # the download takes a while: long enough for a second process to come in
touch "$out/kafka_2.13-%s.jar" "$out/log4j-core.jar"
"""


def test_the_pom_lists_the_broker_and_one_slf4j_binding_for_runtime() -> None:
    root = ET.fromstring(maven_pom("4.1.0"))
    deps = {
        (d.findtext(f"{POM}groupId"), d.findtext(f"{POM}artifactId")): d.findtext(f"{POM}version")
        for d in root.iter(f"{POM}dependency")
    }
    assert deps[("org.apache.kafka", "kafka_2.13")] == "4.1.0"
    bindings = [a for g, a in deps if "slf4j" in a]
    assert bindings == ["log4j-slf4j-impl"]  # the binding for the SLF4J 1.7 API Kafka uses
    assert ("org.apache.logging.log4j", "log4j-core") in deps
    assert root.findtext(f"{POM}packaging") == "pom"
    plugin = next(root.iter(f"{POM}plugin"))
    assert plugin.findtext(f"{POM}artifactId") == "maven-dependency-plugin"
    assert plugin.findtext(f"{POM}version")  # pinned, not whatever Maven defaults to
    assert plugin.findtext(f"{POM}configuration/{POM}includeScope") == "runtime"


def test_a_kafka_version_at_least_4_0_1_is_the_default() -> None:
    # 4.0.0 dropped JoinGroup versions that Faust's client still sends.
    parts = tuple(int(p) for p in KAFKA_VERSION.split("."))
    assert parts >= (4, 0, 1)


def test_the_broker_settings_are_one_kraft_node_with_single_replica_internal_topics(
    tmp_path: Path,
) -> None:
    props = server_properties(host="127.0.0.1", port=41000, controller_port=41001, log_dir=tmp_path)
    assert props["process.roles"] == "broker,controller"
    assert props["node.id"] == "1"
    assert props["controller.quorum.voters"] == "1@127.0.0.1:41001"
    assert props["listeners"] == "PLAINTEXT://127.0.0.1:41000,CONTROLLER://127.0.0.1:41001"
    assert props["advertised.listeners"] == "PLAINTEXT://127.0.0.1:41000"
    assert props["controller.listener.names"] == "CONTROLLER"
    assert props["log.dirs"] == str(tmp_path)
    for key in (
        "offsets.topic.replication.factor",
        "transaction.state.log.replication.factor",
        "transaction.state.log.min.isr",
        "share.coordinator.state.topic.replication.factor",
    ):
        assert props[key] == "1", key
    assert props["group.initial.rebalance.delay.ms"] == "0"
    assert props["auto.create.topics.enable"] == "false"  # topics.yaml creates every topic
    # Kafka's default bound on future record timestamps (an hour) is kept.
    assert "log.message.timestamp.after.max.ms" not in props


def test_the_properties_file_reads_back_as_written(tmp_path: Path) -> None:
    props = server_properties(host="127.0.0.1", port=1, controller_port=2, log_dir=tmp_path)
    text = render_properties(props)
    parsed = dict(line.split("=", 1) for line in text.splitlines())
    assert parsed == props


def test_a_broker_writes_its_overrides_and_picks_two_distinct_ports(tmp_path: Path) -> None:
    kafka = ApacheKafka(data_dir=tmp_path, properties={"num.partitions": "3"})
    props = kafka.properties()
    assert kafka.port != kafka.controller_port
    assert props["num.partitions"] == "3"
    assert props["log.dirs"] == str(tmp_path / f"kafka-{kafka.port}" / "data")
    assert kafka.bootstrap == f"127.0.0.1:{kafka.port}"
    assert "rootLogger.level = INFO" in LOG4J2_PROPERTIES


def test_cluster_ids_are_kafka_uuids() -> None:
    ids = {new_cluster_id() for _ in range(50)}
    assert len(ids) == 50
    for cluster in ids:
        assert len(cluster) == 22 and not cluster.startswith("-")
        assert len(base64.urlsafe_b64decode(cluster + "==")) == 16


def test_the_cache_is_outside_the_clone_and_can_be_moved(tmp_path: Path) -> None:
    assert cache_root({CACHE_ENV: str(tmp_path / "c")}) == tmp_path / "c"
    assert cache_root({"XDG_CACHE_HOME": str(tmp_path)}) == tmp_path / "warmhandoff" / "kafka"
    assert cache_root({}) == Path.home() / ".cache" / "warmhandoff" / "kafka"
    # One directory per version and pom.
    assert version_dir("4.1.0", tmp_path) != version_dir("4.4.0", tmp_path)
    assert version_dir("4.4.0", tmp_path).name.startswith("4.4.0-")


# --- what is missing, in one line ----------------------------------------------------------


def test_no_java_on_path_says_so(tmp_path: Path) -> None:
    with pytest.raises(KafkaUnavailableError) as caught:
        find_java({"PATH": str(tmp_path)})
    assert str(caught.value) == (
        "no Java: no `java` on PATH and JAVA_HOME is unset (Apache Kafka needs Java 17 or later)"
    )


def test_a_java_home_without_java_says_so(tmp_path: Path) -> None:
    fake_java(tmp_path / "path")  # a java on PATH does not stand in for a wrong JAVA_HOME
    with pytest.raises(KafkaUnavailableError, match=r"^no Java: JAVA_HOME=\S+ has no bin/java"):
        find_java({"PATH": str(tmp_path / "path"), "JAVA_HOME": str(tmp_path / "empty")})


def test_an_old_java_says_which_and_what_is_needed(tmp_path: Path) -> None:
    java = fake_java(tmp_path / "jdk11" / "bin", "11.0.2")
    with pytest.raises(KafkaUnavailableError) as caught:
        find_java({"PATH": "", "JAVA_HOME": str(tmp_path / "jdk11")})
    assert str(caught.value) == (
        f"Java 11 at {java} is too old: Apache Kafka needs Java 17 or later "
        "(set JAVA_HOME to a newer JDK)"
    )
    assert java_major(str(fake_java(tmp_path / "jdk8", "1.8.0_392"))) == 8


def test_java_17_is_enough(tmp_path: Path) -> None:
    java = fake_java(tmp_path / "bin")
    assert find_java({"PATH": str(tmp_path / "bin")}) == str(java)


def test_no_maven_says_so_when_the_jars_are_not_cached(tmp_path: Path) -> None:
    fake_java(tmp_path / "bin")
    env = {"PATH": str(tmp_path / "bin")}
    with pytest.raises(KafkaUnavailableError) as caught:
        provision(cache=tmp_path / "cache", env=env)
    message = str(caught.value)
    assert message.startswith("no Maven: no `mvn` on PATH, needed once to download Apache Kafka")
    assert "\n" not in message
    assert not (tmp_path / "cache").exists()  # nothing half made


def test_cached_jars_need_no_maven(tmp_path: Path) -> None:
    fake_java(tmp_path / "bin")
    jars = version_dir(KAFKA_VERSION, tmp_path / "cache") / "jars"
    jars.mkdir(parents=True)
    (jars / f"kafka_2.13-{KAFKA_VERSION}.jar").touch()
    found = provision(cache=tmp_path / "cache", env={"PATH": str(tmp_path / "bin")})
    assert found.directory == jars
    assert found.classpath == f"{jars}/*"


def test_concurrent_first_downloads_run_maven_once(tmp_path: Path) -> None:
    fake_java(tmp_path / "bin")
    fake_tool(tmp_path / "bin", "mvn", FAKE_MVN % KAFKA_VERSION)
    env = {"PATH": str(tmp_path / "bin")}
    results: list[Path] = []
    errors: list[BaseException] = []

    def fetch() -> None:
        try:
            results.append(provision(cache=tmp_path / "cache", env=env).directory)
        except BaseException as exc:  # noqa: BLE001 (reported by the assertion below)
            errors.append(exc)

    threads = [threading.Thread(target=fetch) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not errors
    assert len(results) == 3 and len(set(results)) == 1
    assert (tmp_path / "bin" / "runs").read_text().splitlines() == ["run"]
    target = results[0].parent
    assert sorted(p.name for p in target.iterdir()) == ["jars", "mvn.log", "pom.xml"]
    assert (target / "pom.xml").read_text() == maven_pom(KAFKA_VERSION)


def test_a_failed_download_leaves_no_partial_cache(tmp_path: Path) -> None:
    fake_java(tmp_path / "bin")
    fake_tool(
        tmp_path / "bin",
        "mvn",
        "echo '[ERROR] Failed to execute goal on project kafka-broker: Could not find artifact "
        "org.apache.kafka:kafka_2.13:jar:4.4.0 in central'\nexit 1\n",
    )
    with pytest.raises(KafkaUnavailableError) as caught:
        provision(cache=tmp_path / "cache", env={"PATH": str(tmp_path / "bin")})
    message = str(caught.value)
    assert message.startswith(f"mvn could not download Apache Kafka {KAFKA_VERSION}: Failed")
    assert "Could not find artifact" in message and "(log: " in message
    target = version_dir(KAFKA_VERSION, tmp_path / "cache")
    assert sorted(p.name for p in target.iterdir()) == ["mvn.log", "pom.xml"]


@pytest.mark.skipif(
    shutil.which("mvn") is None or shutil.which("java") is None, reason="needs mvn and java"
)
@pytest.mark.timeout(120)
def test_an_unreachable_maven_central_says_so(tmp_path: Path) -> None:
    # A real mvn, with a user home whose settings send every download to a closed port.
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        closed = sock.getsockname()[1]
    home = tmp_path / "home"
    (home / ".m2").mkdir(parents=True)
    (home / ".m2" / "settings.xml").write_text(
        "<settings><mirrors><mirror><id>nowhere</id><mirrorOf>*</mirrorOf>"
        f"<url>http://127.0.0.1:{closed}/maven2</url></mirror></mirrors></settings>"
    )
    mvn = Path(str(shutil.which("mvn"))).resolve().parent
    java = Path(str(shutil.which("java"))).resolve().parent
    env = {
        "PATH": f"{mvn}:{java}:/usr/bin:/bin",
        "MAVEN_OPTS": f"-Duser.home={home}",
        "HOME": str(home),
    }
    with pytest.raises(KafkaUnavailableError) as caught:
        provision(cache=tmp_path / "cache", env=env)
    message = str(caught.value)
    assert message.startswith(
        f"Maven Central is unreachable: cannot download Apache Kafka {KAFKA_VERSION}: "
    )
    assert "\n" not in message and len(message) < 400


# --- the test broker setting ---------------------------------------------------------------


def test_under_ci_an_unprovisionable_kafka_stops_the_run(tmp_path: Path) -> None:
    env = {"WARMHANDOFF_TEST_BROKER": "kafka", "CI": "true", "PATH": str(tmp_path)}
    with pytest.raises(BrokerUnusable, match=r"^Apache Kafka cannot be provisioned: no Java: "):
        choose_broker(env)


def test_elsewhere_an_unprovisionable_kafka_falls_back_to_the_embedded_broker(
    tmp_path: Path,
) -> None:
    chosen = choose_broker({"WARMHANDOFF_TEST_BROKER": "kafka", "PATH": str(tmp_path)})
    assert chosen.kind == "embedded"
    assert chosen.describe().startswith(
        "embedded (Tansu): fallback, Apache Kafka cannot be provisioned: no Java"
    )


def test_the_test_broker_setting_takes_a_kind_or_an_answering_address(tmp_path: Path) -> None:
    assert choose_broker({"WARMHANDOFF_TEST_BROKER": "embedded"}).kind == "embedded"
    with pytest.raises(BrokerUnusable, match="expected kafka, embedded or HOST:PORT"):
        choose_broker({"WARMHANDOFF_TEST_BROKER": "kafak"})
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        closed = f"127.0.0.1:{sock.getsockname()[1]}"
    with pytest.raises(BrokerUnusable, match="no broker answers there"):
        choose_broker({"WARMHANDOFF_TEST_BROKER": closed})
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        listening = f"127.0.0.1:{sock.getsockname()[1]}"
        chosen = choose_broker({"WARMHANDOFF_TEST_BROKER": listening})
        assert (chosen.kind, chosen.address) == ("external", listening)
        # Unset, an answering WARMHANDOFF_BOOTSTRAP_SERVERS is used as before.
        chosen = choose_broker({"WARMHANDOFF_BOOTSTRAP_SERVERS": listening})
        assert (chosen.kind, chosen.address) == ("external", listening)
    unset = choose_broker({"WARMHANDOFF_BOOTSTRAP_SERVERS": closed, "PATH": str(tmp_path)})
    assert unset.kind == "embedded"  # the default, or the fallback from it


def test_a_broker_that_cannot_start_says_why_in_one_line(tmp_path: Path) -> None:
    fake = fake_tool(tmp_path / "jdk" / "bin", "java", "echo 'Error: no such class' >&2\nexit 1\n")
    kafka = ApacheKafka(data_dir=tmp_path, jars=KafkaJars("4.4.0", tmp_path, str(fake)))
    with pytest.raises(BrokerUnavailableError) as caught:
        kafka.start()
    message = str(caught.value)
    assert message.startswith("Apache Kafka 4.4.0 could not format its storage: Error: no such")
    assert "(log: " in message and "\n" not in message
    assert kafka.pid is None
