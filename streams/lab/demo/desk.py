"""A simulated contact centre for `warmhandoff demo`, driven by the live router.

At start it puts its human agents on `agent.presence` (every skill, language and tier of the
policy's queues, a few chats each). The router (`warmhandoff router`, run by the demo) routes
each handoff to one of them and publishes `offered`; the desk then reports what a contact
centre would on `handoff.events`, keyed by the conversation: `delivered` as soon as a request
arrives (its CRM stored the case), `accepted` by the agent the router offered it to, and,
after a seeded handle time, `resolved` or, for a seeded share, `handed_back`. The worker
answers with `pause` and `resume`; the router frees the agent for the next customer and tells
the ones still waiting their place in line and the wait. When the demo ends, `finish` closes
what is still open: accepted chats are resolved, handoffs no agent took (a ticket out of a
desk's hours) are handed back. A re-published request (same handoff_id: a retry or a
re-route) is an update, not a new handoff. Time comes from `clock`, choices from a seeded
RNG, so two runs with one seed make the same choices.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import uuid
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import orjson
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer

from warmhandoff.streams.config.connection import ConnectionSettings, aiokafka_kwargs
from warmhandoff.streams.contract.models import (
    AgentPresence,
    HandoffEvent,
    HandoffEventType,
    PresenceState,
)
from warmhandoff.streams.contract.topics import Topics
from warmhandoff.streams.policy.model import Policy
from warmhandoff.streams.services.router.service import SOURCE as ROUTER

#: Share of handoffs the simulated agent hands back to the bot instead of resolving.
HANDED_BACK_SHARE = 0.15
AGENTS = 12
CHATS_PER_AGENT = 2
#: Seconds an agent spends on a chat in the demo (seeded, uniform): a few, to see queueing.
HANDLE_SECONDS = (2.0, 6.0)

Clock = Callable[[], datetime]


def _now() -> datetime:
    return datetime.now(UTC)


def _event(
    request: dict[str, Any], kind: HandoffEventType, now: datetime, **extra: Any
) -> HandoffEvent:
    hid, cid = request["handoff_id"], request["conversation_id"]
    return HandoffEvent(
        event_id=str(uuid.uuid5(uuid.NAMESPACE_URL, f"demo-desk/{hid}/{kind.value}")),
        handoff_id=hid,
        conversation_id=cid,
        type=kind,
        ts=now,
        source="demo:desk",
        queue=request["routing"]["queue"],
        **extra,
    )


def desk_events(request: dict[str, Any], rng: random.Random, now: datetime) -> list[HandoffEvent]:
    """What the desk reports for one handoff an agent takes, in order (agent chosen by `rng`)."""
    agent = f"agent-{rng.randrange(AGENTS):02d}"
    ending = HandoffEventType.handed_back if rng.random() < HANDED_BACK_SHARE else None
    return [
        _event(request, HandoffEventType.delivered, now),
        _event(request, HandoffEventType.accepted, now, agent_id=agent),
        _event(request, ending or HandoffEventType.resolved, now, agent_id=agent),
    ]


def agents(policy: Policy, now: datetime) -> list[AgentPresence]:
    """The desk's agents: each can serve every queue of the policy."""
    skills = {s: 5 for q in policy.queues.values() for s in (*q.skills, *q.optional_skills)}
    languages = sorted({lang for q in policy.queues.values() for lang in q.languages} | {"en"})
    tiers = sorted({t for q in policy.queues.values() for t in q.entitlement})
    return [
        AgentPresence(
            agent_id=f"agent-{i:02d}",
            ts=now,
            state=PresenceState.available,
            skills=skills,
            languages=languages,
            capacity=CHATS_PER_AGENT,
            tiers=tiers,
        )
        for i in range(AGENTS)
    ]


class SimulatedDesk:
    """Publishes the agents, then answers the router's offers with lifecycle events."""

    def __init__(
        self,
        settings: ConnectionSettings,
        topics: Topics,
        policy: Policy,
        *,
        seed: int,
        clock: Clock = _now,
    ) -> None:
        self.settings = settings
        self.topics = topics
        self.policy = policy
        self.rng = random.Random(seed)
        self.clock = clock
        self.seen: set[str] = set()
        self.published: Counter[str] = Counter()
        self.requests: dict[str, dict[str, Any]] = {}
        self.accepted: dict[str, str] = {}  # handoff -> agent
        self.closed: set[str] = set()
        self._producer: AIOKafkaProducer | None = None
        self._chats: set[asyncio.Task[None]] = set()

    async def run(self) -> None:
        """Answer handoffs until cancelled."""
        kwargs = aiokafka_kwargs(self.settings)
        requests, events = self.topics.name("handoff.requests"), self.topics.name("handoff.events")
        consumer = AIOKafkaConsumer(
            requests, events, **kwargs, auto_offset_reset="earliest", group_id=None
        )
        producer = self._producer = AIOKafkaProducer(**kwargs)
        await consumer.start()
        await producer.start()
        try:
            for agent in agents(self.policy, self.clock()):
                await producer.send_and_wait(
                    self.topics.name("agent.presence"),
                    agent.model_dump_json(exclude_none=True).encode(),
                    key=agent.agent_id.encode(),
                )
            async for msg in consumer:
                record = orjson.loads(msg.value)
                if msg.topic == requests:
                    await self._request(record)
                elif record.get("source") == ROUTER and record.get("type") == "offered":
                    await self._offered(record)
        finally:
            for chat in self._chats:
                chat.cancel()
            self._producer = None
            await producer.stop()
            await consumer.stop()

    async def _request(self, request: dict[str, Any]) -> None:
        hid = request["handoff_id"]
        if hid in self.seen:
            return  # a retry or re-route of a handoff already answered
        self.seen.add(hid)
        self.requests[hid] = request
        await self._send(_event(request, HandoffEventType.delivered, self.clock()))

    async def _offered(self, offer: dict[str, Any]) -> None:
        hid, agent = offer["handoff_id"], offer.get("agent_id")
        request = self.requests.get(hid)
        if request is None or agent is None or hid in self.accepted or hid in self.closed:
            return
        self.accepted[hid] = agent
        await self._send(_event(request, HandoffEventType.accepted, self.clock(), agent_id=agent))
        handle = self.rng.uniform(*HANDLE_SECONDS)
        ending = (
            HandoffEventType.handed_back
            if self.rng.random() < HANDED_BACK_SHARE
            else HandoffEventType.resolved
        )
        chat = asyncio.create_task(self._chat(hid, handle, ending))
        self._chats.add(chat)
        chat.add_done_callback(self._chats.discard)

    async def _chat(self, hid: str, seconds: float, ending: HandoffEventType) -> None:
        await asyncio.sleep(seconds)  # the simulated agent talking with the customer
        await self._close(hid, ending)

    async def _close(self, hid: str, ending: HandoffEventType) -> None:
        if hid in self.closed:
            return
        self.closed.add(hid)
        agent = self.accepted.get(hid)
        extra = {"agent_id": agent} if agent else {"reason": "no_agent_before_demo_end"}
        await self._send(_event(self.requests[hid], ending, self.clock(), **extra))

    async def finish(self) -> None:
        """Close what is still open: chats in progress resolved, the rest handed back."""
        for chat in list(self._chats):
            chat.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await chat
        for hid in sorted(self.seen - self.closed):
            ending = (
                HandoffEventType.resolved if hid in self.accepted else HandoffEventType.handed_back
            )
            await self._close(hid, ending)

    async def _send(self, event: HandoffEvent) -> None:
        if self._producer is None:
            return  # not running (stopped, or failed to start): nothing to report
        await self._producer.send_and_wait(
            self.topics.name("handoff.events"),
            event.model_dump_json(exclude_none=True).encode(),
            key=event.conversation_id.encode(),
        )
        self.published[event.type.value] += 1
