"""The partition of a conversation key, as the Java client's default partitioner gives it."""

from __future__ import annotations

import zlib
from pathlib import Path

import pytest

from warmhandoff.streams.config.worker import WorkerSettings
from warmhandoff.streams.contract.topics import load_topics
from warmhandoff.streams.policy import load_policy
from warmhandoff.streams.runtime.partitioning import FIX, misplaced, partition_for
from warmhandoff.streams.services.worker.app import Pipeline


@pytest.mark.parametrize(
    ("key", "signed_murmur2"),
    [
        # The Java client's own test vectors (Utils.murmur2 in Kafka's UtilsTest).
        (b"21", -973932308),
        (b"foobar", -790332482),
        (b"a-little-bit-long-string", -985981536),
        (b"a-little-bit-longer-string", -1486304829),
        (b"lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8", -58897971),
        (b"abc", 479470107),
    ],
)
def test_the_partition_is_the_java_clients(key: bytes, signed_murmur2: int) -> None:
    # Java: toPositive(murmur2(key)) % numPartitions, toPositive clearing the sign bit.
    for partitions in (1, 3, 8, 12, 50):
        assert partition_for(key, partitions) == (signed_murmur2 & 0x7FFFFFFF) % partitions


def test_a_record_on_its_partition_is_in_place() -> None:
    key = b"c-1042"
    assert misplaced(key, partition_for(key, 8), 8) is None


def test_a_record_placed_by_librdkafkas_default_is_misplaced_with_the_fix_named() -> None:
    # librdkafka's consistent_random: CRC32 of the key; most keys land elsewhere.
    keys = [f"conv-{i}".encode() for i in range(200)]
    moved = [k for k in keys if zlib.crc32(k) % 8 != partition_for(k, 8)]
    assert len(moved) > 100
    why = misplaced(moved[0], zlib.crc32(moved[0]) % 8, 8)
    assert why is not None
    assert f"belongs on partition {partition_for(moved[0], 8)} of 8" in why
    assert FIX in why and "partitioner=murmur2_random" in why


@pytest.mark.parametrize(
    ("guarantee", "configured", "action", "agents"),
    [
        ("at_least_once", "repartition", "repartition", True),
        ("at_least_once", "dead_letter", "dead_letter", False),
        ("exactly_once", "repartition", "dead_letter", False),
    ],
)
def test_the_worker_forwards_only_at_least_once(
    tmp_path: Path, guarantee: str, configured: str, action: str, agents: bool
) -> None:
    settings = WorkerSettings(
        store="memory://",
        data_dir=tmp_path,
        web_port=0,
        app_id="part",
        processing_guarantee=guarantee,
        mispartitioned=configured,
    )
    pipeline = Pipeline(settings, load_topics(prefix="pt.", app_id="part"), load_policy())
    assert pipeline.mispartitioned_action == action
    consumed = {topic for agent in pipeline.app.agents.values() for topic in agent.channel.topics}
    repartition = {"pt.part-turns-repartition", "pt.part-handoff-events-repartition"}
    assert (repartition <= consumed) is agents
    assert not agents or "pt.conversation.turns" in consumed
