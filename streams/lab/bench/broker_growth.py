"""How the embedded broker's request cost grows with the records it holds (for the soak).

The 30-minute soak collapsed on the embedded broker (Tansu, memory only: no retention, no
DeleteRecords) while the broker's CPU rose and the worker's fell. This measures the broker
alone, with no worker: one single-partition topic is filled in steps with records like the
soak's (small batches of 300-byte values), and at each step a probe times a produce of one
record plus the fetch that reads it back, from a consumer positioned at the end:

    python -m warmhandoff.streams.lab.bench.broker_growth --steps 0,20000,40000 [--json]

A broker whose cost does not depend on what it holds gives the same round trip at every step.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient, NewTopic

from warmhandoff.streams.runtime.broker import EmbeddedBroker

TOPIC = "broker-growth"
VALUE = b"x" * 300


async def round_trip_ms(bootstrap: str, tp: TopicPartition, probes: int) -> float:
    """Mean milliseconds to produce one record and fetch it back from the partition's end."""
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, linger_ms=0)
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, fetch_max_wait_ms=5)
    await producer.start()
    await consumer.start()
    try:
        consumer.assign([tp])
        await consumer.seek_to_end(tp)
        started = time.perf_counter()
        for _ in range(probes):
            await producer.send_and_wait(tp.topic, VALUE, partition=tp.partition)
            while not await consumer.getmany(tp, timeout_ms=100):
                pass
        return (time.perf_counter() - started) / probes * 1000
    finally:
        await consumer.stop()
        await producer.stop()


async def measure(steps: Sequence[int], batch: int, probes: int) -> list[dict[str, float]]:
    """Round trip at each step of records held, on a fresh embedded broker."""
    rows: list[dict[str, float]] = []
    with tempfile.TemporaryDirectory() as tmp:
        async with EmbeddedBroker(data_dir=Path(tmp)) as broker:
            admin = AIOKafkaAdminClient(bootstrap_servers=broker.bootstrap)
            await admin.start()
            try:
                await admin.create_topics([NewTopic(TOPIC, 1, 1)])
            finally:
                await admin.close()
            tp = TopicPartition(TOPIC, 0)
            producer = AIOKafkaProducer(bootstrap_servers=broker.bootstrap, linger_ms=0)
            await producer.start()
            held = 0
            try:
                for step in sorted(steps):
                    while held < step:
                        sends = [
                            await producer.send(TOPIC, VALUE, partition=0) for _ in range(batch)
                        ]
                        await asyncio.gather(*sends)
                        held += batch
                    ms = await round_trip_ms(broker.bootstrap, tp, probes)
                    rows.append({"records_held": held, "round_trip_ms": round(ms, 2)})
                    sys.stderr.write(f"{held:>8} records held: round trip {ms:.2f} ms\n")
            finally:
                await producer.stop()
    return rows


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m warmhandoff.streams.lab.bench.broker_growth")
    parser.add_argument("--steps", default="0,20000,40000", help="records held, comma-separated")
    parser.add_argument("--batch", type=int, default=5, help="records per fill batch")
    parser.add_argument("--probes", type=int, default=200, help="round trips per step")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    args = parser.parse_args(argv)
    try:
        steps = [int(s) for s in args.steps.split(",") if s.strip()]
    except ValueError:
        parser.error("--steps takes whole numbers separated by commas")
    if not steps or min(steps) < 0 or args.batch < 1 or args.probes < 1:
        parser.error("--steps must be >= 0; --batch and --probes >= 1")
    from warmhandoff.streams.runtime.logs import configure_logging

    configure_logging("WARNING")  # logs to stderr: stdout carries the result only
    rows = asyncio.run(measure(steps, args.batch, args.probes))
    if args.json:
        sys.stdout.write(json.dumps({"steps": rows}) + "\n")
    else:
        for row in rows:
            sys.stdout.write(f"{row['records_held']:>8.0f}  {row['round_trip_ms']:.2f} ms\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
