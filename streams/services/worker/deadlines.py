"""The worker's in-memory index of when each local conversation next needs a tick.

The `pending_transfers` table is the durable truth (conversation → its next deadline, on
the conversation's partition); this index mirrors it as a heap so the once-a-second timer
pops only what is due instead of reading every open handoff. Entries are replaced lazily: a
heap item counts only while it matches the conversation's current check time. A due
conversation is checked again one retry later until its deadline moves (the tick that handles
it re-indexes it), as the timer did when it read the table. After a rebalance the index is
rebuilt from the table, since recovery and reassignment change the table without the worker's
handlers.
"""

from __future__ import annotations

import heapq
from collections.abc import Iterable
from datetime import datetime, timedelta


class DeadlineIndex:
    """Conversation keys by the time they next need a tick."""

    def __init__(self, retry: timedelta) -> None:
        self.retry = retry
        self._check_at: dict[bytes, datetime] = {}
        self._heap: list[tuple[datetime, bytes]] = []
        self.stale = True  # nothing was read from the table yet

    def __len__(self) -> int:
        return len(self._check_at)

    def set(self, key: bytes, deadline: datetime | None) -> None:
        """The conversation's next deadline (None: nothing waits on a clock)."""
        if deadline is None:
            self._check_at.pop(key, None)
            return
        if self._check_at.get(key) == deadline:
            return
        self._check_at[key] = deadline
        heapq.heappush(self._heap, (deadline, key))
        if len(self._heap) > 4 * len(self._check_at) + 64:
            self._compact()

    def due(self, now: datetime) -> list[bytes]:
        """Keys whose deadline passed, each checked again `retry` later unless re-indexed."""
        out: list[bytes] = []
        again = now + self.retry
        while self._heap and self._heap[0][0] <= now:
            at, key = heapq.heappop(self._heap)
            if self._check_at.get(key) != at:
                continue  # superseded or removed
            out.append(key)
        for key in out:
            self._check_at[key] = again
            heapq.heappush(self._heap, (again, key))
        return out

    def rebuild(self, entries: Iterable[tuple[bytes, datetime]]) -> None:
        """Replace the index with the table's current content."""
        self._check_at = dict(entries)
        self._heap = [(at, key) for key, at in self._check_at.items()]
        heapq.heapify(self._heap)
        self.stale = False

    def _compact(self) -> None:
        """Drop superseded heap items (they pile up when deadlines move often)."""
        self._heap = [(at, key) for key, at in self._check_at.items()]
        heapq.heapify(self._heap)
