"""The contact centre's routing state and the events that change it.

`Centre` holds the agents (from `agent.presence`), the waiting handoffs, each queue's recent
measurements and the estimator's calibration; each event method (`presence`, `arrive`,
`finish`, `abandon`, `answer_offer`, `tick`) applies one event at `now` and returns what
routing decided (`Step`). `assign` applies an assignment decided outside routing (a desk
that routes itself, or a replayed call log), so the estimates still see the real queue.
The accelerated simulation drives it with a discrete-event clock;
a live router process would drive it from `agent.presence`, `handoff.requests` and
`handoff.events`. No I/O, no clock of its own.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta

from warmhandoff.streams.contract.models import AgentPresence, HandoffRequest, QueueHealth
from warmhandoff.streams.policy.model import Policy
from warmhandoff.streams.routing.blend import Blend
from warmhandoff.streams.routing.desk import Agent, QueueSpec, Waiting, queues_from_policy, serves
from warmhandoff.streams.routing.estimate import (
    Announcement,
    Calibration,
    Estimate,
    Option,
    QueueStats,
    QueueView,
    estimate_wait,
    naive_wait,
    update_reason,
)
from warmhandoff.streams.routing.health import Outcome, queue_health
from warmhandoff.streams.routing.history import WaitHistory
from warmhandoff.streams.routing.router import (
    Assignment,
    ChangeKind,
    RouteResult,
    RoutingChange,
    aged_priority,
    route,
)


@dataclass(frozen=True, slots=True)
class Update:
    """A status update due for a waiting customer, and why (first, changed, periodic)."""

    handoff_id: str
    reason: str
    estimate: Estimate
    position: int


@dataclass(slots=True)
class Step:
    """What one event changed."""

    route: RouteResult = field(default_factory=RouteResult)
    updates: list[Update] = field(default_factory=list)
    # Each answered handoff with the estimate first announced to it (None: answered on
    # arrival, nothing was announced).
    answered: list[tuple[Assignment, Waiting, Estimate | None]] = field(default_factory=list)

    @property
    def changes(self) -> list[RoutingChange]:
        """Every routing change, in order."""
        return self.route.changes


@dataclass(slots=True)
class Centre:
    """Routing state of one contact centre (see the module docstring)."""

    queues: dict[str, QueueSpec]
    points_per_minute: float
    handle_prior_seconds: float
    update_every_seconds: float = 60.0
    agents: dict[str, Agent] = field(default_factory=dict)
    waiting: dict[str, Waiting] = field(default_factory=dict)
    stats: dict[str, QueueStats] = field(default_factory=dict)
    calibration: Calibration = field(default_factory=Calibration)
    blends: dict[str, Blend] = field(default_factory=dict)  # by origin queue
    histories: dict[str, WaitHistory] = field(default_factory=dict)  # by origin queue
    priority_credit_seconds: dict[int, float] = field(default_factory=dict)
    announced: dict[str, Announcement] = field(default_factory=dict)
    first: dict[str, Estimate] = field(default_factory=dict)  # first announced, until answered
    outcomes: deque[Outcome] = field(default_factory=deque)
    window_seconds: float = 900.0
    _presence_ts: dict[str, datetime] = field(default_factory=dict)
    _chats: dict[str, list[datetime]] = field(default_factory=dict)  # starts, by agent
    _eligible: dict[tuple[str, tuple[str, ...], bool], frozenset[str]] = field(default_factory=dict)

    @classmethod
    def from_policy(cls, policy: Policy) -> Centre:
        """An empty centre for the policy's queues."""
        queues = queues_from_policy(policy)
        prior = float(policy.defaults.handle_time_seconds)
        return cls(
            queues=queues,
            points_per_minute=policy.defaults.priority_points_per_minute,
            handle_prior_seconds=prior,
            stats={name: QueueStats(handle_prior_seconds=prior) for name in queues},
            priority_credit_seconds=dict(policy.defaults.priority_credit_seconds),
        )

    # --- events ---------------------------------------------------------------------

    def presence(self, event: AgentPresence, now: datetime) -> Step:
        """An agent's presence changed; an older event than the last applied is ignored."""
        last = self._presence_ts.get(event.agent_id)
        if last is not None and event.ts < last:
            return Step()
        self._presence_ts[event.agent_id] = event.ts
        self.agents[event.agent_id] = Agent.from_presence(event)
        self._eligible.clear()
        return self.tick(now)

    def arrive(self, request: HandoffRequest, now: datetime) -> Step:
        """A handoff request enters routing (a redelivered one changes nothing)."""
        if request.handoff_id in self.waiting:
            return Step()
        handoff = Waiting.from_request(request, self.queues, now, self.priority_credit_seconds)
        self.waiting[handoff.handoff_id] = handoff
        self.stats[handoff.origin].add_arrival(now, handoff.priority)
        step = Step()
        step.route.changes.append(
            RoutingChange(
                handoff.handoff_id,
                ChangeKind.queued,
                "transfer",
                handoff.queue,
                f"priority {handoff.priority}, SLA {handoff.sla_seconds} s from first unmet need",
                now,
            )
        )
        return self._route(now, step)

    def finish(self, agent_id: str, queue: str, handle_seconds: float, now: datetime) -> Step:
        """An agent's chat for `queue` ended after `handle_seconds`."""
        agent = self.agents.get(agent_id)
        if agent is not None:
            self.agents[agent_id] = replace(agent, active=max(0, agent.active - 1))
        starts = self._chats.get(agent_id)
        if starts:
            began = now - timedelta(seconds=handle_seconds)
            starts.remove(min(starts, key=lambda t: abs((t - began).total_seconds())))
        if queue in self.stats:
            self.stats[queue].add_handle_time(handle_seconds, now)
        return self.tick(now)

    def abandon(self, handoff_id: str, now: datetime) -> Step:
        """The customer gave up waiting (nothing when already answered or gone)."""
        handoff = self.waiting.pop(handoff_id, None)
        step = Step()
        if handoff is None:
            return step
        self.announced.pop(handoff_id, None)
        self.first.pop(handoff_id, None)
        waited = (now - handoff.enqueued_at).total_seconds()
        self.stats[handoff.origin].add_outcome(now, waited, abandoned=True)
        self._outcome(handoff, now, answered=False)
        step.route.changes.append(
            RoutingChange(
                handoff_id,
                ChangeKind.abandoned,
                handoff.queue,
                "gone",
                f"after {waited:.0f} s",
                now,
            )
        )
        return self._route(now, step)

    def answer_offer(self, handoff_id: str, accepted: bool, now: datetime) -> Step:
        """The customer took (leaves the queue) or declined the callback or ticket offer."""
        handoff = self.waiting.get(handoff_id)
        step = Step()
        if handoff is None:
            return step
        if accepted:
            del self.waiting[handoff_id]
            self.announced.pop(handoff_id, None)
            self.first.pop(handoff_id, None)
        kind = ChangeKind.accepted_offer if accepted else ChangeKind.declined_offer
        target = "right_channel" if accepted else handoff.queue
        why = "customer chose the offer" if accepted else "customer keeps waiting"
        step.route.changes.append(RoutingChange(handoff_id, kind, handoff.queue, target, why, now))
        return self._route(now, step) if accepted else step

    def assign(self, handoff_id: str, agent_id: str, queue: str, now: datetime) -> Step:
        """An agent took a waiting handoff by a decision made outside routing.

        An agent the centre does not know still answers the handoff (its chat is not counted).
        Nothing happens when the handoff is no longer waiting.
        """
        step = Step()
        if handoff_id not in self.waiting:
            return step
        assignment = Assignment(handoff_id, agent_id, queue)
        step.route.assignments.append(assignment)
        step.route.changes.append(
            RoutingChange(
                handoff_id, ChangeKind.assigned, queue, f"agent:{agent_id}", "assigned", now
            )
        )
        self._answered(assignment, now, step)
        return self._route(now, step)

    def tick(self, now: datetime) -> Step:
        """Time passed: relaxation timeouts, overflow, assignments, periodic updates."""
        return self._route(now, Step())

    # --- estimates and health -----------------------------------------------------------

    def view(self, handoff: Waiting, now: datetime) -> QueueView:
        """The customer's position and the agents who can take them."""
        mine = self._eligible_ids(handoff)
        ppm = self.points_per_minute
        rank = (aged_priority(handoff, now, ppm), handoff.sla_start, handoff.handoff_id)
        ahead = 0
        head: tuple[float, datetime, str] | None = None
        head_since = now
        for other in self.waiting.values():
            if other.handoff_id == handoff.handoff_id:
                continue
            theirs = (aged_priority(other, now, ppm), other.sla_start, other.handoff_id)
            if theirs < rank and (mine & self._eligible_ids(other)):
                ahead += 1
                if head is None or theirs < head:
                    head, head_since = theirs, other.enqueued_at
        agents = [self.agents[a] for a in mine]
        elapsed: list[float] = []
        for agent in agents:
            busy = agent.capacity - agent.free
            known = [(now - t).total_seconds() for t in self._chats.get(agent.agent_id, ())]
            elapsed.extend((known + [0.0] * busy)[:busy])
        return QueueView(
            ahead=ahead,
            slots=sum(a.capacity for a in agents),
            free=sum(a.free for a in agents),
            elapsed=tuple(elapsed),
            agents=len(agents),
            priority=handoff.priority,
            waited_seconds=max(0.0, (now - handoff.sla_start).total_seconds()),
            points_per_minute=self.points_per_minute,
            head_seconds=max(0.0, (now - head_since).total_seconds()),
            credit_seconds=handoff.credit_seconds,
            credits=tuple(sorted(self.priority_credit_seconds.items())),
        )

    def estimate(self, handoff: Waiting, now: datetime) -> Estimate:
        """The calibrated wait estimate for one waiting customer."""
        return self._estimate(handoff, now)[0]

    def _estimate(self, handoff: Waiting, now: datetime) -> tuple[Estimate, QueueView]:
        here = self.view(handoff, now)
        options = [Option(0.0, here, self._stats_of(handoff))]
        waited = (now - handoff.enqueued_at).total_seconds()
        trial = replace(handoff)
        for step in self.queues[handoff.origin].relax[handoff.steps_taken :]:
            if step.drop_optional_skills:
                trial.optional_required = False
            target = step.widen_to
            if target is not None and self.queues[target].admits(trial) is None:
                trial.accepted = tuple(dict.fromkeys((*trial.accepted, target)))
            after = max(0.0, step.after_seconds - waited)
            options.append(Option(after, self.view(trial, now), self._stats_of(trial)))
        found = estimate_wait(
            options,
            self.calibration,
            now,
            unknown_seconds=4 * self.handle_prior_seconds,
            blend=self.blends.setdefault(handoff.origin, Blend()),
            history=self.histories.setdefault(handoff.origin, WaitHistory()),
        )
        return found, here

    def _stats_of(self, handoff: Waiting) -> list[QueueStats]:
        return [self.stats[q] for q in handoff.accepted]

    def naive(self, handoff: Waiting, now: datetime, *, per_slot: bool = False) -> float:
        """The naive formula for comparison: position x average handle time / agents.

        `per_slot` divides by the agents' concurrent chats instead (a kinder naive).
        """
        view = self.view(handoff, now)
        handle = self.stats[handoff.queue].handle_seconds()
        return naive_wait(view.ahead + 1, handle, view.slots if per_slot else view.agents)

    def health(self, now: datetime) -> list[QueueHealth]:
        """`QueueHealth` of every queue over the recent window."""
        self._forget(now)
        return queue_health(
            self.queues, self.agents.values(), self.waiting.values(), self.outcomes, now
        )

    # --- internals ------------------------------------------------------------------------

    def _eligible_ids(self, handoff: Waiting) -> frozenset[str]:
        key = (handoff.handoff_id, handoff.accepted, handoff.optional_required)
        found = self._eligible.get(key)
        if found is None:
            found = frozenset(
                a.agent_id
                for a in self.agents.values()
                if a.on_shift and serves(a, handoff, self.queues)
            )
            self._eligible[key] = found
        return found

    def _route(self, now: datetime, step: Step) -> Step:
        self._forget(now)
        if len(self._eligible) > 4 * len(self.waiting) + 100:
            self._eligible.clear()

        seen: dict[tuple[str, tuple[str, ...]], float] = {}

        def predict(handoff: Waiting) -> float:
            key = (handoff.handoff_id, handoff.accepted)
            if key not in seen:
                seen[key] = self.estimate(handoff, now).point_seconds
            return seen[key]

        result = route(
            list(self.waiting.values()),
            self.agents,
            self.queues,
            now,
            points_per_minute=self.points_per_minute,
            predict=predict,
        )
        step.route.changes.extend(result.changes)
        step.route.assignments.extend(result.assignments)
        step.route.offers.extend(result.offers)
        step.route.tickets.extend(result.tickets)
        for ticket in result.tickets:
            self.waiting.pop(ticket.handoff_id, None)
            self.announced.pop(ticket.handoff_id, None)
            self.first.pop(ticket.handoff_id, None)
        for assignment in result.assignments:
            self._answered(assignment, now, step)
        self._updates(now, step)
        return step

    def _answered(self, assignment: Assignment, now: datetime, step: Step) -> None:
        handoff = self.waiting.pop(assignment.handoff_id)
        self.announced.pop(assignment.handoff_id, None)
        agent = self.agents.get(assignment.agent_id)
        if agent is not None:
            self.agents[agent.agent_id] = replace(agent, active=agent.active + 1)
            self._chats.setdefault(agent.agent_id, []).append(now)
        waited = (now - handoff.enqueued_at).total_seconds()
        self.stats[handoff.origin].add_outcome(now, waited, abandoned=False)
        self._outcome(handoff, now, answered=True)
        first = self.first.pop(assignment.handoff_id, None)
        if first is not None and waited > 0:
            # A customer answered the instant they arrived never waited on the estimate.
            self.calibration.observe(first.model_seconds, waited)
            self.blends.setdefault(handoff.origin, Blend()).observe(first.features, waited)
            self.histories.setdefault(handoff.origin, WaitHistory()).observe(
                first.situation, waited
            )
        step.answered.append((assignment, handoff, first))

    def _updates(self, now: datetime, step: Step) -> None:
        for handoff in self.waiting.values():
            estimate, here = self._estimate(handoff, now)
            position = here.ahead + 1
            reason = update_reason(
                self.announced.get(handoff.handoff_id),
                estimate.wait,
                position,
                now,
                every_seconds=self.update_every_seconds,
            )
            if reason is None:
                continue
            self.announced[handoff.handoff_id] = Announcement(now, estimate.wait, position)
            if reason == "first":
                self.first[handoff.handoff_id] = estimate
            step.updates.append(Update(handoff.handoff_id, reason, estimate, position))

    def _outcome(self, handoff: Waiting, now: datetime, *, answered: bool) -> None:
        self.outcomes.append(
            Outcome(
                at=now,
                queue=handoff.queue,
                queue_wait=(now - handoff.enqueued_at).total_seconds(),
                sla_wait=(now - handoff.sla_start).total_seconds(),
                sla_seconds=handoff.sla_seconds,
                answered=answered,
            )
        )

    def _forget(self, now: datetime) -> None:
        cutoff = now - timedelta(seconds=self.window_seconds)
        while self.outcomes and self.outcomes[0].at < cutoff:
            self.outcomes.popleft()
        for stats in self.stats.values():
            stats.forget_before(now - timedelta(seconds=stats.window_seconds))
