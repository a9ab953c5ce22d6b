"""The learned trigger's model as workers read it: the newest snapshot on `learning.model`.

The learner (streams/services/learner.py) publishes a snapshot under `SNAPSHOT_KEY` to the
compacted one-partition topic; every worker reads the newest one at start and every
`REFRESH_SECONDS`, without a consumer group.
"""

from __future__ import annotations

from aiokafka import AIOKafkaConsumer, TopicPartition

from warmhandoff.streams.config.connection import ConnectionSettings, aiokafka_kwargs
from warmhandoff.streams.contract.topics import Topics

SNAPSHOT_KEY = b"learned"
REFRESH_SECONDS = 60.0  # how often a worker looks for a newer snapshot


async def latest_snapshot(
    settings: ConnectionSettings, topics: Topics, *, timeout_s: float = 5.0
) -> bytes | None:
    """The newest record on `learning.model`, or None when there is none yet."""
    consumer = AIOKafkaConsumer(**aiokafka_kwargs(settings), enable_auto_commit=False)
    await consumer.start()
    try:
        tp = TopicPartition(topics.name("learning.model"), 0)
        consumer.assign([tp])
        end = (await consumer.end_offsets([tp]))[tp]
        if end == 0:
            return None
        consumer.seek(tp, end - 1)
        batch = await consumer.getmany(tp, timeout_ms=int(timeout_s * 1000))
        records = batch.get(tp, [])
        return records[-1].value if records else None
    finally:
        await consumer.stop()
