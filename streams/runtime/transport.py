"""Faust's Kafka transport with the consumer's fetch wait made a setting and three consumer
bugs fixed (described on `Consumer`).

Faust 0.15 hard-codes `fetch_max_wait_ms=1500` for its worker consumer. Real Kafka answers a
waiting fetch as soon as a record arrives, so the figure only bounds idle polling there; the
embedded broker (Tansu) holds the fetch for the whole wait even when records arrive, which
measured here as ~370 ms median delivery latency at 1500 ms, ~27 ms at 100 ms and ~3 ms at
10 ms (one record every 130 ms, one partition). The worker registers this transport under the
`whkafka://` scheme and sets the wait from `WorkerSettings.fetch_max_wait_ms`.

Written against faust-streaming 0.15.3 and aiokafka 0.14 (pyproject pins both to those minor
versions). What each override of a private name fixes, and the test that fails if an upgrade
changes the name or its behaviour (tests/unit/test_transport.py unless named otherwise;
`test_the_private_names_this_transport_overrides_still_exist` checks every name and
signature below at once):

- the fetch wait: `_create_worker_consumer` (Faust's consumer thread) and aiokafka's
  `_fetch_max_wait_ms`; `_new_consumer_thread` makes Faust use that thread. Noticed by
  `test_the_worker_consumer_uses_the_configured_fetch_wait` and
  `test_the_created_aiokafka_consumer_waits_that_long`.
- records read before the seek: `on_partitions_assigned`, `resume_partitions`,
  `perform_seek`. Noticed by `test_a_stream_partition_is_not_fetched_before_its_seek` and
  `test_records_fetched_between_an_assignment_and_its_seek_are_not_delivered`.
- a fetch that spanned a seek: `_wait_next_records`. Noticed by
  `test_a_fetch_that_spanned_a_seek_is_fetched_again_not_delivered` and
  `test_a_batch_iterated_across_a_seek_is_held_to_the_seeks_offsets`.
- offset order from the seek: `getmany`, `seek_wait` (the thread's), `_read_offset`.
  Noticed by `test_an_input_partition_is_delivered_only_in_offset_order`.
- a refused commit retried: `_commit_offsets`, `_committed_offset`, `_acked`, `_acked_index`,
  `ack_lock`. Noticed by `test_a_commit_the_broker_refused_is_retried`.
- a partition nobody committed: `perform_seek`, `earliest_offsets`, `_read_offset`. Noticed
  by `test_a_partition_with_no_committed_offset_is_read_from_its_earliest`.
- gaps on input topics counted: `_add_gap`, `_is_changelog_tp`. Noticed by
  `test_the_counters_alerts_watch_exist_at_zero_once_a_worker_is_built`.
- registration and log names: `TRANSPORTS.aliases`, `faust_aiokafka.logger`. Noticed by
  every stage test that builds a worker.

End to end, the fault suite (tests/faults: workers rotated, killed with kill -9, joining
mid-stream) counts lost and duplicated handoffs; it is what found these bugs.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable, Mapping
from typing import Any, ClassVar

from faust.transport.consumer import RecordMap
from faust.transport.drivers import TRANSPORTS
from faust.transport.drivers import aiokafka as faust_aiokafka
from faust.types import TP, Message
from faust.types.tuples import ack_lock

from warmhandoff.streams.runtime import metrics

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
    """Faust's aiokafka consumer using `ConsumerThread`, with three consumer bugs fixed.

    All three were found by the fault suite (tests/faults; docs/benchmarks.md, "Faults").

    **Records read before the seek (lost turns).** After a rebalance Faust's recovery resumes
    the stream partitions and only then seeks them to their committed offsets, with the
    fetcher already running. A partition this worker keeps across the rebalance still has
    its old fetch position, past the records that were waiting in the agents' buffers (Faust
    clears those buffers on revocation). A batch fetched in that window is delivered after
    the seek: Faust takes the distance to the committed offset as a gap (as if compacted
    away), acknowledges it, drops the re-fetched records as already read, and commits past
    turns nobody processed. Here, resuming a stream partition after an assignment is held
    until `perform_seek` has put it at its committed offset.

    **A refused commit forgotten (lag that never drains).** Faust takes acknowledged offsets
    off its list before it commits and records them as committed even when the broker
    refused (aiokafka's "the group has already rebalanced"). If the partition stays here
    and no further record arrives on it, nothing commits those offsets again. A refused
    commit is put back, so the next commit retries it.

    The same window has a second door: a fetch already waiting in the consumer thread when
    the rebalance began returns after the seek, and Faust delivers it against the partitions
    that were active when it was asked for. A batch whose wait spanned a seek is therefore
    not delivered: its stream partitions are sought back to the offsets the seek set, and
    fetched again from there.

    Underneath both, one invariant is kept for every input topic: a record is delivered only
    if it is the next offset this worker has not yet delivered since the partition's last
    seek. A batch that jumps ahead (by any path: the two above, or Faust taking the committed
    offset itself for one already read) is not delivered; the partition is sought back to the
    expected offset and fetched again.

    **A partition nobody committed read from its end (lost turns).** A worker killed before
    its first commit leaves an existing group with partitions that have no committed offset.
    The next worker's client position for them was their end, not the earliest offset the
    reset setting asks for (measured on the embedded broker: positions 382 to 436 where the
    earliest was 0), so every turn already on them went undecided with no gap to see. Such
    partitions are put at their earliest offset explicitly at each seek.

    Records fetched between an assignment and its seek are not delivered either: the partition
    has no offset to start from yet, and the seek puts it where it must start.

    Gaps are still accepted as Faust does (compacted changelogs have them), and each is
    logged and counted (`warmhandoff_consumer_offset_gaps_total`): on the pipeline's input
    topics, which are never compacted, a gap means records were skipped.
    """

    _seek_pending: bool = False
    _seek_epoch: int = 0
    _held: set[TP]
    _next: dict[TP, int]  # per input partition: the next offset to deliver
    _rewinding: set[TP]  # partitions sought back, skipping the rest of a batch

    def _new_consumer_thread(self) -> Any:
        return ConsumerThread(self, loop=self.loop, beacon=self.beacon)

    async def on_partitions_assigned(self, assigned: set[TP], generation_id: int = 0) -> None:
        self._seek_pending = True
        self._held = set()
        self.forget_positions()
        await super().on_partitions_assigned(assigned, generation_id)

    def forget_positions(self) -> None:
        """Clear the expected offsets in place: a `getmany` iterating a batch fetched before
        a seek holds these very objects, and must see the seek's offsets, not old ones."""
        self.__dict__.setdefault("_next", {}).clear()
        self.__dict__.setdefault("_rewinding", set()).clear()
        self.__dict__.setdefault("_holes", {}).clear()

    def resume_partitions(self, tps: Iterable[TP]) -> None:
        """Resume fetching; stream partitions wait for the seek after an assignment."""
        resume = set(tps)
        if self._seek_pending:
            held = {tp for tp in resume if not self._is_changelog_tp(tp)}
            self._held |= held
            resume -= held
        super().resume_partitions(resume)

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
        held = self.__dict__.get("_held", set())
        self._seek_pending, self._held = False, set()
        super().resume_partitions(held & self.assignment())

    async def _start_uncommitted(self, tps: set[TP]) -> None:
        """Put partitions with no committed offset at their earliest offset, explicitly.

        Left to the client's reset, a partition of an existing group with no commit yet (its
        only reader was killed before its first commit) was read from its end: every turn
        on it until then was skipped with no gap to see (found by the fault suite, (b)).
        """
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
        rewind = {}
        for tp in stale & self.assignment():
            # Back to where this batch began, or to the offset the seek set if that is
            # earlier (a batch fetched from the old position); never past either.
            first = records[tp][0].offset
            sought = self._read_offset.get(tp)
            rewind[tp] = first if sought is None else min(first, sought)
        if rewind:
            await self.rewind(rewind)
        if stale:
            self.log.info("Dropped a fetch that spanned a seek, fetching again: %r", rewind)
        return {tp: rs for tp, rs in records.items() if tp not in stale}, active

    async def getmany(self, timeout: float) -> AsyncIterator[tuple[TP, Message]]:  # noqa: ASYNC109
        """Faust's records, each input partition's strictly in offset order from its seek."""
        expected = self.__dict__.setdefault("_next", {})
        rewinding = self.__dict__.setdefault("_rewinding", set())
        holes: dict[TP, tuple[int, int]] = self.__dict__.setdefault("_holes", {})
        async for tp, message in super().getmany(timeout):
            if self._is_changelog_tp(tp):
                yield tp, message
                continue
            want = expected.get(tp)
            if want is None and self._seek_pending:
                # Fetched after an assignment and before its seek, from a position nobody
                # chose: the seek puts the partition where it must start; fetched again then.
                continue
            # A hole seen again after fetching again means the records are gone from the
            # broker (retention, a truncated log): take what is there, as Faust would; its
            # gap check counts and logs it (`_add_gap`).
            if (
                want is not None
                and message.offset > want
                and holes.get(tp) != (want, message.offset)
            ):
                if tp not in rewinding:
                    holes[tp] = (want, message.offset)
                    rewinding.add(tp)
                    self.log.info(
                        "Records %s..%s of %s:%s skipped by a fetch, fetching again",
                        want, message.offset - 1, tp.topic, tp.partition,
                    )  # fmt: skip
                    await self.rewind({tp: want})
                continue
            holes.pop(tp, None)
            rewinding.discard(tp)
            expected[tp] = max(want or 0, message.offset + 1)
            yield tp, message

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

    async def _commit_offsets(
        self, offsets: Mapping[TP, int], start_new_transaction: bool = True
    ) -> bool:
        before = {tp: self._committed_offset.get(tp) for tp in offsets}
        committed = await super()._commit_offsets(
            offsets, start_new_transaction=start_new_transaction
        )
        if not committed:
            self.restore_refused(offsets, before)
        return committed

    def restore_refused(self, offsets: Mapping[TP, int], before: Mapping[TP, int | None]) -> None:
        """Undo Faust's bookkeeping of a commit the broker refused, for partitions still
        assigned here (a revoked one is re-read from its committed offset by its next owner)."""
        assigned = self.assignment()
        retried = {}
        with ack_lock:
            for tp, offset in offsets.items():
                if tp not in assigned:
                    continue
                previous = before.get(tp)
                self._committed_offset[tp] = previous
                # Faust commits the first run of consecutive acked offsets, and waits when
                # the run starts more than one past the committed offset: put back the
                # whole run it took off, from the last committed offset.
                start = offset - 1 if previous is None else min(previous, offset - 1)
                index = self._acked_index[tp]
                acked = self._acked[tp]
                for acked_offset in range(start, offset):
                    if acked_offset not in index:
                        index.add(acked_offset)
                        acked.append(acked_offset)
                acked.sort()
                retried[f"{tp.topic}:{tp.partition}"] = offset
        if retried:
            self.log.warning("Commit refused by the broker, retrying: %r", retried)


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
