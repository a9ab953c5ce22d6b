"""The broker behaviour behind the worker's embedded-broker-only workarounds, shown on the run's
test broker; the test ids name it: `kafka` (Apache Kafka), `embedded` (Tansu) or `external`.

The worker finds the embedded broker by its cluster id at start
(streams/services/worker/process.py) and adapts to two of its differences:

- A fetch waiting for records: Apache Kafka answers it when a record arrives; the embedded
  broker looks only after half the wait. So only there is the worker's fetch wait lowered
  (streams/runtime/transport.py).
- The end offset after a batch of several records: Apache Kafka reports it right; the embedded
  broker reports the batch's first offset + 1. So only there is Faust's recovery check off.

The transport's other workarounds fix Faust's own bookkeeping, the same on every broker: their
tests are tests/unit/test_transport.py and, on the run's test broker, the fault suite.
"""

from __future__ import annotations

import asyncio
import time

import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient, NewTopic

from warmhandoff.streams.config.connection import aiokafka_kwargs
from warmhandoff.streams.config.worker import WorkerSettings
from warmhandoff.streams.runtime.broker import cluster_id, is_embedded
from warmhandoff.streams.runtime.transport import fetch_wait_ms

from ..conftest import TEST_BROKER

pytestmark = [pytest.mark.integration, pytest.mark.timeout(120)]

#: Long enough that a fetch answered on arrival and one answered later cannot be confused.
FETCH_WAIT_MS = 8000


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """Every test here takes `broker_kind`, so its id names the broker it ran on."""
    if "broker_kind" in metafunc.fixturenames:
        kind = metafunc.config.stash[TEST_BROKER].kind
        metafunc.parametrize("broker_kind", [kind], ids=[kind])


@pytest.fixture
def worker_settings(kafka_bootstrap: str, topic_prefix: str) -> WorkerSettings:
    return WorkerSettings(bootstrap_servers=kafka_bootstrap, topic_prefix=topic_prefix)


async def embedded_broker(settings: WorkerSettings) -> bool:
    """What the worker decides at start: is this the embedded broker?"""
    return is_embedded(await cluster_id(settings))


async def new_topic(settings: WorkerSettings, name: str) -> TopicPartition:
    admin = AIOKafkaAdminClient(**aiokafka_kwargs(settings))
    await admin.start()
    try:
        await admin.create_topics([NewTopic(name, 1, 1)])

        async def led() -> bool:
            described = await admin.describe_topics([name])
            parts = described[0]["partitions"] if described else []
            return bool(parts) and all(p["leader"] >= 0 for p in parts)

        deadline = time.monotonic() + 30
        while not await led():
            assert time.monotonic() < deadline, f"topic {name} has no leader within 30 s"
            await asyncio.sleep(0.1)
    finally:
        await admin.close()
    return TopicPartition(name, 0)


async def test_the_worker_lowers_its_fetch_wait_only_where_a_fetch_is_not_answered_on_arrival(
    broker_kind: str, worker_settings: WorkerSettings, topic_prefix: str
) -> None:
    """A record produced while a fetch waits: Apache Kafka answers at once; the embedded broker
    looks for records only after half the wait (then half of what is left), so Faust's wait
    delayed every turn there. The worker lowers its fetch wait exactly where the broker does
    not answer on arrival; elsewhere it keeps Faust's."""
    tp = await new_topic(worker_settings, f"{topic_prefix}fetch-wait")
    producer = AIOKafkaProducer(**aiokafka_kwargs(worker_settings))
    consumer = AIOKafkaConsumer(**aiokafka_kwargs(worker_settings), fetch_max_wait_ms=FETCH_WAIT_MS)
    await producer.start()
    await consumer.start()
    try:
        consumer.assign([tp])
        fetched = asyncio.create_task(consumer.getmany(tp, timeout_ms=3 * FETCH_WAIT_MS))
        # aiokafka's fetcher marks the broker in flight while a fetch is out (a private name,
        # read only to know when the fetch has been sent).
        deadline = time.monotonic() + 30
        while not consumer._fetcher._in_flight:
            assert time.monotonic() < deadline, "no fetch sent to the broker within 30 s"
            await asyncio.sleep(0.01)
        # The scenario, not synchronisation: the record arrives a while into the fetch's
        # wait, and well before the half of it where the embedded broker first looks.
        await asyncio.sleep(FETCH_WAIT_MS / 8000)
        await producer.send_and_wait(tp.topic, b"turn", partition=tp.partition)
        produced = time.monotonic()
        records = await fetched
        waited = time.monotonic() - produced
    finally:
        await consumer.stop()
        await producer.stop()
    assert [r.value for r in records.get(tp, [])] == [b"turn"]
    # Milliseconds on arrival against seconds otherwise: a bound a busy machine cannot blur.
    on_arrival = waited < FETCH_WAIT_MS / 8000
    lowered = fetch_wait_ms(None, embedded=await embedded_broker(worker_settings)) is not None
    assert lowered != on_arrival, (
        f"{broker_kind}: the record came {waited:.2f} s after it was produced, but the worker "
        f"{'lowers' if lowered else 'keeps'} its fetch wait"
    )


async def test_the_recovery_check_is_on_where_the_end_offset_of_a_batch_is_right(
    broker_kind: str, worker_settings: WorkerSettings, topic_prefix: str
) -> None:
    """Five records in one batch: Apache Kafka's end offset is 5; the embedded broker's is 1,
    and Faust's recovery check then refuses a table whose local offset is past it. The worker
    keeps the check on exactly where the end offset is right (`recovery_consistency_check`
    auto)."""
    tp = await new_topic(worker_settings, f"{topic_prefix}end-offset")
    producer = AIOKafkaProducer(**aiokafka_kwargs(worker_settings))
    await producer.start()
    try:
        batch = producer.create_batch()
        for n in range(5):
            assert batch.append(key=None, value=b"%d" % n, timestamp=None) is not None
        await (await producer.send_batch(batch, tp.topic, partition=tp.partition))
    finally:
        await producer.stop()
    reader = AIOKafkaConsumer(**aiokafka_kwargs(worker_settings))
    await reader.start()
    try:
        end = (await reader.end_offsets([tp]))[tp]
    finally:
        await reader.stop()
    check_on = not await embedded_broker(worker_settings)
    assert check_on == (end == 5), (
        f"{broker_kind}: end offset {end} after 5 records in one batch, but the worker's "
        f"recovery check is {'on' if check_on else 'off'}"
    )
