"""The worker's Faust transport: the fetch wait, and input records delivered in offset order."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

from faust.types import TP

from warmhandoff.streams.config.worker import WorkerSettings
from warmhandoff.streams.contract.topics import load_topics
from warmhandoff.streams.policy import load_policy
from warmhandoff.streams.runtime import metrics, transport
from warmhandoff.streams.services.worker.app import Pipeline


def test_the_worker_consumer_uses_the_configured_fetch_wait(tmp_path: Path) -> None:
    settings = WorkerSettings(
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
    settings = WorkerSettings(
        store="memory://", data_dir=tmp_path, web_port=0, fetch_max_wait_ms=35
    )
    app = Pipeline(settings, load_topics(prefix="tr."), load_policy()).app
    consumer = app.consumer._new_consumer_thread()._create_worker_consumer(app.transport)
    assert consumer._fetch_max_wait_ms == 35


def test_the_fetch_wait_is_lowered_on_the_embedded_broker_only() -> None:
    """Unset, the wait is lowered where the broker looks for records only after half of it
    (tests/integration/test_consumer_workarounds.py shows which broker that is); set, it is
    the setting on any broker."""
    assert transport.fetch_wait_ms(None, embedded=True) == transport.EMBEDDED_FETCH_MAX_WAIT_MS
    assert transport.fetch_wait_ms(None, embedded=False) is None
    assert transport.fetch_wait_ms(35, embedded=True) == 35
    assert transport.fetch_wait_ms(35, embedded=False) == 35


async def test_unset_the_worker_consumer_keeps_faust_s_fetch_wait(tmp_path: Path) -> None:
    settings = WorkerSettings(store="memory://", data_dir=tmp_path, web_port=0)
    assert settings.fetch_max_wait_ms is None
    app = Pipeline(settings, load_topics(prefix="tr."), load_policy()).app
    consumer = app.consumer._new_consumer_thread()._create_worker_consumer(app.transport)
    plain = transport.faust_aiokafka.AIOKafkaConsumerThread._create_worker_consumer(
        app.consumer._new_consumer_thread(), app.transport
    )
    assert consumer._fetch_max_wait_ms == plain._fetch_max_wait_ms


# --- delivery in offset order across rebalances (streams/runtime/transport.py, Consumer) -----


def worker_consumer(tmp_path: Path, monkeypatch: Any) -> tuple[transport.Consumer, TP, TP]:
    """The worker's consumer, not started, assigned one turns and one changelog partition."""
    settings = WorkerSettings(store="memory://", data_dir=tmp_path, web_port=0)
    pipeline = Pipeline(settings, load_topics(prefix="rb."), load_policy())
    consumer = pipeline.app.consumer
    assert isinstance(consumer, transport.Consumer)
    turns = TP(pipeline.turns_topic.get_topic_name(), 3)
    changelog = TP(pipeline.conversations.changelog_topic.get_topic_name(), 3)
    monkeypatch.setattr(consumer, "assignment", lambda: {turns, changelog})
    return consumer, turns, changelog


class _Record:
    def __init__(self, offset: int) -> None:
        self.offset = offset


async def test_a_fetch_that_spanned_a_seek_is_fetched_again_not_delivered(
    tmp_path: Path, monkeypatch: Any
) -> None:
    """A batch whose wait began before a rebalance's seek is not delivered: Faust would take
    the distance to the sought offset for a gap and commit past turns nobody processed."""
    consumer, turns, changelog = worker_consumer(tmp_path, monkeypatch)
    other = TP(turns.topic, 4)  # no committed offset yet: sought to its earliest, 0
    monkeypatch.setattr(consumer, "assignment", lambda: {turns, changelog, other})
    consumer.forget_positions()
    rewinds: list[dict[TP, int]] = []

    async def seek_wait(partitions: dict[TP, int]) -> None:
        rewinds.append(dict(partitions))

    monkeypatch.setattr(consumer._thread, "seek_wait", seek_wait)
    batches = {
        turns: [_Record(143), _Record(144)],  # fetched from the old position
        other: [_Record(46), _Record(47)],
        changelog: [_Record(5)],
    }
    seek_during_wait = True

    async def fetched(
        self: Any,
        timeout: float,  # noqa: ASYNC109 (Faust's signature)
    ) -> tuple[dict[TP, list[Any]], set[TP]]:
        if seek_during_wait:  # what a rebalance's perform_seek does meanwhile
            consumer._seek_epoch += 1
            consumer._read_offset[turns] = 116
            consumer._read_offset.pop(other, None)  # Faust keeps no read offset for 0
            consumer._next.update({turns: 116, other: 0})
        return dict(batches), {turns, changelog, other}

    monkeypatch.setattr(transport.faust_aiokafka.Consumer, "_wait_next_records", fetched)
    records, _ = await consumer._wait_next_records(1.0)
    assert records == {changelog: batches[changelog]}  # changelogs: recovery's, kept
    assert rewinds == [{turns: 116, other: 0}]  # 0..45 are read, not skipped
    seek_during_wait = False  # an ordinary fetch is delivered untouched
    records, _ = await consumer._wait_next_records(1.0)
    assert records == batches and len(rewinds) == 1


def test_the_counters_alerts_watch_exist_at_zero_once_a_worker_is_built(tmp_path: Path) -> None:
    """`increase()` misses a series born at 1: the gap counter of each input topic, the
    deadline outcomes and the event types are there, at zero, before anything happens."""
    settings = WorkerSettings(store="memory://", data_dir=tmp_path, web_port=0)
    pipeline = Pipeline(settings, load_topics(prefix="zero."), load_policy())
    sample = metrics.REGISTRY.get_sample_value
    for topic in (pipeline.turns_topic, pipeline.events_topic, pipeline.timers_topic):
        name = topic.get_topic_name()
        assert sample("warmhandoff_consumer_offset_gaps_total", {"topic": name}) == 0.0
    assert sample("warmhandoff_handoff_deadlines_total", {"outcome": "failed"}) is not None
    assert sample("warmhandoff_handoff_events_total", {"type": "accepted"}) is not None


class _Message:
    def __init__(self, offset: int) -> None:
        self.offset = offset


async def test_an_input_partition_is_delivered_only_in_offset_order(
    tmp_path: Path, monkeypatch: Any
) -> None:
    """A batch that jumps past the next expected offset is not delivered: the partition is
    sought back and fetched again. A hole that is still there after that (records the
    broker no longer has) is accepted, so a worker never loops on it."""
    consumer, turns, changelog = worker_consumer(tmp_path, monkeypatch)
    rewinds: list[dict[TP, int]] = []

    async def seek_wait(partitions: dict[TP, int]) -> None:
        rewinds.append(dict(partitions))

    monkeypatch.setattr(consumer._thread, "seek_wait", seek_wait)
    batches: list[list[tuple[TP, int]]] = [
        [(turns, 430), (changelog, 9), (turns, 434), (turns, 435)],  # 431..433 skipped
        [(turns, 431), (turns, 432), (turns, 433), (turns, 434)],  # fetched again
        [(turns, 440)],  # 435..439 gone from the broker
        [(turns, 440), (turns, 441)],  # still gone: taken
    ]

    async def fetched(self: Any, timeout: float) -> AsyncIterator[tuple[TP, Any]]:  # noqa: ASYNC109
        for tp, offset in batches.pop(0):
            yield tp, _Message(offset)

    monkeypatch.setattr(transport.faust_aiokafka.Consumer, "getmany", fetched)
    consumer._next = {turns: 430}

    async def delivered() -> list[tuple[TP, int]]:
        return [(tp, m.offset) async for tp, m in consumer.getmany(1.0)]

    assert await delivered() == [(turns, 430), (changelog, 9)]
    assert rewinds == [{turns: 431}] and consumer._read_offset[turns] == 431
    assert await delivered() == [(turns, o) for o in (431, 432, 433, 434)]
    assert await delivered() == []
    assert rewinds[-1] == {turns: 435}
    assert await delivered() == [(turns, 440), (turns, 441)]
    assert len(rewinds) == 2


async def test_a_batch_iterated_across_a_seek_is_held_to_the_seeks_offsets(
    tmp_path: Path, monkeypatch: Any
) -> None:
    """A seek while a batch from the old position is still being handed out: the rest of
    that batch is judged against the offsets the seek set, not the ones before it."""
    consumer, turns, _ = worker_consumer(tmp_path, monkeypatch)
    rewinds: list[dict[TP, int]] = []

    async def seek_wait(partitions: dict[TP, int]) -> None:
        rewinds.append(dict(partitions))

    async def seek_to_committed() -> dict[TP, int]:
        return {turns: 47}

    monkeypatch.setattr(consumer._thread, "seek_wait", seek_wait)
    monkeypatch.setattr(consumer, "seek_to_committed", seek_to_committed)

    async def fetched(self: Any, timeout: float) -> AsyncIterator[tuple[TP, Any]]:  # noqa: ASYNC109
        yield turns, _Message(190)
        await consumer.perform_seek()  # the rebalance's seek, while this batch is handed out
        yield turns, _Message(191)
        yield turns, _Message(192)

    monkeypatch.setattr(transport.faust_aiokafka.Consumer, "getmany", fetched)
    consumer.forget_positions()
    consumer._next[turns] = 190
    delivered = [m.offset async for _, m in consumer.getmany(1.0)]
    assert delivered == [190]  # 191 and 192 come after 47..189, which the seek asks for
    assert rewinds == [{turns: 47}]


async def test_a_partition_with_no_committed_offset_is_read_from_its_earliest(
    tmp_path: Path, monkeypatch: Any
) -> None:
    """An existing group whose only reader of a partition was killed before its first commit:
    left to the client's reset, the next worker read that partition from its end, and every
    turn before went undecided with no gap to see. It is put at its earliest offset instead."""
    consumer, turns, changelog = worker_consumer(tmp_path, monkeypatch)
    sought: list[dict[TP, int]] = []

    async def seek_wait(partitions: dict[TP, int]) -> None:
        sought.append(dict(partitions))

    async def seek_to_committed() -> dict[TP, int | None]:
        return {turns: None}

    async def earliest_offsets(*tps: TP) -> dict[TP, int]:
        return dict.fromkeys(tps, 12)

    monkeypatch.setattr(consumer._thread, "seek_wait", seek_wait)
    monkeypatch.setattr(consumer, "seek_to_committed", seek_to_committed)
    monkeypatch.setattr(consumer, "earliest_offsets", earliest_offsets)
    await consumer.on_partitions_assigned({turns, changelog}, generation_id=1)
    await consumer.perform_seek()
    assert sought == [{turns: 12}]  # the changelog is recovery's to position
    assert consumer._next[turns] == 12
    assert consumer._read_offset[turns] == 12

    # A committed partition is left where the commit puts it.
    async def committed() -> dict[TP, int | None]:
        return {turns: 30}

    monkeypatch.setattr(consumer, "seek_to_committed", committed)
    sought.clear()
    await consumer.perform_seek()
    assert sought == []
    assert consumer._next[turns] == 30


async def test_records_fetched_between_an_assignment_and_its_seek_are_not_delivered(
    tmp_path: Path, monkeypatch: Any
) -> None:
    """Until the seek, an assigned input partition has no offset it must start from: what a
    fetch returns then comes from wherever the client was, and Faust would take the distance
    to the later seek's offset for a gap. Such records wait for the seek and are read again."""
    consumer, turns, changelog = worker_consumer(tmp_path, monkeypatch)

    async def fetched(self: Any, timeout: float) -> AsyncIterator[tuple[TP, Any]]:  # noqa: ASYNC109
        yield changelog, _Message(8)
        yield turns, _Message(23)
        yield turns, _Message(24)

    async def seek_to_committed() -> dict[TP, int | None]:
        return {turns: 23}

    monkeypatch.setattr(transport.faust_aiokafka.Consumer, "getmany", fetched)
    monkeypatch.setattr(consumer, "seek_to_committed", seek_to_committed)
    await consumer.on_partitions_assigned({turns, changelog}, generation_id=1)
    before = [(tp, m.offset) async for tp, m in consumer.getmany(1.0)]
    assert before == [(changelog, 8)]  # recovery still reads the changelog
    await consumer.perform_seek()
    after = [(tp, m.offset) async for tp, m in consumer.getmany(1.0)]
    assert after == [(changelog, 8), (turns, 23), (turns, 24)]


# Every private name streams/runtime/transport.py overrides or reads, with the parameters it
# relies on: a Faust or aiokafka upgrade that renames one or changes its signature fails here
# first, naming the override to re-check, before any behaviour test fails obscurely.
OVERRIDDEN = {
    "AIOKafkaConsumerThread._create_worker_consumer": ["self", "transport"],
    "AIOKafkaConsumerThread.seek_wait": ["self", "partitions"],
    "Consumer._new_consumer_thread": ["self"],
    "Consumer.on_partitions_assigned": ["self", "assigned", "generation_id"],
    "Consumer.perform_seek": ["self"],
    "Consumer._wait_next_records": ["self", "timeout"],
    "Consumer.getmany": ["self", "timeout"],
    "Consumer._add_gap": ["self", "tp", "offset_from", "offset_to"],
    "Consumer.earliest_offsets": ["self", "partitions"],
    "Consumer._is_changelog_tp": ["self", "tp"],
}


def test_the_private_names_this_transport_overrides_still_exist() -> None:
    import inspect

    import aiokafka
    from faust.transport import consumer as faust_consumer
    from faust.transport.drivers import aiokafka as faust_aiokafka

    for dotted, parameters in OVERRIDDEN.items():
        owner, name = dotted.split(".")
        method = getattr(getattr(faust_aiokafka, owner), name, None)
        assert method is not None, f"Faust no longer has {dotted}: re-check transport.py"
        found = list(inspect.signature(method).parameters)
        assert found == parameters, f"{dotted} is now {found}: re-check transport.py"
    # The attribute the overrides read and write, and aiokafka's fetch-wait attribute.
    assert "self._read_offset" in inspect.getsource(faust_consumer.Consumer)
    assert "self._fetch_max_wait_ms" in inspect.getsource(aiokafka.AIOKafkaConsumer.__init__)
