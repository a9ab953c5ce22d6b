"""Which partition a conversation's records belong on, and what to do with one that is not there.

Every topic keyed by conversation_id has the same partition count, and a conversation's turns,
lifecycle events and timer ticks must land on the same partition number: the worker that owns
that partition holds the conversation's state. The partition is chosen by the producer, from
the key, with the Java client's partitioner: murmur2 of the key bytes, sign bit cleared,
modulo the partition count. aiokafka, Faust, the Java client and KafkaJS's default partitioner
do exactly this. librdkafka (confluent-kafka in every language, kcat) does not by default: its
`consistent_random` partitioner takes the CRC32 of the key, and puts a record without a key
on a random partition. Its `murmur2_random` partitioner matches the Java client.

A record on the wrong partition is detected by the worker, counted
(`warmhandoff_mispartitioned_total`, alert `WarmhandoffMispartitionedInput`) and, by
`WARMHANDOFF_MISPARTITIONED`, either forwarded to an internal re-partition topic (the
default: produced there with the conversation_id as key, so it lands on the right partition
and the worker that owns the conversation applies it), or dead-lettered with the fix named.
"""

from __future__ import annotations

from functools import lru_cache

from aiokafka.partitioner import murmur2

#: The reason a record on the wrong partition is dead-lettered with, and the fix it names.
REASON = "wrong_partition"
FIX = (
    "publish with the Java client's murmur2 partitioner, keyed by conversation_id "
    "(librdkafka, kcat, confluent-kafka: partitioner=murmur2_random; KafkaJS: the default "
    "partitioner, not the legacy one)"
)


@lru_cache(maxsize=65_536)
def partition_for(key: bytes, partitions: int) -> int:
    """The partition the Java client's default partitioner gives `key` among `partitions`.

    Cached: a conversation's key repeats on every one of its records, and the hash costs
    about 6 µs in Python against a look-up's fraction of one.
    """
    return int(murmur2(key) & 0x7FFFFFFF) % partitions


def misplaced(key: bytes, partition: int, partitions: int) -> str | None:
    """Why a record with conversation key `key` does not belong on `partition`, or None."""
    expected = partition_for(key, partitions)
    if expected == partition:
        return None
    return (
        f"conversation {key.decode(errors='replace')!r} belongs on partition {expected} "
        f"of {partitions}, not {partition}: {FIX}"
    )
