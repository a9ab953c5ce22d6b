"""The router: given the agents, the waiting handoffs and `now`, decide what happens next.

One `route` call, in order:
1. business hours: a handoff none of whose queues is open becomes a ticket with an expected
   response time (the next opening plus the queue's `ticket_response_seconds`);
2. relaxation: the origin queue's `relax` steps whose `after_seconds` have passed are taken
   (drop optional skills, widen to a broader queue); a step is taken at once when no agent on
   shift could serve the handoff as it stands;
3. overflow: when the predicted wait would pass the SLA deadline (the clock started at the
   customer's first unmet need), the handoff moves to the queue's `overflow` queue if that
   queue is open, admits it and predicts a shorter wait;
4. right channel: when the predicted wait exceeds the queue's `right_channel.after_seconds`,
   the customer is offered a callback or a ticket (once);
5. assignment: handoffs in order of aged priority (priority minus `points_per_minute` for
   every minute on the SLA clock; the older first on a tie) take the best free agent who
   `serves` them: most optional skills, then highest skill levels, then least loaded.

Every change is a `RoutingChange` with its reason. Pure: the predicted wait is a parameter.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum

from warmhandoff.streams.policy.model import Offer
from warmhandoff.streams.routing.desk import (
    Agent,
    QueueSpec,
    Waiting,
    eligible,
    next_opening,
    serves,
)

Predict = Callable[[Waiting], float]
"""The predicted wait (seconds) of a waiting handoff as it stands (its accepted queues)."""


class ChangeKind(StrEnum):
    queued = "queued"
    relaxed = "relaxed"  # optional skills dropped
    widened = "widened"  # a broader queue's agents may take it
    skipped = "skipped"  # a relax step that could not apply (the queue does not admit it)
    overflow = "overflow"
    offered = "offered"  # callback or ticket offered instead of waiting
    accepted_offer = "accepted_offer"
    declined_offer = "declined_offer"
    ticket = "ticket"
    assigned = "assigned"
    abandoned = "abandoned"


@dataclass(frozen=True, slots=True)
class RoutingChange:
    """One recorded routing change of a handoff: from where, to where, why, when."""

    handoff_id: str
    kind: ChangeKind
    source: str  # the queue (or state) it left
    target: str  # a queue, `agent:ID`, `callback` or `ticket`
    reason: str
    at: datetime


@dataclass(frozen=True, slots=True)
class Assignment:
    """A handoff given to an agent, as part of `queue` (whose skills the agent has)."""

    handoff_id: str
    agent_id: str
    queue: str


@dataclass(frozen=True, slots=True)
class Ticket:
    """A handoff turned into an asynchronous ticket answered by `respond_by`."""

    handoff_id: str
    queue: str
    respond_by: datetime


@dataclass(slots=True)
class RouteResult:
    """Everything one `route` call decided."""

    changes: list[RoutingChange] = field(default_factory=list)
    assignments: list[Assignment] = field(default_factory=list)
    offers: list[tuple[str, Offer]] = field(default_factory=list)
    tickets: list[Ticket] = field(default_factory=list)


def aged_priority(handoff: Waiting, now: datetime, points_per_minute: float) -> float:
    """The handoff's priority less the points its wait and credit earned (lower is more urgent)."""
    minutes = (max(0.0, (now - handoff.sla_start).total_seconds()) + handoff.credit_seconds) / 60.0
    return handoff.priority - points_per_minute * minutes


def ranked(waiting: Sequence[Waiting], now: datetime, points_per_minute: float) -> list[Waiting]:
    """Waiting handoffs in the order they are served."""
    return sorted(
        waiting,
        key=lambda w: (aged_priority(w, now, points_per_minute), w.sla_start, w.handoff_id),
    )


def route(
    waiting: Sequence[Waiting],
    agents: Mapping[str, Agent],
    queues: Mapping[str, QueueSpec],
    now: datetime,
    *,
    points_per_minute: float,
    predict: Predict,
) -> RouteResult:
    """Decide tickets, relaxations, overflows, offers and assignments (module docstring).

    Mutates the `Waiting` records it changes (their accepted queues, steps, offer flag) and
    records each change; the caller removes assigned and ticketed handoffs.
    """
    result = RouteResult()
    live: list[Waiting] = []
    for handoff in waiting:
        ticket = _closed(handoff, queues, now)
        if ticket is None:
            live.append(handoff)
            continue
        result.tickets.append(ticket)
        spec = queues[handoff.origin]
        hours = spec.hours.text if spec.hours else "24/7"
        result.changes.append(
            RoutingChange(
                handoff.handoff_id,
                ChangeKind.ticket,
                handoff.queue,
                "ticket",
                f"outside the hours of {handoff.queue} ({hours}); answered by "
                f"{ticket.respond_by.isoformat()}",
                now,
            )
        )
    for handoff in live:
        result.changes.extend(_relax(handoff, agents, queues, now))
        change = _overflow(handoff, queues, now, predict)
        if change is not None:
            result.changes.append(change)
        offer = _offer(handoff, queues, now, predict)
        if offer is not None:
            result.offers.append((handoff.handoff_id, offer[0]))
            result.changes.append(offer[1])
    _assign(live, agents, queues, now, points_per_minute, result)
    return result


def _closed(handoff: Waiting, queues: Mapping[str, QueueSpec], now: datetime) -> Ticket | None:
    if any(queues[q].is_open(now) for q in handoff.accepted):
        return None
    spec = queues[handoff.origin]
    opens = next_opening(spec.hours, now) if spec.hours else now
    respond_by = opens + timedelta(seconds=spec.ticket_response_seconds)
    return Ticket(handoff.handoff_id, handoff.origin, respond_by)


def _relax(
    handoff: Waiting, agents: Mapping[str, Agent], queues: Mapping[str, QueueSpec], now: datetime
) -> list[RoutingChange]:
    steps = queues[handoff.origin].relax
    changes: list[RoutingChange] = []
    while handoff.steps_taken < len(steps):
        step = steps[handoff.steps_taken]
        waited = (now - handoff.enqueued_at).total_seconds()
        if waited >= step.after_seconds:
            why = f"waited {waited:.0f} s of {step.after_seconds} s"
        elif not eligible(agents.values(), handoff, queues):
            why = "no agent on shift can serve it as it stands"
        else:
            break
        handoff.steps_taken += 1
        if step.drop_optional_skills and handoff.optional_required:
            handoff.optional_required = False
            dropped = ", ".join(sorted(handoff.optional))
            changes.append(
                RoutingChange(
                    handoff.handoff_id,
                    ChangeKind.relaxed,
                    handoff.queue,
                    handoff.queue,
                    f"{why}: optional skills no longer required ({dropped})",
                    now,
                )
            )
        target = step.widen_to
        if target is not None and target not in handoff.accepted:
            refused = queues[target].admits(handoff)
            kind = ChangeKind.skipped if refused else ChangeKind.widened
            if refused is None:
                handoff.accepted = (*handoff.accepted, target)
            changes.append(
                RoutingChange(
                    handoff.handoff_id,
                    kind,
                    handoff.queue,
                    target,
                    f"{why}: " + (refused or f"{target} agents may take it too"),
                    now,
                )
            )
    return changes


def _overflow(
    handoff: Waiting, queues: Mapping[str, QueueSpec], now: datetime, predict: Predict
) -> RoutingChange | None:
    target = queues[handoff.queue].overflow
    if target is None or target in handoff.accepted:
        return None
    spec = queues[target]
    if not spec.is_open(now) or spec.admits(handoff) is not None:
        return None
    predicted = predict(handoff)
    deadline = handoff.sla_deadline()
    if now + timedelta(seconds=min(predicted, 1e7)) <= deadline:
        return None
    before = (handoff.accepted, handoff.queue)
    handoff.accepted, handoff.queue = (*handoff.accepted, target), target
    there = predict(handoff)
    if there >= predicted:
        handoff.accepted, handoff.queue = before
        return None
    handoff.overflowed = handoff.overflowed | {before[1]}
    late = (now - deadline).total_seconds()
    when = f"{late:.0f} s past" if late > 0 else f"{-late:.0f} s before"
    return RoutingChange(
        handoff.handoff_id,
        ChangeKind.overflow,
        before[1],
        target,
        f"predicted wait {_secs(predicted)} breaks the SLA ({handoff.sla_seconds} s, now {when} "
        f"the deadline); with {target} {_secs(there)}",
        now,
    )


def _offer(
    handoff: Waiting, queues: Mapping[str, QueueSpec], now: datetime, predict: Predict
) -> tuple[Offer, RoutingChange] | None:
    if handoff.offered:
        return None
    right = queues[handoff.queue].right_channel
    if right is None:
        return None
    predicted = predict(handoff)
    if predicted <= right.after_seconds:
        return None
    handoff.offered = True
    return right.offer, RoutingChange(
        handoff.handoff_id,
        ChangeKind.offered,
        handoff.queue,
        right.offer,
        f"predicted wait {_secs(predicted)} exceeds {right.after_seconds} s: {right.offer} offered",
        now,
    )


def _assign(
    live: Sequence[Waiting],
    agents: Mapping[str, Agent],
    queues: Mapping[str, QueueSpec],
    now: datetime,
    points_per_minute: float,
    result: RouteResult,
) -> None:
    free = {a.agent_id: a.free for a in agents.values() if a.free > 0}
    for handoff in ranked(live, now, points_per_minute):
        if not free:
            return
        best: tuple[tuple[float, ...], Agent, str] | None = None
        for agent_id in free:
            agent = agents[agent_id]
            if not serves(agent, handoff, queues):
                continue
            queue = served_as(agent, handoff, queues)
            needed = handoff.required_skills(queue, queues)
            key = (
                -float(len(handoff.optional & agent.skills.keys())),
                -float(sum(agent.skills[s] for s in needed)),
                (agent.capacity - free[agent_id]) / max(1, agent.capacity),
            )
            if best is None or (key, agent_id) < (best[0], best[1].agent_id):
                best = (key, agent, queue)
        if best is None:
            continue
        agent, queue = best[1], best[2]
        free[agent.agent_id] -= 1
        if free[agent.agent_id] == 0:
            del free[agent.agent_id]
        result.assignments.append(Assignment(handoff.handoff_id, agent.agent_id, queue))
        waited = (now - handoff.enqueued_at).total_seconds()
        result.changes.append(
            RoutingChange(
                handoff.handoff_id,
                ChangeKind.assigned,
                handoff.queue,
                f"agent:{agent.agent_id}",
                f"served as {queue} after {waited:.0f} s, aged priority "
                f"{aged_priority(handoff, now, points_per_minute):.1f}",
                now,
            )
        )


def ticket_message(ticket: Ticket, now: datetime) -> str:
    """What the customer is told when their handoff became a ticket."""
    hours = (ticket.respond_by - now).total_seconds() / 3600
    when = (
        f"within {max(1, round(hours))} hour{'s' if round(hours) > 1 else ''}"
        if hours <= 24
        else f"by {ticket.respond_by:%A %H:%M} UTC"
    )
    return (
        "Our team isn't available right now, so I've opened a ticket with our conversation "
        f"so far; a specialist will reply {when}."
    )


def offer_message(offer: Offer, wait_text: str) -> str:
    """What the customer is asked when a callback or ticket is offered instead of waiting."""
    if offer == "callback":
        choice = "we can call you back as soon as a specialist is free"
    else:
        choice = "we can open a ticket with our conversation and reply to you"
    return (
        f"The wait is longer than usual right now ({wait_text}). If you prefer, {choice}, "
        "so you don't have to wait here. Would you like that?"
    )


def served_as(agent: Agent, handoff: Waiting, queues: Mapping[str, QueueSpec]) -> str:
    """The first queue of the handoff whose skills the agent has (origin first)."""
    for queue in handoff.accepted:
        if handoff.required_skills(queue, queues) <= agent.skills.keys():
            return queue
    raise ValueError(f"agent {agent.agent_id} cannot serve handoff {handoff.handoff_id}")


def _secs(seconds: float) -> str:
    return "unknown (nobody on shift)" if seconds >= 1e7 else f"{seconds:.0f} s"
