"""Faust's Kafka transport with the consumer's fetch wait made a setting.

Faust 0.15 hard-codes `fetch_max_wait_ms=1500` for its worker consumer. Real Kafka answers a
waiting fetch as soon as a record arrives, so the figure only bounds idle polling there; the
embedded broker (Tansu) holds the fetch for the whole wait even when records arrive, which
measured here as ~370 ms median delivery latency at 1500 ms, ~27 ms at 100 ms and ~3 ms at
10 ms (one record every 130 ms, one partition). The worker registers this transport under the
`whkafka://` scheme and sets the wait from `Settings.fetch_max_wait_ms`.
"""

from __future__ import annotations

from typing import Any, ClassVar

from faust.transport.drivers import TRANSPORTS
from faust.transport.drivers import aiokafka as faust_aiokafka

SCHEME = "whkafka"


class ConsumerThread(faust_aiokafka.AIOKafkaConsumerThread):
    """The worker's consumer thread, with the fetch wait taken from `configure`."""

    fetch_max_wait_ms: ClassVar[int] = 1500

    def _create_worker_consumer(self, transport: Any) -> Any:
        consumer = super()._create_worker_consumer(transport)
        # aiokafka reads the attribute when it starts its fetcher, which happens after this.
        consumer._fetch_max_wait_ms = self.fetch_max_wait_ms
        return consumer


class Consumer(faust_aiokafka.Consumer):
    """Faust's aiokafka consumer using `ConsumerThread`."""

    def _new_consumer_thread(self) -> Any:
        return ConsumerThread(self, loop=self.loop, beacon=self.beacon)


class Transport(faust_aiokafka.Transport):
    """Faust's aiokafka transport using `Consumer`."""

    Consumer = Consumer


# mode names a service's logger after the module that defines the class; keep Faust's names
# so these records stay under the `faust` logger (held at WARNING with the rest of Faust's).
for _cls in (ConsumerThread, Consumer, Transport):
    setattr(_cls, "logger", faust_aiokafka.logger)  # noqa: B010


def configure(fetch_max_wait_ms: int) -> str:
    """Register the transport with this wait; returns the URL scheme to use in `broker`."""
    ConsumerThread.fetch_max_wait_ms = fetch_max_wait_ms
    TRANSPORTS.aliases[SCHEME] = f"{__name__}:Transport"
    return SCHEME
