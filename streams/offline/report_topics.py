"""`warmhandoff report --from-topics`: the same report, read straight from the topics.

Reads `conversation.turns`, `escalation.decisions`, `handoff.requests`, `handoff.events` and
`learning.examples` from every partition, from `since` (by record timestamp) or from the
beginning, until caught up (past the end offsets found at start, and a poll of one second
finds nothing more), with no consumer group (nothing is
committed, nothing else is disturbed). Everything read is held in memory: bound it with
`--since` on a busy cluster. Records are checked as lines of a file are
(streams/offline/report_input.py): one that is not usable is skipped and counted.
"""

from __future__ import annotations

from datetime import datetime

from aiokafka import TopicPartition

from warmhandoff.streams.config.connection import ConnectionSettings
from warmhandoff.streams.contract.errors import WarmhandoffError
from warmhandoff.streams.contract.topics import Topics
from warmhandoff.streams.offline.report_input import KINDS, Streams
from warmhandoff.streams.offline.scan import scanning_consumer, topic_partitions


async def read_topics(
    settings: ConnectionSettings, topics: Topics, *, since: datetime | None = None
) -> Streams:
    """Every record of the report's topics (from `since`), sorted into `Streams`."""
    streams = Streams()
    async with scanning_consumer(settings) as consumer:
        kind_by_name = {topics.name(key): kind for key, kind in KINDS.items()}
        known = await topic_partitions(consumer)
        tps = [
            TopicPartition(name, p)
            for name in kind_by_name
            if name in known
            for p in sorted(known[name])
        ]
        if not tps:
            raise WarmhandoffError(
                "none of the report's topics exist: run `warmhandoff topics apply`"
            )
        starts: dict[TopicPartition, int] = {}
        ms = 0 if since is None else int(since.timestamp() * 1000)
        if since is not None:
            found = await consumer.offsets_for_times(dict.fromkeys(tps, ms))
            # A partition with nothing at or after `since` is not read at all (None, or a
            # timestamp of -1 as the embedded broker answers).
            starts = {
                tp: at.offset for tp, at in found.items() if at is not None and at.timestamp >= 0
            }
            tps = [tp for tp in tps if tp in starts]
            if not tps:
                return streams
        consumer.assign(tps)
        ends = await consumer.end_offsets(tps)
        if since is None:
            await consumer.seek_to_beginning(*tps)
        for tp, offset in starts.items():
            consumer.seek(tp, offset)
        while True:
            batch = await consumer.getmany(timeout_ms=1000, max_records=10_000)
            for tp, records in batch.items():
                kind = kind_by_name[tp.topic]
                for record in records:
                    if record.value and record.timestamp >= ms:
                        streams.add_json(record.value, kind)
            # Done once past the end offsets seen at start and a poll finds nothing more. Not
            # the end offsets alone: the embedded broker (Tansu) reports them low.
            if not batch and all([await consumer.position(tp) >= ends[tp] for tp in tps]):
                break
    return streams
