"""A simulated contact centre for `warmhandoff demo`: it answers every handoff request.

For each new handoff on `handoff.requests` it publishes, on `handoff.events` keyed by the
conversation, what a desk would report: `delivered` (its CRM stored the case) and `accepted`
(an agent took it, with a seeded agent id) at once; the agent then talks with the customer
for the rest of the scripted conversation, and `finish` closes every handoff: `resolved`, or
for a seeded share `handed_back` (the agent hands the customer back to the bot). The worker
answers with `pause` and `resume` directives, so the demo shows the whole loop. A
re-published request (same handoff_id: a retry or a re-route) is an update, not a new
handoff. Time comes from `clock`, choices from a seeded RNG, so two runs with one seed make
the same choices.
"""

from __future__ import annotations

import random
import uuid
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import orjson
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer

from .models import HandoffEvent, HandoffEventType
from .settings import Settings, aiokafka_kwargs
from .topics import Topics

#: Share of handoffs the simulated agent hands back to the bot instead of resolving.
HANDED_BACK_SHARE = 0.15
AGENTS = 12

Clock = Callable[[], datetime]


def _now() -> datetime:
    return datetime.now(UTC)


def desk_events(request: dict[str, Any], rng: random.Random, now: datetime) -> list[HandoffEvent]:
    """What the desk reports for one handoff request, in order."""
    hid, cid = request["handoff_id"], request["conversation_id"]
    agent = f"agent-{rng.randrange(AGENTS):02d}"
    ending = HandoffEventType.handed_back if rng.random() < HANDED_BACK_SHARE else None
    kinds = [
        HandoffEventType.delivered,
        HandoffEventType.accepted,
        ending or HandoffEventType.resolved,
    ]
    return [
        HandoffEvent(
            event_id=str(uuid.uuid5(uuid.NAMESPACE_URL, f"demo-desk/{hid}/{kind.value}")),
            handoff_id=hid,
            conversation_id=cid,
            type=kind,
            ts=now,
            source="demo:desk",
            agent_id=None if kind is HandoffEventType.delivered else agent,
            queue=request["routing"]["queue"],
        )
        for kind in kinds
    ]


class SimulatedDesk:
    """Consumes handoff requests and publishes the desk's lifecycle events."""

    def __init__(
        self, settings: Settings, topics: Topics, *, seed: int, clock: Clock = _now
    ) -> None:
        self.settings = settings
        self.topics = topics
        self.rng = random.Random(seed)
        self.clock = clock
        self.seen: set[str] = set()
        self.published: Counter[str] = Counter()
        self._endings: list[HandoffEvent] = []
        self._producer: AIOKafkaProducer | None = None

    async def run(self) -> None:
        """Answer handoffs until cancelled."""
        kwargs = aiokafka_kwargs(self.settings)
        consumer = AIOKafkaConsumer(
            self.topics.name("handoff.requests"),
            **kwargs,
            auto_offset_reset="earliest",
            group_id=None,
        )
        producer = self._producer = AIOKafkaProducer(**kwargs)
        await consumer.start()
        await producer.start()
        try:
            async for msg in consumer:
                request = orjson.loads(msg.value)
                if request["handoff_id"] in self.seen:
                    continue  # a retry or re-route of a handoff already answered
                self.seen.add(request["handoff_id"])
                *opening, ending = desk_events(request, self.rng, self.clock())
                self._endings.append(ending)
                for event in opening:
                    await self._send(event)
        finally:
            self._producer = None
            await producer.stop()
            await consumer.stop()

    async def finish(self) -> None:
        """The agents close every handoff they accepted (resolved or handed back)."""
        endings, self._endings = self._endings, []
        for event in endings:
            await self._send(event.model_copy(update={"ts": self.clock()}))

    async def _send(self, event: HandoffEvent) -> None:
        if self._producer is None:
            return  # not running (stopped, or failed to start): nothing to report
        await self._producer.send_and_wait(
            self.topics.name("handoff.events"),
            event.model_dump_json(exclude_none=True).encode(),
            key=event.conversation_id.encode(),
        )
        self.published[event.type.value] += 1
