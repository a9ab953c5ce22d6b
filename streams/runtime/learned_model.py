"""What the learner publishes for workers, as they read it: the newest record of a key on
`learning.model`.

The learner (streams/services/learner.py) publishes the learned trigger's model under
`SNAPSHOT_KEY` and the suggested replies' ranking under `REPLIES_KEY` to the compacted
one-partition topic; every worker reads the newest of each at start and every
`REFRESH_SECONDS`, without a consumer group. Compaction keeps one record per key only in
closed segments, so the newest record of a key is found by reading back from the end, a chunk
at a time, until every key asked for is found (at most `MAX_READ_BACK` records).
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable

from aiokafka import AIOKafkaConsumer, TopicPartition

from warmhandoff.streams.config.connection import ConnectionSettings, aiokafka_kwargs
from warmhandoff.streams.contract.topics import Topics
from warmhandoff.streams.core.replies import REPLIES_KEY

__all__ = ["REFRESH_SECONDS", "REPLIES_KEY", "SNAPSHOT_KEY", "latest_snapshot", "latest_snapshots"]

SNAPSHOT_KEY = b"learned"
REFRESH_SECONDS = 60.0  # how often a worker looks for a newer snapshot
# Records read back by the first step, doubled by each next one: the learner publishes both
# keys in the same minute, so the newest of each is nearly always among the last few.
FIRST_CHUNK = 4
MAX_READ_BACK = 2000  # records read back at most, before giving up on a key


async def latest_snapshot(
    settings: ConnectionSettings,
    topics: Topics,
    *,
    key: bytes = SNAPSHOT_KEY,
    timeout_s: float = 5.0,
) -> bytes | None:
    """The newest record of `key` on `learning.model`, or None when there is none yet."""
    found = await latest_snapshots(settings, topics, (key,), timeout_s=timeout_s)
    return found.get(key)


async def latest_snapshots(
    settings: ConnectionSettings,
    topics: Topics,
    keys: Iterable[bytes],
    *,
    timeout_s: float = 5.0,
) -> dict[bytes, bytes]:
    """The newest record of each of `keys` on `learning.model` that has one (tombstones and
    keys not found within `MAX_READ_BACK` records are left out)."""
    wanted = set(keys)
    found: dict[bytes, bytes | None] = {}
    consumer = AIOKafkaConsumer(**aiokafka_kwargs(settings), enable_auto_commit=False)
    await consumer.start()
    try:
        tp = TopicPartition(topics.name("learning.model"), 0)
        consumer.assign([tp])
        begin = (await consumer.beginning_offsets([tp]))[tp]
        end = (await consumer.end_offsets([tp]))[tp]
        chunk = FIRST_CHUNK
        async with asyncio.timeout(timeout_s):
            while end > begin:
                lower = max(begin, end - chunk, end - MAX_READ_BACK)
                # Forward from `lower` to the end, the last of each key winning: the order
                # of the records decides which is newest, never offset arithmetic.
                found = {}
                for record_key, value in await _read(consumer, tp, lower, end):
                    if record_key in wanted:
                        found[record_key] = value
                if not wanted - found.keys() or lower == begin or end - lower >= MAX_READ_BACK:
                    break
                chunk *= 2
    except TimeoutError:
        pass  # what was found so far is the newest of those keys
    finally:
        await consumer.stop()
    return {k: v for k, v in found.items() if v is not None}


async def _read(
    consumer: AIOKafkaConsumer, tp: TopicPartition, lower: int, upper: int
) -> list[tuple[bytes | None, bytes | None]]:
    """The records from offset `lower` to the end, in order (compaction may have removed
    some): at least up to `upper`, and on until a fetch returns nothing more."""
    consumer.seek(tp, lower)
    out: list[tuple[bytes | None, bytes | None]] = []
    while True:
        batch = await consumer.getmany(tp, timeout_ms=500)
        records = batch.get(tp, [])
        out.extend((record.key, record.value) for record in records)
        if not records and await consumer.position(tp) >= upper:
            return out
