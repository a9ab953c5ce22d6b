"""Replay a call log through the router's own `Centre` and estimator.

Events are applied in time order with the calls the router service makes: `arrive` for a
caller joining a queue, `presence` for agents, `assign` for the answer the log records (the
log, not routing, decides who is served when, so the estimates see the real queue), `finish`
when a service ends, `abandon` when a caller hangs up. At each arrival the caller's first
announced estimate (point and range) is kept with the yardsticks, all from the centre's state
at that moment: nothing later is read.

The log has no presence events. The shift rule: an agent is on shift from the first call they
answer until `idle_minutes` after their latest service ended with no other started (decided
when that time comes, so without looking ahead); their skills are the queues they have
answered so far. On shift they are presented as `busy`: an agent the log shows idle while a
caller waits was not ready (after-call work, a break), so routing must not hand them anyone.
"""

from __future__ import annotations

import heapq
import math
from dataclasses import dataclass
from datetime import datetime, timedelta

from warmhandoff.streams.contract.models import (
    AgentPresence,
    Bundle,
    HandoffRequest,
    Identity,
    PresenceState,
    Routing,
    Summary,
)
from warmhandoff.streams.lab.simulation.trace import Trace, TraceError, TraceEvent
from warmhandoff.streams.routing.centre import Centre
from warmhandoff.streams.routing.desk import QueueSpec, Waiting
from warmhandoff.streams.routing.estimate import QueueStats
from warmhandoff.streams.routing.router import aged_priority

IDLE_MINUTES = 10.0
# Routing never reads the bundle: every replayed request shares this empty one.
_BUNDLE = Bundle(
    transcript=[],
    entities={},
    identity=Identity(),
    steps_tried=[],
    summary=Summary(wants="a human", tried="", why="call log", text="a human"),
    next_steps=[],
)
HANDLE_PRIOR_SECONDS = 300.0  # the shipped policy's assumed handle time


@dataclass(slots=True)
class Prediction:
    """What one caller was told on arrival, the yardsticks then, and what happened."""

    caller: str
    queue: str
    priority: int
    arrived: datetime
    point: float
    low: float
    high: float
    naive: float
    hol: float
    les: float
    waited: float | None = None
    abandoned: bool = False

    @property
    def queued(self) -> bool:
        """Served after waiting, or abandoned: the callers who heard a wait."""
        return self.abandoned or (self.waited is not None and self.waited > 0)


def queue_spec(name: str) -> QueueSpec:
    """A plain queue: agents need the skill named after it; no hours, relaxing or offers."""
    return QueueSpec(
        name=name,
        skills=frozenset({name}),
        optional_skills=frozenset(),
        languages=frozenset(),
        channels=frozenset(),
        tiers=frozenset(),
        sla_target=0.8,
        sla_seconds=20,
        overflow=None,
        hours=None,
        relax=(),
        right_channel=None,
        ticket_response_seconds=14_400,
    )


def replay(trace: Trace, *, idle_minutes: float = IDLE_MINUTES) -> list[Prediction]:
    """Every caller's prediction on arrival and outcome, in order of arrival."""
    queues = sorted({e.queue for e in trace.events if e.event == "arrive"})
    centre = Centre(
        queues={q: queue_spec(q) for q in queues},
        points_per_minute=trace.points_per_minute,
        handle_prior_seconds=HANDLE_PRIOR_SECONDS,
        stats={q: QueueStats(handle_prior_seconds=HANDLE_PRIOR_SECONDS) for q in queues},
        priority_credit_seconds=dict(trace.credits),
    )
    return _Replay(centre, timedelta(minutes=idle_minutes)).run(trace.events)


class _Replay:
    def __init__(self, centre: Centre, idle: timedelta) -> None:
        self.centre = centre
        self.idle = idle
        self.predictions: dict[str, Prediction] = {}
        self.served_by: dict[str, tuple[str | None, str, datetime]] = {}  # agent, queue, since
        self.skills: dict[str, dict[str, int]] = {}
        self.last_end: dict[str, datetime] = {}
        self.expiries: list[tuple[datetime, str]] = []
        self.last_answered: dict[str, float] = {}

    def run(self, events: list[TraceEvent]) -> list[Prediction]:
        for e in events:
            self._expire(e.ts)
            if e.event == "arrive":
                self._arrive(e)
            elif e.event == "answer":
                self._answer(e)
            elif e.event == "abandon":
                self._abandon(e)
            else:
                self._end(e)
        return list(self.predictions.values())

    def _arrive(self, e: TraceEvent) -> None:
        request = _request(e)
        step = self.centre.arrive(request, e.ts)
        handoff = self.centre.waiting[e.caller]
        first = next((u.estimate for u in step.updates if u.handoff_id == e.caller), None)
        estimate = first or self.centre.estimate(handoff, e.ts)
        naive = self.centre.naive(handoff, e.ts)
        if not math.isfinite(naive):  # nobody on shift yet: as if one agent were
            view = self.centre.view(handoff, e.ts)
            handle = self.centre.stats[e.queue].handle_seconds()
            naive = (view.ahead + 1) * handle
        self.predictions[e.caller] = Prediction(
            caller=e.caller,
            queue=e.queue,
            priority=e.priority,
            arrived=e.ts,
            point=estimate.point_seconds,
            low=float(estimate.wait.low_seconds),
            high=float(estimate.wait.high_seconds),
            naive=naive,
            hol=self._head_of_line(handoff, e.ts),
            les=self.last_answered.get(e.queue, 0.0),
        )

    def _head_of_line(self, handoff: Waiting, now: datetime) -> float:
        """The current wait of the first in line of the caller's queue (0: nobody ahead)."""
        ppm = self.centre.points_per_minute
        head: tuple[float, datetime, str] | None = None
        since = now
        for other in self.centre.waiting.values():
            if other.handoff_id == handoff.handoff_id or other.origin != handoff.origin:
                continue
            rank = (aged_priority(other, now, ppm), other.sla_start, other.handoff_id)
            if head is None or rank < head:
                head, since = rank, other.enqueued_at
        return (now - since).total_seconds()

    def _answer(self, e: TraceEvent) -> None:
        prediction = self.predictions[e.caller]
        queue = prediction.queue
        if e.agent is not None:
            self._on_shift(e.agent, queue, e.ts)
        self.centre.assign(e.caller, e.agent or "unknown", queue, e.ts)
        prediction.waited = (e.ts - prediction.arrived).total_seconds()
        if prediction.waited > 0:  # the yardstick follows the callers who queued
            self.last_answered[queue] = prediction.waited
        self.served_by[e.caller] = (e.agent, queue, e.ts)

    def _abandon(self, e: TraceEvent) -> None:
        prediction = self.predictions[e.caller]
        self.centre.abandon(e.caller, e.ts)
        prediction.waited = (e.ts - prediction.arrived).total_seconds()
        prediction.abandoned = True

    def _end(self, e: TraceEvent) -> None:
        found = self.served_by.pop(e.caller, None)
        if found is None:
            raise TraceError(f"{e.where}: caller {e.caller!r}: end before an answer")
        agent, queue, since = found
        handle = (e.ts - since).total_seconds()
        self.centre.finish(agent or "unknown", queue, handle, e.ts)
        if agent is not None:
            self.last_end[agent] = e.ts
            heapq.heappush(self.expiries, (e.ts + self.idle, agent))

    def _on_shift(self, agent: str, queue: str, now: datetime) -> None:
        """The agent answers a caller of `queue`: on shift, with that queue's skill."""
        skills = self.skills.setdefault(agent, {})
        known = self.centre.agents.get(agent)
        if known is not None and known.on_shift and queue in skills:
            return
        skills[queue] = 5
        self._present(agent, PresenceState.busy, now)

    def _expire(self, now: datetime) -> None:
        """Agents idle for `idle` since their latest service ended leave the shift."""
        while self.expiries and self.expiries[0][0] <= now:
            at, agent = heapq.heappop(self.expiries)
            known = self.centre.agents.get(agent)
            if known is None or not known.on_shift or known.active > 0:
                continue
            if self.last_end.get(agent, at) + self.idle > at:
                continue  # a later service ended since: its own expiry decides
            self._present(agent, PresenceState.offline, at)

    def _present(self, agent: str, state: PresenceState, now: datetime) -> None:
        known = self.centre.agents.get(agent)
        self.centre.presence(
            AgentPresence(
                agent_id=agent,
                ts=now,
                state=state,
                skills=dict(self.skills.get(agent, {})),
                capacity=1,
                active=known.active if known is not None else 0,
            ),
            now,
        )


def _request(e: TraceEvent) -> HandoffRequest:
    """A handoff request for a caller: routing reads only the id, queue, priority and times."""
    routing = Routing.model_construct(
        queue=e.queue,
        skills=[],
        language=None,
        entitlement=None,
        channel=None,
        priority=e.priority,
        sla_seconds=20,
        sla_target=0.8,
        sla_deadline=e.ts + timedelta(seconds=20),
    )
    return HandoffRequest.model_construct(
        handoff_id=e.caller,
        conversation_id=e.caller,
        escalation_number=1,
        decision_id=e.caller,
        created_at=e.ts,
        turn_ts=e.ts,
        first_unmet_need_at=e.ts,
        channel=None,
        triggers=[],
        routing=routing,
        wait=None,
        policy_version="trace",
        bundle=_BUNDLE,
    )
