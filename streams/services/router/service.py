"""The live router (a sketch the lead can wire): one consumer of `handoff.requests`,
`handoff.events` and `agent.presence` that publishes routing events, status directives,
`queue.health` and `alerts`.

Input topics and keys: `handoff.requests` and `handoff.events` (conversation_id),
`agent.presence` (agent_id). Outputs: `handoff.events` (`queued` when a handoff overflows or
is widened, `offered` with the agent when it is assigned; source `warmhandoff:router`, which
the router ignores when they come back), `bot.directives` (status updates with the wait range
and position), `queue.health` and `alerts` (key: queue), `deadletter` (undecodable input).

Ordering and idempotency: routing needs the whole desk in one place, so one router process
consumes every partition (its own consumer group); redelivered requests and stale presence
change nothing (`Centre`), lifecycle events are deduplicated by `event_id`, and every output
id is a uuid5 of what it names. State is in memory: a restarted router starts from the
committed offsets with an empty desk and rebuilds it as presence and requests arrive (a
compacted presence topic, read from the start on every start, restores the agents at once;
handoffs that were waiting come back when the lifecycle re-publishes a request not accepted
in time).

`RouterCore` is the pure part (tested directly); `run_router` is the thin aiokafka loop.
"""

from __future__ import annotations

import asyncio
import uuid
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import structlog
from pydantic import BaseModel

from warmhandoff.streams.config.router import RouterSettings
from warmhandoff.streams.contract.models import (
    AgentPresence,
    Alert,
    Directive,
    DirectiveType,
    HandoffEvent,
    HandoffEventType,
    HandoffRequest,
    QueueHealth,
)
from warmhandoff.streams.core.transfer import NAMESPACE, describe_wait
from warmhandoff.streams.routing.centre import Centre, Step
from warmhandoff.streams.routing.estimate import update_message
from warmhandoff.streams.routing.exceptions import RoutingError
from warmhandoff.streams.routing.health import alerts
from warmhandoff.streams.routing.router import ChangeKind, offer_message, ticket_message

SOURCE = "warmhandoff:router"
log = structlog.get_logger(__name__)

Clock = Callable[[], datetime]

#: The human's work on a handoff ends: their capacity is free again (a transfer re-queues it).
_ENDED = frozenset(
    {HandoffEventType.resolved, HandoffEventType.handed_back, HandoffEventType.transferred}
)
#: A customer's answer to a right-channel offer, as the bot reports it: a `queued` event with
#: one of these reasons (True: they took the callback or ticket and leave the queue).
RIGHT_CHANNEL_ANSWERS = {"callback": True, "ticket": True, "keep_waiting": False}
_GONE = frozenset({HandoffEventType.abandoned, HandoffEventType.cancelled, HandoffEventType.failed})


def _id(name: str) -> str:
    return str(uuid.uuid5(NAMESPACE, name))


@dataclass(slots=True)
class Outputs:
    """What the router publishes after one input or tick."""

    events: list[HandoffEvent] = field(default_factory=list)
    directives: list[Directive] = field(default_factory=list)
    health: list[QueueHealth] = field(default_factory=list)
    alerts: list[Alert] = field(default_factory=list)


@dataclass(slots=True)
class RouterCore:
    """Turns topic records into `Centre` events and `Centre` steps into records. Pure."""

    centre: Centre
    health_every_seconds: float = 5.0  # `queue.health` per queue every few seconds
    _conversations: dict[str, str] = field(default_factory=dict)  # handoff -> conversation
    _started: dict[str, tuple[str, str, datetime]] = field(default_factory=dict)
    _seen_events: deque[str] = field(default_factory=lambda: deque(maxlen=10_000))
    _updates: dict[str, int] = field(default_factory=dict)
    _alerts: frozenset[tuple[str, str]] = frozenset()
    _last_health: datetime | None = None

    def request(self, request: HandoffRequest, now: datetime) -> Outputs:
        """A new handoff request."""
        self._conversations[request.handoff_id] = request.conversation_id
        return self._outputs(self.centre.arrive(request, now), now)

    def presence(self, presence: AgentPresence, now: datetime) -> Outputs:
        """An agent's presence changed."""
        return self._outputs(self.centre.presence(presence, now), now)

    def event(self, event: HandoffEvent, now: datetime) -> Outputs:
        """A lifecycle event from a sink, the CRM or the contact centre."""
        if event.source == SOURCE or event.event_id in self._seen_events:
            return Outputs()
        self._seen_events.append(event.event_id)
        hid = event.handoff_id
        if event.type is HandoffEventType.queued and event.reason in RIGHT_CHANNEL_ANSWERS:
            # The bot reports the customer's answer to a callback or ticket offer.
            took = RIGHT_CHANNEL_ANSWERS[event.reason]
            return self._outputs(self.centre.answer_offer(hid, took, now), now)
        if event.type is HandoffEventType.accepted and event.agent_id:
            self._started[hid] = (event.agent_id, event.queue or "", event.ts)
            return Outputs()
        if event.type in _ENDED and hid in self._started:
            agent, queue, began = self._started.pop(hid)
            handle = (event.ts - began).total_seconds()
            return self._outputs(self.centre.finish(agent, queue, handle, now), now)
        if event.type in _GONE:
            self._started.pop(hid, None)
            return self._outputs(self.centre.abandon(hid, now), now)
        return Outputs()

    def tick(self, now: datetime) -> Outputs:
        """Time passed: relaxation, overflow, periodic updates; health when it is due."""
        out = self._outputs(self.centre.tick(now), now)
        last = self._last_health
        if last is None or (now - last).total_seconds() >= self.health_every_seconds:
            self._last_health = now
            out.health = self.centre.health(now)
            out.alerts, self._alerts = alerts(out.health, self._alerts, now)
        return out

    def _outputs(self, step: Step, now: datetime) -> Outputs:
        out = Outputs()
        for change in step.changes:
            cid = self._conversations.get(change.handoff_id)
            if cid is None:
                continue
            if change.kind in (ChangeKind.overflow, ChangeKind.widened):
                out.events.append(
                    self._event(
                        change.handoff_id,
                        cid,
                        "queued",
                        now,
                        queue=change.target,
                        reason=change.reason,
                    )
                )
            elif change.kind is ChangeKind.assigned:
                agent = change.target.removeprefix("agent:")
                out.events.append(
                    self._event(
                        change.handoff_id, cid, "offered", now, agent_id=agent, queue=change.source
                    )
                )
        for ticket in step.route.tickets:
            cid = self._conversations.get(ticket.handoff_id)
            if cid is not None:
                out.directives.append(
                    self._status(ticket.handoff_id, cid, now, ticket_message(ticket, now))
                )
        for hid, offer in step.route.offers:
            cid = self._conversations.get(hid)
            waiting = self.centre.waiting.get(hid)
            if cid is not None and waiting is not None:
                wait = self.centre.estimate(waiting, now).wait
                text = offer_message(offer, describe_wait(wait))
                out.directives.append(self._status(hid, cid, now, text))
        for update in step.updates:
            cid = self._conversations.get(update.handoff_id)
            if cid is not None:
                text = update_message(update.estimate.wait, update.position, update.reason)
                out.directives.append(
                    self._status(update.handoff_id, cid, now, text, update=update)
                )
        for assignment, _, _ in step.answered:
            self._updates.pop(assignment.handoff_id, None)
        return out

    def _event(self, hid: str, cid: str, kind: str, now: datetime, **fields: Any) -> HandoffEvent:
        name = f"router/{hid}/{kind}/{fields.get('queue')}/{fields.get('agent_id')}"
        return HandoffEvent(
            event_id=_id(name),
            handoff_id=hid,
            conversation_id=cid,
            type=HandoffEventType(kind),
            ts=now,
            source=SOURCE,
            **{k: v[:200] if isinstance(v, str) else v for k, v in fields.items()},
        )

    def _status(
        self, hid: str, cid: str, now: datetime, text: str, *, update: Any = None
    ) -> Directive:
        number = self._updates[hid] = self._updates.get(hid, 0) + 1
        return Directive(
            directive_id=_id(f"router-status/{hid}/{number}"),
            conversation_id=cid,
            type=DirectiveType.status,
            ts=now,
            seq=0,  # not caused by a turn: the router's own update
            handoff_id=hid,
            message=text,
            wait=update.estimate.wait if update is not None else None,
            position=update.position if update is not None else None,
        )


def _now() -> datetime:
    return datetime.now(UTC)


def observe_health(health: list[QueueHealth]) -> None:
    """Set the queue gauges the dashboards and alert rules read (streams/runtime/metrics.py)."""
    from warmhandoff.streams.runtime.metrics import (
        QUEUE_OLDEST_WAIT,
        QUEUE_SERVICE_LEVEL,
        QUEUE_SLA_SECONDS,
        QUEUE_SLA_TARGET,
        QUEUE_WAITING,
    )

    for h in health:
        QUEUE_WAITING.labels(h.queue).set(h.waiting)
        QUEUE_OLDEST_WAIT.labels(h.queue).set(h.oldest_wait_seconds)
        QUEUE_SLA_TARGET.labels(h.queue).set(h.sla_target)
        QUEUE_SLA_SECONDS.labels(h.queue).set(h.sla_seconds)
        if h.service_level is not None:
            QUEUE_SERVICE_LEVEL.labels(h.queue).set(h.service_level)


async def run_router(
    settings: RouterSettings, *, clock: Clock = _now, tick_seconds: float = 1.0
) -> None:
    """Consume the three inputs and publish what `RouterCore` decides, until cancelled."""
    from aiokafka import AIOKafkaConsumer, AIOKafkaProducer

    from warmhandoff.streams.config.connection import aiokafka_kwargs, topics_for
    from warmhandoff.streams.core.codec import Rejected, dead_letter, decode, encode
    from warmhandoff.streams.policy.loader import load_policy

    topics = topics_for(settings)
    core = RouterCore(Centre.from_policy(load_policy(settings.policy_file)))
    inputs: dict[str, tuple[type[BaseModel], Callable[[Any, datetime], Outputs]]] = {
        topics.name("handoff.requests"): (HandoffRequest, core.request),
        topics.name("handoff.events"): (HandoffEvent, core.event),
        topics.name("agent.presence"): (AgentPresence, core.presence),
    }
    kwargs = aiokafka_kwargs(settings)
    presence_topic = topics.name("agent.presence")
    # Requests and events resume from the group's committed offsets (a new group starts from
    # the beginning). Presence is read from the beginning on every start, without a group:
    # the topic is compacted to each agent's latest state, so a restarted router knows the
    # whole desk at once. Handoffs that were waiting when it stopped come back through the
    # lifecycle's accept deadline, which re-publishes a request nobody accepted.
    consumer = AIOKafkaConsumer(
        *(t for t in inputs if t != presence_topic),
        **kwargs,
        group_id=f"{settings.app_id}-router",
        auto_offset_reset="earliest",
    )
    presence_consumer = AIOKafkaConsumer(
        presence_topic, **kwargs, group_id=None, auto_offset_reset="earliest"
    )
    producer = AIOKafkaProducer(**kwargs, acks="all")  # min ISR protects its writes too
    await consumer.start()
    await presence_consumer.start()
    await producer.start()
    records: asyncio.Queue[Any] = asyncio.Queue(maxsize=1000)

    async def feed(source: AIOKafkaConsumer) -> None:
        try:
            async for msg in source:
                await records.put(msg)
        except Exception as exc:  # noqa: BLE001 - not swallowed: the main loop raises it
            await records.put(exc)

    feeders = [asyncio.create_task(feed(c)) for c in (consumer, presence_consumer)]

    async def publish(out: Outputs) -> None:
        observe_health(out.health)
        for event in out.events:
            await producer.send(
                topics.name("handoff.events"), encode(event), key=event.conversation_id.encode()
            )
        for directive in out.directives:
            await producer.send(
                topics.name("bot.directives"),
                encode(directive),
                key=directive.conversation_id.encode(),
            )
        for health in out.health:
            await producer.send(
                topics.name("queue.health"), encode(health), key=health.queue.encode()
            )
        for alert in out.alerts:
            await producer.send(
                topics.name("alerts"), encode(alert), key=(alert.queue or "").encode()
            )
        await producer.flush()

    async def ticks() -> None:
        while True:
            await asyncio.sleep(tick_seconds)  # a period, not a wait for another task
            await publish(core.tick(clock()))

    ticker = asyncio.create_task(ticks())
    try:
        while True:
            msg = await records.get()
            if isinstance(msg, Exception):
                raise msg
            model, handle = inputs[msg.topic]
            try:
                record: BaseModel = decode(msg.value, model, max_bytes=settings.max_turn_bytes)
                try:
                    out = handle(record, clock())
                except RoutingError as exc:  # e.g. a queue this router's policy lacks
                    raise Rejected("unroutable", str(exc)) from None
            except Rejected as rejected:
                letter = dead_letter(
                    rejected,
                    stage="router",
                    topic=msg.topic,
                    partition=msg.partition,
                    offset=msg.offset,
                    key=msg.key,
                    value=msg.value,
                    now=clock(),
                )
                log.warning("router.rejected", reason=rejected.reason, topic=msg.topic)
                await producer.send_and_wait(topics.name("deadletter"), encode(letter), key=msg.key)
                continue
            await publish(out)
    finally:
        ticker.cancel()
        for feeder in feeders:
            feeder.cancel()
        await producer.stop()
        await presence_consumer.stop()
        await consumer.stop()
