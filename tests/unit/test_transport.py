"""The worker's Faust transport: Faust's aiokafka driver with the fetch wait from settings."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from faust.types import TP

from warmhandoff.streams import transport
from warmhandoff.streams.app import Pipeline
from warmhandoff.streams.policy import load_policy
from warmhandoff.streams.settings import Settings
from warmhandoff.streams.topics import load_topics


def test_the_worker_consumer_uses_the_configured_fetch_wait(tmp_path: Path) -> None:
    settings = Settings(
        store="memory://", data_dir=tmp_path, web_port=0, fetch_max_wait_ms=35,
        bootstrap_servers="127.0.0.1:1;127.0.0.2:2".replace(";", ","),
    )  # fmt: skip
    pipeline = Pipeline(settings, load_topics(prefix="tr."), load_policy())
    app = pipeline.app
    assert str(app.conf.broker[0]).startswith(f"{transport.SCHEME}://")
    assert len(app.conf.broker) == 2
    assert isinstance(app.transport, transport.Transport)
    thread = app.consumer._new_consumer_thread()
    assert isinstance(thread, transport.ConsumerThread)
    assert thread.fetch_max_wait_ms == 35


async def test_the_created_aiokafka_consumer_waits_that_long(tmp_path: Path) -> None:
    settings = Settings(store="memory://", data_dir=tmp_path, web_port=0, fetch_max_wait_ms=35)
    app = Pipeline(settings, load_topics(prefix="tr."), load_policy()).app
    consumer = app.consumer._new_consumer_thread()._create_worker_consumer(app.transport)
    assert consumer._fetch_max_wait_ms == 35


# --- the two rebalance fixes (streams/transport.py, Consumer) ------------------------------


def worker_consumer(tmp_path: Path, monkeypatch: Any) -> tuple[transport.Consumer, TP, TP]:
    """The worker's consumer, not started, assigned one turns and one changelog partition."""
    settings = Settings(store="memory://", data_dir=tmp_path, web_port=0)
    pipeline = Pipeline(settings, load_topics(prefix="rb."), load_policy())
    consumer = pipeline.app.consumer
    assert isinstance(consumer, transport.Consumer)
    turns = TP(pipeline.turns_topic.get_topic_name(), 3)
    changelog = TP(pipeline.conversations.changelog_topic.get_topic_name(), 3)
    monkeypatch.setattr(consumer, "assignment", lambda: {turns, changelog})
    return consumer, turns, changelog


async def test_a_stream_partition_is_not_fetched_before_its_seek(
    tmp_path: Path, monkeypatch: Any
) -> None:
    """Faust's recovery resumes stream partitions before it seeks them to their committed
    offsets; a batch read from the old fetch position in between skipped turns for good."""
    consumer, turns, changelog = worker_consumer(tmp_path, monkeypatch)
    sought: list[set[TP]] = []

    async def seek_to_committed() -> dict[TP, int]:
        sought.append(set(consumer._get_active_partitions()))
        return {turns: 116}

    monkeypatch.setattr(consumer, "seek_to_committed", seek_to_committed)
    await consumer.on_partitions_assigned({turns, changelog}, generation_id=1)
    consumer.pause_partitions({turns, changelog})
    consumer.resume_partitions({turns, changelog})  # what recovery does before the seek
    assert changelog in consumer._get_active_partitions()  # recovery reads changelogs
    assert turns not in consumer._get_active_partitions()
    await consumer.perform_seek()
    assert sought == [{changelog}]  # nothing fetched from the turns partition before
    assert turns in consumer._get_active_partitions()
    assert consumer._read_offset[turns] == 116
    # Once sought, pausing and resuming (flow control) works as Faust's does.
    consumer.pause_partitions({turns})
    consumer.resume_partitions({turns})
    assert turns in consumer._get_active_partitions()


async def test_a_commit_the_broker_refused_is_retried(tmp_path: Path, monkeypatch: Any) -> None:
    """Faust records a refused commit as done; with no further record on the partition its
    lag never drained. Refused once, the same offset is committed on the next try."""
    consumer, turns, _ = worker_consumer(tmp_path, monkeypatch)
    consumer._committed_offset[turns] = 100
    for offset in range(100, 110):
        consumer._acked_index[turns].add(offset)
        consumer._acked[turns].append(offset)
    answers = [False, True]
    commits: list[dict[TP, int]] = []

    async def commit(offsets: dict[TP, int]) -> bool:
        commits.append(dict(offsets))
        return answers.pop(0)

    async def flush() -> None:
        return None

    monkeypatch.setattr(consumer, "_commit", commit)
    monkeypatch.setattr(consumer.app.producer, "flush", flush)
    assert await consumer.force_commit() is False
    assert consumer._committed_offset[turns] == 100  # Faust alone would say 110
    assert await consumer.force_commit() is True
    assert commits == [{turns: 110}, {turns: 110}]
    assert consumer._committed_offset[turns] == 110
