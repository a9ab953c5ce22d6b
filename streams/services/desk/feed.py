"""The desk's Kafka side: read the topics it shows from their beginning, publish its actions.

The desk reads every partition without a consumer group (each replica keeps the whole board)
and from the earliest offset, so a restarted desk rebuilds its view from what the topics still
retain. It is ready once it has read up to the end offsets it found at start. A record it
cannot read is skipped, logged and counted (the worker dead-letters bad lifecycle events).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import structlog
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from prometheus_client import Counter

from warmhandoff.streams.config.connection import ConnectionSettings, aiokafka_kwargs
from warmhandoff.streams.contract.models import (
    AgentPresence,
    Alert,
    Directive,
    HandoffEvent,
    HandoffRequest,
    QueueHealth,
)
from warmhandoff.streams.contract.topics import Topics
from warmhandoff.streams.core.codec import Rejected, decode, encode
from warmhandoff.streams.runtime.metrics import REGISTRY
from warmhandoff.streams.services.desk.board import Board

log = structlog.get_logger(__name__)

#: The topics the desk shows, by logical name, and how each lands on the board.
INPUTS: dict[str, tuple[type[Any], Callable[[Board, Any], None]]] = {
    "handoff.requests": (HandoffRequest, Board.request),
    "handoff.events": (HandoffEvent, Board.event),
    "bot.directives": (Directive, Board.directive),
    "queue.health": (QueueHealth, Board.queue_health),
    "agent.presence": (AgentPresence, Board.agent),
    "alerts": (Alert, Board.alert),
}
MAX_RECORD_BYTES = 4 * 1024 * 1024

SKIPPED = Counter(
    "warmhandoff_desk_skipped_records_total",
    "Records the desk could not read and skipped, by topic and reason.",
    ["topic", "reason"],
    registry=REGISTRY,
)


class Feed:
    """Reads the desk's topics into a board; publishes the desk's events."""

    def __init__(self, settings: ConnectionSettings, topics: Topics, board: Board) -> None:
        self.settings, self.topics, self.board = settings, topics, board
        self._by_name = {topics.name(key): key for key in INPUTS}
        self._consumer: AIOKafkaConsumer | None = None
        self._producer: AIOKafkaProducer | None = None
        self._ends: dict[TopicPartition, int] = {}
        self.caught_up = asyncio.Event()
        self.changed = asyncio.Condition()

    async def start(self) -> None:
        kwargs = aiokafka_kwargs(self.settings)
        # acks=all without idempotence: the embedded broker has no producer ids, and the
        # desk's events carry stable ids, so a retried send is absorbed downstream.
        self._producer = AIOKafkaProducer(**kwargs, acks="all")
        await self._producer.start()
        consumer = self._consumer = AIOKafkaConsumer(**kwargs, enable_auto_commit=False)
        await consumer.start()
        # One fresh metadata request: the client's own cache holds only topics it was asked
        # about, and Apache Kafka answers the bootstrap request with none.
        cluster = await consumer._client.fetch_all_metadata()
        partitions = [
            TopicPartition(name, p)
            for name in self._by_name
            for p in sorted(cluster.partitions_for_topic(name) or ())
        ]
        consumer.assign(partitions)
        await consumer.seek_to_beginning(*partitions)
        self._ends = {
            tp: end for tp, end in (await consumer.end_offsets(partitions)).items() if end
        }
        if not self._ends:
            self.caught_up.set()

    async def stop(self) -> None:
        for client in (self._consumer, self._producer):
            if client is not None:
                await client.stop()

    async def run(self) -> None:
        """Read until cancelled, waking the page's streams after each batch."""
        assert self._consumer is not None
        while True:
            batches = await self._consumer.getmany(timeout_ms=500, max_records=2000)
            for tp, records in batches.items():
                for record in records:
                    self._apply(tp.topic, record.value)
            # The position, not the last record's offset: a topic written with transactions
            # ends in a commit marker that is never returned as a record.
            for tp, end in list(self._ends.items()):
                if await self._consumer.position(tp) >= end:
                    del self._ends[tp]
            if not self._ends and not self.caught_up.is_set():
                self.caught_up.set()
                log.info("desk.caught_up", handoffs=len(self.board.items))
            if batches:
                await self.notify()

    async def publish(self, topic: str, key: str, record: Any) -> None:
        """Publish one record and wait for the broker's acknowledgement."""
        assert self._producer is not None
        await self._producer.send_and_wait(
            self.topics.name(topic), value=encode(record), key=key.encode()
        )

    async def notify(self) -> None:
        async with self.changed:
            self.changed.notify_all()

    def _apply(self, topic_name: str, raw: bytes | None) -> None:
        key = self._by_name[topic_name]
        model, land = INPUTS[key]
        try:
            record = decode(raw, model, max_bytes=MAX_RECORD_BYTES)
        except Rejected as exc:
            SKIPPED.labels(key, exc.reason).inc()
            log.warning("desk.skipped", topic=key, reason=exc.reason, error=exc.error)
            return
        land(self.board, record)
