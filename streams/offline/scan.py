"""The consumer `audit` and `report --from-topics` read topics with: no group, bounded start.

It commits nothing and joins no consumer group, so reading disturbs no one. Starting it waits
at most `CONNECT_TIMEOUT_SECONDS`; when no broker answers, or the client fails while reading,
the error is a one-line `BrokerUnavailableError` (as `warmhandoff topics` reports it).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from aiokafka import AIOKafkaConsumer
from aiokafka.errors import KafkaError

from warmhandoff.streams.config.connection import ConnectionSettings, aiokafka_kwargs
from warmhandoff.streams.contract.errors import BrokerUnavailableError

CONNECT_TIMEOUT_SECONDS = 15.0


@asynccontextmanager
async def scanning_consumer(settings: ConnectionSettings) -> AsyncIterator[AIOKafkaConsumer]:
    """A started consumer with no group; `BrokerUnavailableError` when the broker fails."""
    # earliest: with the default (latest) a fetch that starts before a seek can put the
    # position at the end, and a scan then returns nothing.
    consumer = AIOKafkaConsumer(
        **aiokafka_kwargs(settings),
        enable_auto_commit=False,
        auto_offset_reset="earliest",
        request_timeout_ms=int(CONNECT_TIMEOUT_SECONDS * 1000),
    )
    try:
        async with asyncio.timeout(CONNECT_TIMEOUT_SECONDS):
            await consumer.start()
    except (KafkaError, OSError, TimeoutError) as exc:
        await consumer.stop()
        raise BrokerUnavailableError(
            f"no Kafka broker answers at {settings.bootstrap_servers} ({type(exc).__name__}): "
            "start one with `warmhandoff broker` or set WARMHANDOFF_BOOTSTRAP_SERVERS"
        ) from None
    try:
        yield consumer
    except (KafkaError, OSError) as exc:
        raise BrokerUnavailableError(
            f"reading from the broker at {settings.bootstrap_servers} failed: "
            f"{type(exc).__name__} {exc}"
        ) from None
    finally:
        await consumer.stop()


async def topic_partitions(consumer: AIOKafkaConsumer) -> dict[str, set[int]]:
    """Every topic the broker shows, with its partitions, from one fresh metadata request.

    `consumer.topics()` makes the same request but keeps only the names, and
    `partitions_for_topic` reads the client's cache, which holds only the topics a metadata
    request has named: Apache Kafka answers the client's bootstrap request (an empty topic
    list) with no topics at all, where the embedded broker lists every topic.
    """
    cluster = await consumer._client.fetch_all_metadata()
    return {topic: cluster.partitions_for_topic(topic) or set() for topic in cluster.topics()}
