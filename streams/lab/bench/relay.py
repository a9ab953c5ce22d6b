"""The two baselines `warmhandoff bench` measures the pipeline against, each its own process.

- `aiokafka`: a bare consume → produce loop (batches from `getmany`, sends without awaiting
  each record, commits after every batch).
- `faust`: a bare Faust agent that forwards each event's key and value to the output topic,
  with the same fast-rebalance settings the pipeline uses so both join equally fast.

Both read `--source` from the earliest offset under their own group and write `--sink`;
neither decodes the JSON. Run as `python -m warmhandoff.streams.lab.bench.relay KIND ...`; the
bench sends SIGTERM when the backlog has been relayed.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import signal
import sys
from collections.abc import AsyncIterator, Sequence
from typing import Any

from warmhandoff.streams.config.connection import aiokafka_kwargs, load_settings
from warmhandoff.streams.config.worker import WorkerSettings
from warmhandoff.streams.runtime.faust_app import faust_broker_settings


async def aiokafka_relay(source: str, sink: str, group: str) -> None:
    """Relay until SIGTERM."""
    from aiokafka import AIOKafkaConsumer, AIOKafkaProducer

    kwargs = aiokafka_kwargs(load_settings(WorkerSettings))
    consumer = AIOKafkaConsumer(
        source,
        **kwargs,
        group_id=group,
        auto_offset_reset="earliest",
        enable_auto_commit=False,
        max_partition_fetch_bytes=4 << 20,
        fetch_max_wait_ms=20,
    )
    producer = AIOKafkaProducer(**kwargs, linger_ms=5, max_batch_size=1 << 20, acks=1)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    loop.add_signal_handler(signal.SIGTERM, stop.set)
    await producer.start()
    await consumer.start()
    try:
        while not stop.is_set():
            batches = await consumer.getmany(timeout_ms=100, max_records=5000)
            for records in batches.values():
                for msg in records:
                    await producer.send(sink, msg.value, key=msg.key)
            if batches:
                await consumer.commit()
    finally:
        await consumer.stop()
        await producer.stop()


def faust_relay(source: str, sink: str, group: str, datadir: str) -> int:
    """Run a bare Faust relay worker until SIGTERM; the exit status is returned."""
    import faust

    settings = load_settings(WorkerSettings)
    app = faust.App(
        group,
        **faust_broker_settings(settings),
        key_serializer="raw",
        value_serializer="raw",
        topic_allow_declare=False,
        topic_disable_leader=True,
        web_enabled=False,
        datadir=datadir,
        consumer_auto_offset_reset="earliest",
        broker_rebalance_timeout=settings.rebalance_timeout_seconds,
        broker_session_timeout=max(10.0, settings.rebalance_timeout_seconds * 2),
        broker_heartbeat_interval=1.0,
    )
    source_topic = app.topic(source, key_serializer="raw", value_serializer="raw", internal=False)
    sink_topic = app.topic(sink, key_serializer="raw", value_serializer="raw", internal=False)

    async def relay(stream: Any) -> AsyncIterator[None]:
        async for event in stream.events():
            await sink_topic.send(key=event.key, value=event.value)
            yield None

    app.agent(source_topic, name="relay")(relay)
    worker = faust.Worker(app, loglevel="warning", quiet=True, redirect_stdouts=False)
    worker.spinner = None
    try:
        worker.execute_from_commandline()
    except SystemExit as exc:
        return exc.code if isinstance(exc.code, int) else 1
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the relay process."""
    parser = argparse.ArgumentParser(prog="bench_relay")
    parser.add_argument("kind", choices=["aiokafka", "faust"])
    parser.add_argument("--source", required=True)
    parser.add_argument("--sink", required=True)
    parser.add_argument("--group", required=True)
    parser.add_argument("--datadir", default="bench-relay-data", help="Faust's data folder")
    args = parser.parse_args(argv)
    if args.kind == "faust":
        return faust_relay(args.source, args.sink, args.group, args.datadir)
    from warmhandoff.streams.services.startup import new_event_loop

    loop = new_event_loop()
    with contextlib.suppress(KeyboardInterrupt):
        loop.run_until_complete(aiokafka_relay(args.source, args.sink, args.group))
    loop.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
