"""`warmhandoff sink KIND`: consume handoff requests, deliver each, report the outcome.

Input: `handoff.requests` (key conversation_id), consumer group `<app id>-sink-<kind>`, so each
kind reads every handoff once and kinds do not share offsets. Outputs: `handoff.events` (a
`delivered` or `failed` event, key conversation_id, deterministic event_id) and `deadletter`
(undecodable records, and handoffs the receiver refused or that ran out of attempts).
Records are handled one at a time in partition order, and an offset is committed only once
its record is settled (delivered, or failed and dead-lettered), so a crash or a restart
redelivers at most the record in flight: at-least-once, with the receiver deduplicating on
the handoff_id. SIGTERM stops consuming, lets the attempt in flight finish, commits what is
settled and exits 0; a record still waiting for a retry is left for the next owner.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Protocol

import structlog
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, ConsumerRebalanceListener, TopicPartition
from aiokafka.errors import CommitFailedError, IllegalStateError, KafkaError

from warmhandoff.streams.config.connection import aiokafka_kwargs
from warmhandoff.streams.config.sink import SinkSettings
from warmhandoff.streams.contract.errors import WarmhandoffError
from warmhandoff.streams.contract.models import HandoffEventType, HandoffRequest
from warmhandoff.streams.contract.topics import Topics
from warmhandoff.streams.core.codec import Rejected, dead_letter, decode, encode
from warmhandoff.streams.runtime import metrics
from warmhandoff.streams.services.startup import begin, run_service, serve
from warmhandoff.streams.sinks.base import Sink, outcome_event, source
from warmhandoff.streams.sinks.exceptions import DeliveryError, TransientDeliveryError
from warmhandoff.streams.sinks.factory import build_sink
from warmhandoff.streams.sinks.retry import RetryPolicy, with_retries

log = structlog.get_logger(__name__)

#: Larger handoff requests are dead-lettered (a bundle holds at most a few hundred KB).
MAX_REQUEST_BYTES = 4 * 1024 * 1024
POLL_TIMEOUT_MS = 500
BATCH = 20
#: Wait before settling a record again when publishing its outcome hit a retriable error.
PUBLISH_RETRY_SECONDS = 1.0


class Record(Protocol):
    """What the runner needs of a consumed record (aiokafka's ConsumerRecord has it)."""

    topic: str
    partition: int
    offset: int
    key: bytes | None
    value: bytes | None


@dataclass(frozen=True, slots=True)
class Output:
    """A record to publish: logical topic, key, value."""

    topic: str
    key: bytes | None
    value: bytes


class Stopping(Exception):
    """Stop was asked while a delivery waited for its next attempt."""


class SinkRunner:
    """Settles handoff requests through one sink; `run` wires it to Kafka."""

    def __init__(
        self,
        sink: Sink,
        settings: SinkSettings,
        topics: Topics,
        *,
        policy: RetryPolicy,
        rng: random.Random | None = None,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.sink = sink
        self.settings = settings
        self.topics = topics
        self.policy = policy
        self.rng = rng or random.Random()
        self.clock = clock
        self.stage = source(sink.kind)
        self.group_id = f"{topics.faust_app_id}-sink-{sink.kind}"
        self._stop = asyncio.Event()
        self._joined = False

    def stop(self) -> None:
        """Ask the runner to stop after the attempt in flight."""
        self._stop.set()

    def readiness(self) -> str | None:
        """None when consuming; otherwise why not (for /readyz)."""
        if self._stop.is_set():
            return "stopping"
        if not self._joined:
            return f"joining consumer group {self.group_id}"
        return None

    async def settle(self, record: Record) -> list[Output]:
        """Decode and deliver one record; the events and dead letters that settle it.

        Raises `Stopping` when stop is asked during a retry wait (the record is not settled).
        """
        try:
            request = decode(record.value, HandoffRequest, max_bytes=MAX_REQUEST_BYTES)
        except Rejected as rejected:
            metrics.DEAD_LETTERS.labels(rejected.reason, self.stage).inc()
            log.warning("sink.rejected", reason=rejected.reason, offset=record.offset)
            return [self._dead_letter(record, rejected)]
        with structlog.contextvars.bound_contextvars(
            handoff_id=request.handoff_id, sink=self.sink.kind
        ):
            return await self._deliver(record, request)

    async def _deliver(self, record: Record, request: HandoffRequest) -> list[Output]:
        key = request.conversation_id.encode()
        try:
            result = await with_retries(
                lambda: self.sink.deliver(request),
                self.policy,
                rng=self.rng,
                sleep=self._sleep,
                on_retry=_log_retry,
            )
        except DeliveryError as error:
            # A transient error only escapes the retries once the attempts are used up.
            spent = self.policy.attempts if isinstance(error, TransientDeliveryError) else 1
            metrics.SINK_FAILURES.labels(self.sink.kind, error.reason).inc()
            metrics.DEAD_LETTERS.labels("delivery_failed", self.stage).inc()
            log.warning("sink.failed", reason=error.reason, error=str(error), attempts=spent)
            now = self.clock()
            failed = outcome_event(
                request, self.sink.kind, HandoffEventType.failed, now=now, reason=str(error)
            )
            detail = f"{error} (gave up after {spent} attempt{'s' if spent > 1 else ''})"
            return [
                Output("handoff.events", key, encode(failed)),
                self._dead_letter(record, Rejected("delivery_failed", detail)),
            ]
        metrics.SINK_DELIVERIES.labels(self.sink.kind).inc()
        log.info("sink.delivered", created=result.created, queue=request.routing.queue)
        delivered = outcome_event(
            request, self.sink.kind, HandoffEventType.delivered, now=self.clock()
        )
        return [Output("handoff.events", key, encode(delivered))]

    async def _sleep(self, seconds: float) -> None:
        """Wait before a retry, unless stop is asked meanwhile."""
        try:
            await asyncio.wait_for(self._stop.wait(), timeout=seconds)
        except TimeoutError:
            return
        raise Stopping

    def _dead_letter(self, record: Record, rejected: Rejected) -> Output:
        letter = dead_letter(
            rejected,
            stage=self.stage,
            topic=record.topic,
            partition=record.partition,
            offset=record.offset,
            key=record.key,
            value=record.value,
            now=self.clock(),
        )
        return Output("deadletter", record.key, encode(letter))

    # --- Kafka ----------------------------------------------------------------------------

    async def serve(self) -> None:
        """Open the sink, consume until `stop()`, close the sink."""
        await self.sink.start()
        log.info("sink.starting", kind=self.sink.kind, group=self.group_id)
        try:
            await self.run()
        except KafkaError as exc:
            raise WarmhandoffError(f"sink {self.sink.kind}: Kafka: {exc}") from None
        finally:
            await self.sink.close()
        log.info("sink.stopped", kind=self.sink.kind)

    async def run(self) -> None:
        """Consume until `stop()`; commit each record once it is settled."""
        producer = AIOKafkaProducer(
            **aiokafka_kwargs(self.settings),
            acks="all",
            client_id=f"{self.group_id}-producer",
        )
        # The longest a delivery may hold the partition, plus a margin: a slow receiver must
        # not get this consumer thrown out of its group mid-delivery.
        busy = self.policy.worst_case_seconds(self.settings.sink_timeout_seconds * 4)
        consumer = AIOKafkaConsumer(
            **aiokafka_kwargs(self.settings),
            group_id=self.group_id,
            client_id=f"{self.group_id}-consumer",
            enable_auto_commit=False,
            auto_offset_reset="earliest",
            max_poll_interval_ms=int((busy + 60) * 1000),
            rebalance_timeout_ms=int(self.settings.rebalance_timeout_seconds * 1000),
        )
        consumer.subscribe([self.topics.name("handoff.requests")], listener=_Joined(self))
        await producer.start()
        try:
            await consumer.start()
            try:
                await self._consume(consumer, producer)
            finally:
                await consumer.stop()
        finally:
            await producer.stop()

    async def _consume(self, consumer: AIOKafkaConsumer, producer: AIOKafkaProducer) -> None:
        while not self._stop.is_set():
            batches = await consumer.getmany(timeout_ms=POLL_TIMEOUT_MS, max_records=BATCH)
            for tp, records in batches.items():
                for record in records:
                    if not await self._handle(consumer, producer, tp, record):
                        if tp in consumer.assignment():  # fetch it again: it is not settled
                            consumer.seek(tp, record.offset)
                        break

    async def _handle(
        self,
        consumer: AIOKafkaConsumer,
        producer: AIOKafkaProducer,
        tp: TopicPartition,
        record: Record,
    ) -> bool:
        """Settle, publish and commit one record; False when it was left unsettled."""
        if self._stop.is_set() or tp not in consumer.assignment():
            return False
        try:
            outputs = await self.settle(record)
        except Stopping:
            return False
        try:
            for out in outputs:
                await producer.send_and_wait(self.topics.name(out.topic), out.value, key=out.key)
        except KafkaError as exc:
            if not exc.retriable:
                raise
            # A leader moved (a broker restarting, say): settle the record again once the
            # client caught up; the receiver deduplicates on handoff_id.
            log.warning("sink.publish_failed", error=type(exc).__name__, partition=tp.partition)
            with contextlib.suppress(Stopping):
                await self._sleep(PUBLISH_RETRY_SECONDS)
            return False
        try:
            await consumer.commit({tp: record.offset + 1})
        except (CommitFailedError, IllegalStateError) as exc:
            # The partition moved to another consumer: it redelivers, the receiver dedupes.
            log.warning("sink.commit_failed", error=type(exc).__name__, partition=tp.partition)
            return False
        return True


class _Joined(ConsumerRebalanceListener):  # type: ignore[misc]
    """Marks the runner ready once the group gave it an assignment (possibly empty)."""

    def __init__(self, runner: SinkRunner) -> None:
        self.runner = runner

    async def on_partitions_revoked(self, revoked: set[TopicPartition]) -> None:
        log.info("sink.partitions_revoked", count=len(revoked))

    async def on_partitions_assigned(self, assigned: set[TopicPartition]) -> None:
        self.runner._joined = True
        log.info("sink.partitions_assigned", count=len(assigned))


def _log_retry(attempt: int, error: TransientDeliveryError, wait: float) -> None:
    log.info("sink.retrying", attempt=attempt, reason=error.reason, wait_seconds=round(wait, 3))


def run_sink(settings: SinkSettings, kind: str) -> int:
    """Run one sink kind in the foreground until SIGTERM or SIGINT; the exit status."""
    sink = build_sink(kind, settings)
    topics = begin(settings)
    policy = RetryPolicy(
        attempts=settings.sink_retry_attempts,
        base_seconds=settings.sink_backoff_base_seconds,
        cap_seconds=settings.sink_backoff_cap_seconds,
    )
    runner = SinkRunner(sink, settings, topics, policy=policy)
    return run_service(
        lambda: serve(
            settings, topics, run=runner.serve, stop=runner.stop, readiness=runner.readiness
        )
    )
