"""A multi-node Apache Kafka cluster's settings, without starting a JVM: each node one voter
of one quorum, internal topics at replication 3 with min ISR 2, and the lone node unchanged."""

from __future__ import annotations

from pathlib import Path

import pytest

from warmhandoff.streams.runtime.apache_kafka import (
    JVM_OPTIONS,
    ApacheKafka,
    replication_for,
    server_properties,
)
from warmhandoff.streams.runtime.kafka_cluster import (
    CLUSTER_JVM_OPTIONS,
    KafkaCluster,
    PartitionState,
    distinct_free_ports,
)

VOTERS = {1: "127.0.0.1:41001", 2: "127.0.0.1:41011", 3: "127.0.0.1:41021"}
INTERNAL_REPLICAS = (
    "offsets.topic.replication.factor",
    "transaction.state.log.replication.factor",
    "share.coordinator.state.topic.replication.factor",
    "default.replication.factor",
)
INTERNAL_MIN_ISR = (
    "transaction.state.log.min.isr",
    "share.coordinator.state.topic.min.isr",
    "min.insync.replicas",
)


def test_a_node_of_three_is_one_voter_of_all_three(tmp_path: Path) -> None:
    props = server_properties(
        host="127.0.0.1",
        port=41010,
        controller_port=41011,
        log_dir=tmp_path,
        node_id=2,
        voters=VOTERS,
    )
    assert props["node.id"] == "2"
    assert props["process.roles"] == "broker,controller"
    assert props["controller.quorum.voters"] == (
        "1@127.0.0.1:41001,2@127.0.0.1:41011,3@127.0.0.1:41021"
    )
    assert props["listeners"] == "PLAINTEXT://127.0.0.1:41010,CONTROLLER://127.0.0.1:41011"
    assert props["advertised.listeners"] == "PLAINTEXT://127.0.0.1:41010"


def test_three_nodes_keep_internal_topics_at_three_replicas_and_min_isr_two(
    tmp_path: Path,
) -> None:
    props = server_properties(
        host="127.0.0.1", port=1, controller_port=41001, log_dir=tmp_path, voters=VOTERS
    )
    for key in INTERNAL_REPLICAS:
        assert props[key] == "3", key
    for key in INTERNAL_MIN_ISR:
        assert props[key] == "2", key


def test_the_lone_node_is_unchanged(tmp_path: Path) -> None:
    alone = server_properties(host="127.0.0.1", port=1, controller_port=2, log_dir=tmp_path)
    assert alone["controller.quorum.voters"] == "1@127.0.0.1:2"
    for key in (*INTERNAL_REPLICAS, *INTERNAL_MIN_ISR):
        assert alone[key] == "1", key
    # Naming the lone node as the only voter is the same node.
    assert alone == server_properties(
        host="127.0.0.1",
        port=1,
        controller_port=2,
        log_dir=tmp_path,
        voters={1: "127.0.0.1:2"},
    )


@pytest.mark.parametrize(
    ("nodes", "replicas", "min_isr"), [(1, "1", "1"), (2, "2", "1"), (3, "3", "2"), (5, "3", "2")]
)
def test_replication_follows_the_number_of_nodes(nodes: int, replicas: str, min_isr: str) -> None:
    assert replication_for(nodes) == (replicas, min_isr)


def test_a_node_outside_the_voters_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match=r"node 4 is not among the controller voters \[1, 2, 3\]"):
        server_properties(
            host="127.0.0.1", port=1, controller_port=2, log_dir=tmp_path, node_id=4, voters=VOTERS
        )


def test_a_cluster_gives_each_node_its_own_ports_and_one_quorum(tmp_path: Path) -> None:
    cluster = KafkaCluster(data_dir=tmp_path)
    nodes = cluster.nodes
    assert [n.node_id for n in nodes] == [1, 2, 3]
    ports = [p for n in nodes for p in (n.port, n.controller_port)]
    assert len(set(ports)) == 6
    assert {n.cluster_id for n in nodes} == {cluster.cluster_id}
    settings = [n.properties() for n in nodes]
    assert len({s["controller.quorum.voters"] for s in settings}) == 1
    quorum = settings[0]["controller.quorum.voters"]
    for node in nodes:
        assert f"{node.node_id}@127.0.0.1:{node.controller_port}" in quorum
    assert [s["node.id"] for s in settings] == ["1", "2", "3"]
    assert len({s["log.dirs"] for s in settings}) == 3
    assert {s["min.insync.replicas"] for s in settings} == {"2"}
    assert cluster.bootstrap == ",".join(f"127.0.0.1:{n.port}" for n in nodes)
    assert cluster.node(2) is nodes[1]
    with pytest.raises(KeyError):
        cluster.node(4)


def test_cluster_nodes_run_small_jvms_and_a_lone_broker_keeps_its_own(tmp_path: Path) -> None:
    cluster = KafkaCluster(data_dir=tmp_path)
    assert all(n.jvm_options == CLUSTER_JVM_OPTIONS for n in cluster.nodes)
    assert "-Xmx384m" in CLUSTER_JVM_OPTIONS and "-Xms128m" in CLUSTER_JVM_OPTIONS
    assert ApacheKafka(data_dir=tmp_path).jvm_options == JVM_OPTIONS


def test_overrides_reach_every_node(tmp_path: Path) -> None:
    cluster = KafkaCluster(data_dir=tmp_path, properties={"num.partitions": "6"})
    assert {n.properties()["num.partitions"] for n in cluster.nodes} == {"6"}


def test_an_empty_cluster_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="at least one node"):
        KafkaCluster(data_dir=tmp_path, size=0)


def test_a_partition_is_fully_replicated_only_with_a_leader_and_every_replica_in_sync() -> None:
    whole = PartitionState("t", 0, leader=1, replicas=(1, 2, 3), isr=(3, 1, 2))
    assert whole.fully_replicated
    assert not PartitionState("t", 0, leader=1, replicas=(1, 2, 3), isr=(1, 2)).fully_replicated
    assert not PartitionState("t", 0, leader=-1, replicas=(1,), isr=(1,)).fully_replicated


def test_free_ports_are_distinct() -> None:
    ports = distinct_free_ports(12)
    assert len(set(ports)) == 12
