"""Faust's Kafka transport for the worker, with the consumer workarounds each broker needs.

Written against faust-streaming 0.15.3 and aiokafka 0.14 (pyproject pins both to those minor
versions). Each workaround below names the broker that needs it, the private names it
overrides or reads, and the tests: tests/unit/test_transport.py checks each against Faust's
objects (`test_the_private_names_this_transport_overrides_still_exist` checks every name and
signature at once, so an upgrade that changes one fails there first);
tests/integration/test_consumer_workarounds.py shows the broker behaviour on the run's test
broker, its ids naming it; the fault suite (tests/faults: workers rotated, killed with
kill -9, joining mid-stream, on the run's test broker) counts lost and duplicated handoffs.

- **The fetch wait: the embedded broker only.** Faust hard-codes a 1500 ms wait for its worker
  consumer. Apache Kafka answers a waiting fetch as soon as a record arrives, so there Faust's
  wait stays: it only bounds idle polling, and a shorter one costs the worker and the broker
  CPU while idle. The embedded broker (Tansu) looks for records only after half the wait, then
  after half of what is left, so there the wait delays every turn: the worker, finding the
  embedded broker by its cluster id at start, waits `EMBEDDED_FETCH_MAX_WAIT_MS` instead
  (`fetch_wait_ms`; `WorkerSettings.fetch_max_wait_ms` overrides it on any broker).
  Overrides `_create_worker_consumer` (Faust's consumer thread, used through
  `_new_consumer_thread`) and aiokafka's `_fetch_max_wait_ms`. Tests:
  `test_the_worker_consumer_uses_the_configured_fetch_wait`,
  `test_the_created_aiokafka_consumer_waits_that_long`,
  `test_the_worker_lowers_its_fetch_wait_only_where_a_fetch_is_not_answered_on_arrival`.
- **Input records delivered in offset order from the seek: every broker.** Faust's
  bookkeeping, which no broker reply changes; on Apache Kafka, workers without it rotated
  under traffic (fault suite, (a)) committed past turns nobody decided. Overrides
  `getmany`, `on_partitions_assigned`, `perform_seek`; uses the thread's `seek_wait` and
  Faust's `_read_offset`. Tests: `test_an_input_partition_is_delivered_only_in_offset_order`,
  `test_records_fetched_between_an_assignment_and_its_seek_are_not_delivered`,
  `test_a_batch_iterated_across_a_seek_is_held_to_the_seeks_offsets`.
- **A fetch that spanned a seek: every broker.** Faust's hand-over of a batch from its consumer
  thread; on Apache Kafka rebalances under traffic return such batches. Without this the
  offset-order check above catches them too, but it takes a hole seen twice for records the
  broker no longer has, and two stale batches can show the same hole. Overrides
  `_wait_next_records`. Test:
  `test_a_fetch_that_spanned_a_seek_is_fetched_again_not_delivered`.
- **A partition nobody committed read from its earliest: every broker.** On the embedded
  broker the client's position for such a partition of an existing group was its end. On
  Apache Kafka the client starts it at the earliest offset, but records fetched between the
  assignment and the seek (and not delivered) move that position on, and the seek leaves a
  partition with no commit where it is: without this, workers killed with kill -9 (fault
  suite, (b)) skipped the turns there. Overrides `perform_seek`; uses `earliest_offsets`.
  Test: `test_a_partition_with_no_committed_offset_is_read_from_its_earliest`.
- **Gaps on input topics counted: every broker** (not a workaround: on topics that are never
  compacted a gap means skipped records). Overrides `_add_gap`; uses `_is_changelog_tp`. Test:
  `test_the_counters_alerts_watch_exist_at_zero_once_a_worker_is_built`.
- Registration and log names: `TRANSPORTS.aliases`, `faust_aiokafka.logger`; every stage test
  that builds a worker uses them.

Two Faust behaviours are left alone because aiokafka already copes on every broker: a stream
partition fetched before its seek (aiokafka starts each assigned partition afresh from its
committed offset, and what is fetched then is not delivered, above), and a commit the broker
refused (aiokafka then rejoins the
group, and Faust seeks to the committed offsets on the assignment that follows, so those
records are read and committed again). The embedded broker's other differences are handled
where they matter: its wrong end offsets turn Faust's recovery check off
(`WorkerSettings.recovery_consistency_check`), and its memory-only log makes each restart a
new cluster (streams/runtime/state_owner.py).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from typing import Any, ClassVar

from faust.transport.consumer import RecordMap
from faust.transport.drivers import TRANSPORTS
from faust.transport.drivers import aiokafka as faust_aiokafka
from faust.types import TP, Message

from warmhandoff.streams.runtime import metrics

SCHEME = "whkafka"


#: The fetch wait on the embedded broker, which looks for records only after half of it.
EMBEDDED_FETCH_MAX_WAIT_MS = 20


def fetch_wait_ms(setting: int | None, *, embedded: bool) -> int | None:
    """The worker's fetch wait: the setting when given, else `EMBEDDED_FETCH_MAX_WAIT_MS` on
    the embedded broker, else None (Faust's own wait, right for brokers that answer a fetch
    as soon as records arrive)."""
    if setting is not None:
        return setting
    return EMBEDDED_FETCH_MAX_WAIT_MS if embedded else None


class ConsumerThread(faust_aiokafka.AIOKafkaConsumerThread):
    """The worker's consumer thread, with the fetch wait taken from `configure` when set."""

    fetch_max_wait_ms: ClassVar[int | None] = None

    def _create_worker_consumer(self, transport: Any) -> Any:
        consumer = super()._create_worker_consumer(transport)
        if self.fetch_max_wait_ms is not None:
            # aiokafka reads the attribute when it starts its fetcher, which happens after this.
            consumer._fetch_max_wait_ms = self.fetch_max_wait_ms
        return consumer


class Consumer(faust_aiokafka.Consumer):
    """Faust's aiokafka consumer using `ConsumerThread`, delivering input records in offset
    order from each seek.

    **The invariant.** For every input topic a record is delivered only if it is the next
    offset since the partition's last seek. Faust alone breaks it around a rebalance: a batch
    taken from the old position and delivered after the seek makes Faust take the distance to
    the committed offset as a gap (as if compacted away), acknowledge it, drop the records
    fetched again as already read, and commit past turns nobody processed. A batch that jumps
    ahead is therefore not delivered: the partition is sought back to the expected offset and
    fetched again. Records fetched between an assignment and its seek are not delivered
    either: the partition has no offset to start from yet, and the seek puts it where it must
    start.

    **A fetch that spanned a seek.** A fetch already waiting in the consumer thread when a
    rebalance began returns after the seek, and Faust delivers it against the partitions that
    were active when it was asked for. Such a batch is not delivered: its input partitions are
    sought back to the offsets the seek set (or to where the batch began, if earlier).

    **A partition nobody committed.** The client's seek to committed offsets leaves it where
    it is, which was its end on the embedded broker (every turn already on it went undecided
    with no gap to see), and past records fetched before the seek on Apache Kafka. Each seek
    puts such partitions at their earliest offset explicitly.

    Gaps are still accepted as Faust does (compacted changelogs have them), and each on an
    input topic is logged and counted (`warmhandoff_consumer_offset_gaps_total`).
    """

    _seek_pending: bool = False
    _seek_epoch: int = 0
    _next: dict[TP, int]  # per input partition: the next offset to deliver
    _rewinding: set[TP]  # partitions sought back, skipping the rest of a batch

    def _new_consumer_thread(self) -> Any:
        return ConsumerThread(self, loop=self.loop, beacon=self.beacon)

    async def on_partitions_assigned(self, assigned: set[TP], generation_id: int = 0) -> None:
        self._seek_pending = True
        self.forget_positions()
        await super().on_partitions_assigned(assigned, generation_id)

    def forget_positions(self) -> None:
        """Clear the expected offsets in place: a `getmany` iterating a batch fetched before
        a seek holds these very objects, and must see the seek's offsets, not old ones."""
        self.__dict__.setdefault("_next", {}).clear()
        self.__dict__.setdefault("_rewinding", set()).clear()
        self.__dict__.setdefault("_holes", {}).clear()

    async def perform_seek(self) -> None:
        await super().perform_seek()
        self._seek_epoch += 1
        self.forget_positions()
        inputs = {tp for tp in self.assignment() if not self._is_changelog_tp(tp)}
        # No committed offset, or 0: the client's seek to committed offsets leaves both alone.
        uncommitted = {tp for tp in inputs if not self._read_offset.get(tp)}
        if uncommitted:
            await self._start_uncommitted(uncommitted)
        for tp in inputs:
            offset = self._read_offset.get(tp)
            if offset is not None:
                self._next[tp] = offset
        self._seek_pending = False

    async def _start_uncommitted(self, tps: set[TP]) -> None:
        """Put partitions with no committed offset at their earliest offset, explicitly
        (the client's position for them is not that: see the class docstring)."""
        earliest = await self.earliest_offsets(*tps)
        offsets = {tp: earliest.get(tp) or 0 for tp in tps}
        await self.rewind(offsets)
        self.log.info("No committed offset: reading from the earliest: %r", offsets)

    async def _wait_next_records(
        self,
        timeout: float,  # noqa: ASYNC109 (Faust's signature)
    ) -> tuple[RecordMap | None, set[TP] | None]:
        epoch = self._seek_epoch
        records, active = await super()._wait_next_records(timeout)
        if not records or epoch == self._seek_epoch:
            return records, active
        stale = {tp for tp, batch in records.items() if batch and not self._is_changelog_tp(tp)}
        sought = self.__dict__.get("_next", {})
        rewind = {}
        for tp in stale & self.assignment():
            # Back to where this batch began, or to the offset the seek set if that is
            # earlier (a batch fetched from the old position); never past either. The seek's
            # offset is the one it expects next: Faust keeps no read offset for offset 0.
            first = records[tp][0].offset
            start = sought.get(tp)
            rewind[tp] = first if start is None else min(first, start)
        if rewind:
            await self.rewind(rewind)
        if stale:
            self.log.info("Dropped a fetch that spanned a seek, fetching again: %r", rewind)
        return {tp: rs for tp, rs in records.items() if tp not in stale}, active

    async def getmany(self, timeout: float) -> AsyncIterator[tuple[TP, Message]]:  # noqa: ASYNC109
        """Faust's records, each input partition's strictly in offset order from its seek."""
        async for tp, message in super().getmany(timeout):
            if self._is_changelog_tp(tp) or await self.in_order(tp, message.offset):
                yield tp, message

    async def in_order(self, tp: TP, offset: int) -> bool:
        """True when `offset` may be delivered on input partition `tp`: it is the next one
        since the partition's seek (or one before it, which Faust drops as already read).
        A fetch that skipped ahead seeks the partition back to the next offset instead."""
        expected = self.__dict__.setdefault("_next", {})
        rewinding = self.__dict__.setdefault("_rewinding", set())
        holes: dict[TP, tuple[int, int]] = self.__dict__.setdefault("_holes", {})
        want = expected.get(tp)
        if want is None and self._seek_pending:
            # Fetched after an assignment and before its seek, from a position nobody
            # chose: the seek puts the partition where it must start; fetched again then.
            return False
        # A hole seen again after fetching again means the records are gone from the
        # broker (retention, a truncated log): take what is there, as Faust would; its
        # gap check counts and logs it (`_add_gap`).
        if want is not None and offset > want and holes.get(tp) != (want, offset):
            if tp not in rewinding:
                holes[tp] = (want, offset)
                rewinding.add(tp)
                self.log.info(
                    "Records %s..%s of %s:%s skipped by a fetch, fetching again",
                    want, offset - 1, tp.topic, tp.partition,
                )  # fmt: skip
                await self.rewind({tp: want})
            return False
        holes.pop(tp, None)
        rewinding.discard(tp)
        expected[tp] = max(want or 0, offset + 1)
        return True

    async def rewind(self, offsets: Mapping[TP, int]) -> None:
        """Seek these partitions back and expect exactly these offsets next."""
        await self._thread.seek_wait(dict(offsets))
        expected = self.__dict__.setdefault("_next", {})
        for tp, offset in offsets.items():
            expected[tp] = offset
            # seek_wait leaves no read offset for 0; Faust then takes any record as next.
            self._read_offset[tp] = offset if offset else None

    async def _add_gap(self, tp: TP, offset_from: int, offset_to: int) -> None:
        if not self._is_changelog_tp(tp):
            metrics.CONSUMER_OFFSET_GAPS.labels(tp.topic).inc()
            self.log.warning(
                "Offset gap on %s:%s, records %s..%s not received",
                tp.topic,
                tp.partition,
                offset_from,
                offset_to - 1,
            )
        await super()._add_gap(tp, offset_from, offset_to)


class Transport(faust_aiokafka.Transport):
    """Faust's aiokafka transport using `Consumer`."""

    Consumer = Consumer


# mode names a service's logger after the module that defines the class; keep Faust's names
# so these records stay under the `faust` logger (held at WARNING with the rest of Faust's).
for _cls in (ConsumerThread, Consumer, Transport):
    setattr(_cls, "logger", faust_aiokafka.logger)  # noqa: B010


def configure(fetch_max_wait_ms: int | None) -> str:
    """Register the transport with this fetch wait (None: Faust's); returns the URL scheme to
    use in `broker`."""
    ConsumerThread.fetch_max_wait_ms = fetch_max_wait_ms
    TRANSPORTS.aliases[SCHEME] = f"{__name__}:Transport"
    return SCHEME
