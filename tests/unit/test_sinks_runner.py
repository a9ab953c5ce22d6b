"""The sink runner's settling of one record, without Kafka: events, dead letters, metrics."""

from __future__ import annotations

import asyncio
import base64
import random
from dataclasses import dataclass
from datetime import UTC, datetime

import orjson
import pytest
from aiokafka import TopicPartition
from aiokafka.errors import NotLeaderForPartitionError, TopicAuthorizationFailedError

from warmhandoff.streams.config.sink import SinkSettings
from warmhandoff.streams.contract.models import HandoffEvent, HandoffEventType, HandoffRequest
from warmhandoff.streams.contract.topics import load_topics
from warmhandoff.streams.core.codec import encode
from warmhandoff.streams.runtime import metrics
from warmhandoff.streams.services import sink as sink_service
from warmhandoff.streams.services.sink import SinkRunner, Stopping
from warmhandoff.streams.sinks.base import DeliveryResult, event_id
from warmhandoff.streams.sinks.exceptions import (
    DeliveryError,
    PermanentDeliveryError,
    TransientDeliveryError,
)
from warmhandoff.streams.sinks.retry import RetryPolicy

from ..sinkdata import handoff_request

pytestmark = pytest.mark.timeout(30)

NOW = datetime(2026, 11, 25, 16, 5, tzinfo=UTC)
POLICY = RetryPolicy(attempts=3, base_seconds=0.001, cap_seconds=0.002)


@dataclass
class Record:
    value: bytes | None
    key: bytes | None = b"c-1042"
    topic: str = "handoff.requests"
    partition: int = 3
    offset: int = 41


class FakeSink:
    """A sink whose attempts fail with the given errors, then succeed."""

    kind = "fake"

    def __init__(self, *errors: DeliveryError) -> None:
        self.errors = list(errors)
        self.delivered: list[HandoffRequest] = []
        self.attempted = asyncio.Event()

    async def start(self) -> None:
        return None

    async def close(self) -> None:
        return None

    async def deliver(self, request: HandoffRequest) -> DeliveryResult:
        self.attempted.set()
        if self.errors:
            raise self.errors.pop(0)
        self.delivered.append(request)
        return DeliveryResult(reference="x", created=True)


def runner(sink: FakeSink) -> SinkRunner:
    topics = load_topics(prefix="t.", app_id="wh")
    return SinkRunner(
        sink, SinkSettings(), topics, policy=POLICY, rng=random.Random(3), clock=lambda: NOW
    )


def sample(name: str, labels: dict[str, str]) -> float:
    return metrics.REGISTRY.get_sample_value(name, labels) or 0.0


def down() -> TransientDeliveryError:
    return TransientDeliveryError("webhook: HTTP 503", reason="unavailable")


async def test_a_delivered_handoff_reports_one_deterministic_event() -> None:
    sink = FakeSink(down())
    before = sample("warmhandoff_sink_deliveries_total", {"sink": "fake"})
    request = handoff_request()
    outputs = await runner(sink).settle(Record(encode(request)))
    (out,) = outputs
    assert out.topic == "handoff.events" and out.key == b"c-1042"
    event = HandoffEvent.model_validate_json(out.value)
    assert event.type == "delivered" and event.source == "sink:fake"
    assert event.handoff_id == request.handoff_id and event.queue == "billing"
    assert event.ts == NOW
    again = await runner(FakeSink()).settle(Record(encode(request)))
    assert again == outputs  # a redelivered record reports the very same event
    assert sample("warmhandoff_sink_deliveries_total", {"sink": "fake"}) == before + 2
    assert sink.delivered == [request]


async def test_event_ids_differ_by_outcome_kind_and_route_only() -> None:
    request = handoff_request()
    ids = {
        event_id(request, "webhook", HandoffEventType.delivered),
        event_id(request, "webhook", HandoffEventType.failed),
        event_id(request, "file", HandoffEventType.delivered),
        event_id(handoff_request(queue="retention"), "webhook", HandoffEventType.delivered),
    }
    assert len(ids) == 4
    assert event_id(handoff_request(), "webhook", HandoffEventType.delivered) in ids


async def test_a_receiver_down_past_the_budget_fails_and_dead_letters() -> None:
    sink = FakeSink(*(down() for _ in range(POLICY.attempts)))
    labels = {"sink": "fake", "reason": "unavailable"}
    before = sample("warmhandoff_sink_failures_total", labels)
    request = handoff_request()
    raw = encode(request)
    event_out, letter_out = await runner(sink).settle(Record(raw))
    event = HandoffEvent.model_validate_json(event_out.value)
    assert event.type == "failed" and event.reason == "webhook: HTTP 503"
    letter = orjson.loads(letter_out.value)
    assert letter_out.topic == "deadletter" and letter_out.key == b"c-1042"
    assert letter["reason"] == "delivery_failed" and letter["stage"] == "sink:fake"
    assert letter["error"] == "webhook: HTTP 503 (gave up after 3 attempts)"
    assert (letter["partition"], letter["offset"]) == (3, 41)
    assert orjson.loads(base64.b64decode(letter["value_b64"]))["handoff_id"] == request.handoff_id
    assert sample("warmhandoff_sink_failures_total", labels) == before + 1
    assert sink.delivered == []


async def test_a_refusal_fails_at_once() -> None:
    sink = FakeSink(PermanentDeliveryError("webhook: HTTP 400", reason="rejected"), down())
    event_out, letter_out = await runner(sink).settle(Record(encode(handoff_request())))
    assert HandoffEvent.model_validate_json(event_out.value).type == "failed"
    assert orjson.loads(letter_out.value)["error"].endswith("(gave up after 1 attempt)")
    assert len(sink.errors) == 1  # the second error was never reached


@pytest.mark.parametrize(
    ("value", "reason"),
    [(b"not json", "not_json"), (b'{"handoff_id": "h"}', "invalid"), (None, "empty")],
)
async def test_an_undecodable_record_is_dead_lettered_with_the_reason(
    value: bytes | None, reason: str
) -> None:
    labels = {"reason": reason, "stage": "sink:fake"}
    before = sample("warmhandoff_dead_letters_total", labels)
    (out,) = await runner(FakeSink()).settle(Record(value))
    assert out.topic == "deadletter" and orjson.loads(out.value)["reason"] == reason
    assert sample("warmhandoff_dead_letters_total", labels) == before + 1


async def test_stop_during_a_retry_wait_leaves_the_record_unsettled() -> None:
    slow = RetryPolicy(attempts=3, base_seconds=60, cap_seconds=60)
    topics = load_topics(prefix="t.", app_id="wh")
    sink = FakeSink(down(), down())
    r = SinkRunner(
        sink, SinkSettings(), topics, policy=slow, rng=random.Random(1), clock=lambda: NOW
    )
    task = asyncio.create_task(r.settle(Record(encode(handoff_request()))))
    await asyncio.wait_for(sink.attempted.wait(), 5)  # the first attempt failed: now waiting
    assert r.readiness() is not None  # not joined to a group in this test
    r.stop()
    with pytest.raises(Stopping):
        await asyncio.wait_for(task, 5)
    assert r.readiness() == "stopping"


class FlakyProducer:
    """A producer whose first sends fail with the given Kafka errors, then succeed."""

    def __init__(self, *errors: Exception) -> None:
        self.errors = list(errors)
        self.sent: list[str] = []

    async def send_and_wait(self, topic: str, value: bytes, key: bytes | None = None) -> None:
        if self.errors:
            raise self.errors.pop(0)
        self.sent.append(topic)


class OneConsumer:
    """A consumer assigned one partition that records its commits."""

    def __init__(self, tp: TopicPartition) -> None:
        self.tp = tp
        self.commits: list[dict[TopicPartition, int]] = []

    def assignment(self) -> set[TopicPartition]:
        return {self.tp}

    async def commit(self, offsets: dict[TopicPartition, int]) -> None:
        self.commits.append(offsets)


async def test_a_leader_change_while_publishing_leaves_the_record_for_another_settle(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(sink_service, "PUBLISH_RETRY_SECONDS", 0.001)
    sink = FakeSink()
    r = runner(sink)
    tp = TopicPartition("t.handoff.requests", 3)
    consumer, producer = OneConsumer(tp), FlakyProducer(NotLeaderForPartitionError())
    record = Record(encode(handoff_request()))
    # The retriable error: nothing committed, the runner asks for the record again.
    assert not await r._handle(consumer, producer, tp, record)
    assert consumer.commits == [] and producer.sent == []
    # Settled again: delivered (the receiver deduplicates) and committed this time.
    assert await r._handle(consumer, producer, tp, record)
    assert producer.sent == ["t.handoff.events"]
    assert consumer.commits == [{tp: 42}]
    assert len(sink.delivered) == 2


async def test_a_kafka_error_that_will_not_pass_stops_the_sink() -> None:
    r = runner(FakeSink())
    tp = TopicPartition("t.handoff.requests", 3)
    consumer, producer = OneConsumer(tp), FlakyProducer(TopicAuthorizationFailedError())
    with pytest.raises(TopicAuthorizationFailedError):
        await r._handle(consumer, producer, tp, Record(encode(handoff_request())))
    assert consumer.commits == []
