"""The human side of `warmhandoff soak`: agents who take every handoff, then close it.

Without it every handoff of a long soak would stay open, each re-routed and re-told on every
accept deadline, which no contact centre does. The desk reads `handoff.events` and, for each
handoff a sink reported `delivered`, answers as a desk's CRM would, keyed by the
conversation: after a seeded pick-up time `accepted` then, after a seeded handle time,
`resolved` (or `handed_back` for a share); a share of customers leave before anyone picks up
(`abandoned`). The worker answers with `pause` and `resume` and closes its state. A second
`delivered` for a handoff already open or closed (a re-route or a redelivery) is ignored.
"""

from __future__ import annotations

import heapq
import itertools
import random
import time
import uuid
from collections import Counter, OrderedDict
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import orjson
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer

from warmhandoff.streams.contract.models import HandoffEvent, HandoffEventType
from warmhandoff.streams.contract.topics import Topics

SOURCE = "soak:desk"
AGENTS = 40
#: Handoffs remembered as closed, so a late redelivery is not answered twice.
CLOSED_MEMORY = 100_000


@dataclass(frozen=True)
class DeskTimes:
    """Seconds (seeded, uniform) from `delivered` to pick-up, and from pick-up to the end."""

    pickup_s: tuple[float, float] = (2.0, 30.0)
    handle_s: tuple[float, float] = (20.0, 120.0)
    abandon_share: float = 0.10
    handed_back_share: float = 0.15


@dataclass(frozen=True)
class _Open:
    handoff_id: str
    conversation_id: str
    queue: str | None
    agent_id: str


class SoakDesk:
    """Answers delivered handoffs with accepted and resolved, abandoned or handed_back."""

    def __init__(
        self, kwargs: dict[str, Any], topics: Topics, *, seed: int, times: DeskTimes = DeskTimes()
    ) -> None:
        self.kwargs = kwargs
        self.events_topic = topics.name("handoff.events")
        self.times = times
        self.rng = random.Random(seed)
        self.published: Counter[str] = Counter()
        self.open: dict[str, _Open] = {}
        self.closed: OrderedDict[str, None] = OrderedDict()
        self._due: list[tuple[float, int, str, HandoffEventType]] = []
        self._order = itertools.count()

    async def run(self) -> None:
        """Answer handoffs until cancelled."""
        consumer = AIOKafkaConsumer(
            self.events_topic, **self.kwargs, auto_offset_reset="earliest", group_id=None
        )
        producer = AIOKafkaProducer(**self.kwargs)
        await consumer.start()
        await producer.start()
        try:
            while True:
                batches = await consumer.getmany(timeout_ms=250, max_records=5_000)
                for records in batches.values():
                    for msg in records:
                        self.read(orjson.loads(msg.value or b"{}"))
                for key, value in self.due(time.monotonic()):
                    await producer.send(self.events_topic, value, key=key)
                    # Sent without waiting per record; a failed send surfaces on the next flush.
                await producer.flush()
        finally:
            await producer.stop()
            await consumer.stop()

    def read(self, event: dict[str, Any]) -> None:
        """One record of handoff.events: a sink's `delivered` opens a handoff at the desk."""
        if event.get("type") != HandoffEventType.delivered or event.get("source") == SOURCE:
            return
        hid = event["handoff_id"]
        if hid in self.open or hid in self.closed:
            return
        opened = _Open(hid, event["conversation_id"], event.get("queue"), self._agent())
        self.open[hid] = opened
        now = time.monotonic()
        wait = self.rng.uniform(*self.times.pickup_s)
        if self.rng.random() < self.times.abandon_share:
            self._at(now + wait, hid, HandoffEventType.abandoned)
            return
        self._at(now + wait, hid, HandoffEventType.accepted)
        ending = (
            HandoffEventType.handed_back
            if self.rng.random() < self.times.handed_back_share
            else HandoffEventType.resolved
        )
        self._at(now + wait + self.rng.uniform(*self.times.handle_s), hid, ending)

    def due(self, now: float) -> list[tuple[bytes, bytes]]:
        """The events due by `now` as (key, value) records, in time order."""
        out: list[tuple[bytes, bytes]] = []
        while self._due and self._due[0][0] <= now:
            _, _, hid, kind = heapq.heappop(self._due)
            opened = self.open[hid]
            if kind is not HandoffEventType.accepted:
                del self.open[hid]
                self.closed[hid] = None
                if len(self.closed) > CLOSED_MEMORY:
                    self.closed.popitem(last=False)
            self.published[kind.value] += 1
            out.append((opened.conversation_id.encode(), self._event(opened, kind)))
        return out

    def figures(self) -> dict[str, int]:
        """What the desk published, and how many handoffs it still has open."""
        return {**dict(sorted(self.published.items())), "open": len(self.open)}

    def _agent(self) -> str:
        return f"soak-agent-{self.rng.randrange(AGENTS):02d}"

    def _at(self, when: float, hid: str, kind: HandoffEventType) -> None:
        heapq.heappush(self._due, (when, next(self._order), hid, kind))

    def _event(self, opened: _Open, kind: HandoffEventType) -> bytes:
        agent = None if kind is HandoffEventType.abandoned else opened.agent_id
        event = HandoffEvent(
            event_id=str(uuid.uuid5(uuid.NAMESPACE_URL, f"{SOURCE}/{opened.handoff_id}/{kind}")),
            handoff_id=opened.handoff_id,
            conversation_id=opened.conversation_id,
            type=kind,
            ts=datetime.now(UTC),
            source=SOURCE,
            agent_id=agent,
            queue=opened.queue,
            reason="customer_left" if kind is HandoffEventType.abandoned else None,
        )
        return event.model_dump_json(exclude_none=True).encode()
