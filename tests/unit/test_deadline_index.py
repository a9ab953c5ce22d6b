"""The worker's in-memory deadline index (streams/services/worker/deadlines.py)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from warmhandoff.streams.services.worker.deadlines import DeadlineIndex

T0 = datetime(2026, 1, 1, tzinfo=UTC)
S = timedelta(seconds=1)


def test_only_what_is_due_comes_out_in_deadline_order() -> None:
    index = DeadlineIndex(retry=S)
    index.set(b"late", T0 + 30 * S)
    index.set(b"early", T0 + 10 * S)
    index.set(b"never", None)
    assert index.due(T0) == []
    assert index.due(T0 + 10 * S) == [b"early"]
    assert index.due(T0 + 40 * S) == [b"early", b"late"]  # early again: still not moved
    assert len(index) == 2


def test_a_due_key_comes_again_each_retry_until_its_deadline_moves() -> None:
    index = DeadlineIndex(retry=S)
    index.set(b"c", T0)
    assert index.due(T0) == [b"c"]
    assert index.due(T0) == []  # not again within the retry
    assert index.due(T0 + S) == [b"c"]
    index.set(b"c", T0 + 300 * S)  # the tick handled it: a new deadline
    assert index.due(T0 + 2 * S) == []
    assert index.due(T0 + 300 * S) == [b"c"]


def test_moved_and_removed_deadlines_leave_no_stale_entry() -> None:
    index = DeadlineIndex(retry=S)
    index.set(b"a", T0 + 5 * S)
    index.set(b"a", T0 + 50 * S)
    index.set(b"b", T0 + 5 * S)
    index.set(b"b", None)
    assert index.due(T0 + 10 * S) == []
    assert index.due(T0 + 50 * S) == [b"a"]
    assert len(index) == 1


def test_rebuild_replaces_the_index_with_the_table() -> None:
    index = DeadlineIndex(retry=S)
    assert index.stale
    index.set(b"gone", T0)  # a key of a partition no longer assigned
    index.rebuild([(b"kept", T0 + S)])
    assert not index.stale
    assert index.due(T0 + S) == [b"kept"]


def test_many_moves_keep_the_heap_bounded() -> None:
    index = DeadlineIndex(retry=S)
    for i in range(10_000):
        index.set(b"c", T0 + i * S)
    assert len(index._heap) <= 4 * len(index) + 64
    assert index.due(T0 + 10_000 * S) == [b"c"]
