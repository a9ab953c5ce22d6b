"""An accelerated contact centre run through the real routing and estimate code.

Arrivals are real handoff requests: conversations from the simulated bots' scenario
catalogue (`agents.scenarios.generate`), started at Poisson times, run turn by turn through
`pipeline.process_turn` (gather requests answered as the simulated bot's customer would),
so queue, priority, skills, language, entitlement and the SLA clock are the pipeline's own.
The desk: agents for each queue, staffed from Erlang C for the queue's offered load (times
`staffing`), with skills and levels, optional skills for some, languages, entitlement tiers,
one or two concurrent chats, late shift starts, early shift ends and breaks. Handle times
are log-normal; customers give up after an exponential patience; some take the callback
or ticket offered.

A discrete-event clock drives `Centre`; nothing reads the wall clock and every draw comes
from one seeded RNG, so a seed gives the same report.
"""

from __future__ import annotations

import heapq
import math
import random
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from warmhandoff.agents.scenarios import gather_answer, generate
from warmhandoff.streams.contract.models import (
    AgentPresence,
    DirectiveType,
    HandoffRequest,
    Nlu,
    PresenceState,
    Role,
    Turn,
)
from warmhandoff.streams.core.pipeline import new_state, process_turn
from warmhandoff.streams.policy.model import Policy
from warmhandoff.streams.routing.centre import Centre, Step
from warmhandoff.streams.routing.estimate import erlang_c_wait
from warmhandoff.streams.routing.health import alerts
from warmhandoff.streams.routing.router import ChangeKind

DEFAULT_START = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)  # a Wednesday, every desk open


@dataclass(frozen=True, slots=True)
class SimConfig:
    """The simulated contact centre's knobs."""

    minutes: float
    seed: int
    start: datetime = DEFAULT_START
    handoffs_per_minute: float = 3.0
    staffing: float = 1.0  # times the Erlang C staffing for each queue's SLA
    handle_seconds: float = 300.0  # mean handle time of a chat
    handle_sigma: float = 0.5  # log-normal shape of handle times
    patience_seconds: float = 300.0  # mean time a customer waits before giving up
    accept_offer: float = 0.5  # share of customers who take a callback or ticket offered
    tick_seconds: float = 10.0
    drain_minutes: float = 60.0  # after arrivals stop, how long the desk works the backlog


@dataclass(slots=True)
class _Tally:
    handoffs: int = 0
    answered: int = 0
    within_sla: int = 0
    abandoned: int = 0
    waits: list[float] = field(default_factory=list)
    errors: list[float] = field(default_factory=list)
    naive_errors: list[float] = field(default_factory=list)
    slot_errors: list[float] = field(default_factory=list)
    in_range: int = 0
    announced: int = 0
    changes: Counter[str] = field(default_factory=Counter)
    offers: Counter[str] = field(default_factory=Counter)
    updates: Counter[str] = field(default_factory=Counter)
    alerts: Counter[str] = field(default_factory=Counter)
    naive: dict[str, tuple[float, float]] = field(default_factory=dict)


def run_simulation(policy: Policy, config: SimConfig) -> dict[str, Any]:
    """Run the contact centre for `config.minutes` of simulated time; return the report."""
    if config.minutes <= 0:
        raise ValueError("minutes must be positive")
    rng = random.Random(config.seed)
    requests = simulated_handoffs(policy, config, rng)
    centre = Centre.from_policy(policy)
    tally = _Tally()
    events: list[tuple[datetime, int, str, tuple[Any, ...]]] = []
    order = iter(range(10**12))

    def push(at: datetime, kind: str, *payload: Any) -> None:
        heapq.heappush(events, (at, next(order), kind, payload))

    for request in requests:
        push(request.created_at, "arrive", request)
    for at, presence in _roster(policy, requests, config, rng):
        push(at, "presence", presence)
    end = config.start + timedelta(minutes=config.minutes)
    stop = end + timedelta(minutes=config.drain_minutes)
    push(config.start, "tick")
    active_alerts: frozenset[tuple[str, str]] = frozenset()
    last_health = config.start
    while events:
        now, _, kind, payload = heapq.heappop(events)
        if now > stop:
            break
        if kind == "arrive":
            tally.handoffs += 1
            request = payload[0]
            step = centre.arrive(request, now)
            patience = rng.expovariate(1.0 / config.patience_seconds)
            push(now + timedelta(seconds=patience), "abandon", request.handoff_id)
        elif kind == "presence":
            presence = payload[0]
            known = centre.agents.get(presence.agent_id)
            if known is not None:  # chats in progress carry over a break or a shift end
                presence = presence.model_copy(update={"active": known.active})
            step = centre.presence(presence, now)
        elif kind == "finish":
            step = centre.finish(payload[0], payload[1], payload[2], now)
        elif kind == "abandon":
            step = centre.abandon(payload[0], now)
            tally.abandoned += sum(1 for c in step.changes if c.kind is ChangeKind.abandoned)
        elif kind == "offer":
            step = centre.answer_offer(payload[0], payload[1], now)
        else:  # tick
            step = centre.tick(now)
            if now < end or centre.waiting:
                push(now + timedelta(seconds=config.tick_seconds), "tick")
            if (now - last_health).total_seconds() >= 60:
                last_health = now
                raised, active_alerts = alerts(centre.health(now), active_alerts, now)
                tally.alerts.update(a.kind for a in raised)
        _apply(step, centre, config, rng, tally, push, now)
    return _report(config, tally)


def _apply(
    step: Step,
    centre: Centre,
    config: SimConfig,
    rng: random.Random,
    tally: _Tally,
    push: Any,
    now: datetime,
) -> None:
    """Schedule what a step set in motion and count what it did."""
    for change in step.changes:
        tally.changes[change.kind.value] += 1
    for handoff_id, offer in step.route.offers:
        tally.offers[offer] += 1
        push(now + timedelta(seconds=5), "offer", handoff_id, rng.random() < config.accept_offer)
    for update in step.updates:
        tally.updates[update.reason] += 1
        if update.reason == "first":
            handoff = centre.waiting[update.handoff_id]
            tally.naive[update.handoff_id] = (
                centre.naive(handoff, now),
                centre.naive(handoff, now, per_slot=True),
            )
    mu = math.log(config.handle_seconds) - config.handle_sigma**2 / 2
    for assignment, handoff, first in step.answered:
        waited = (now - handoff.enqueued_at).total_seconds()
        tally.answered += 1
        tally.waits.append(waited)
        if (now - handoff.sla_start).total_seconds() <= handoff.sla_seconds:
            tally.within_sla += 1
        naive, per_slot = tally.naive.pop(handoff.handoff_id, (math.inf, math.inf))
        if first is not None and math.isfinite(naive):
            tally.announced += 1
            tally.errors.append(abs(first.point_seconds - waited))
            tally.naive_errors.append(abs(naive - waited))
            tally.slot_errors.append(abs(per_slot - waited))
            low, high = first.wait.low_seconds, first.wait.high_seconds
            tally.in_range += low <= waited <= high
        handle = rng.lognormvariate(mu, config.handle_sigma)
        push(
            now + timedelta(seconds=handle),
            "finish",
            assignment.agent_id,
            assignment.queue,
            handle,
        )


def _report(config: SimConfig, t: _Tally) -> dict[str, Any]:
    offered = t.answered + t.abandoned
    mae = _mean(t.errors)
    naive = _mean(t.naive_errors)
    return {
        "minutes": config.minutes,
        "seed": config.seed,
        "handoffs": t.handoffs,
        "answered": t.answered,
        "abandoned": t.abandoned,
        "service_level": round(t.within_sla / offered, 4) if offered else None,
        "asa_s": round(_mean(t.waits), 1),
        "abandon_rate": round(t.abandoned / offered, 4) if offered else None,
        "overflow_events": t.changes["overflow"],
        "callbacks_offered": sum(t.offers.values()),
        "offers_by_kind": dict(sorted(t.offers.items())),
        "offers_accepted": t.changes["accepted_offer"],
        "tickets_out_of_hours": t.changes["ticket"],
        "relaxations": t.changes["relaxed"] + t.changes["widened"],
        "status_updates": dict(sorted(t.updates.items())),
        "alerts": dict(sorted(t.alerts.items())),
        "estimates_scored": t.announced,
        "eta_mae_s": round(mae, 1),
        "naive_eta_mae_s": round(naive, 1),
        "eta_error_reduction": round(1 - mae / naive, 4) if naive else None,
        "naive_per_slot_eta_mae_s": round(_mean(t.slot_errors), 1),
        "eta_in_range_rate": round(t.in_range / t.announced, 4) if t.announced else None,
    }


def _mean(values: list[float]) -> float:
    return sum(values) / len(values) if values else 0.0


# --- arrivals -------------------------------------------------------------------------------


def simulated_handoffs(
    policy: Policy, config: SimConfig, rng: random.Random
) -> list[HandoffRequest]:
    """Handoff requests from simulated conversations run through the real pipeline."""
    count = max(1, round(config.handoffs_per_minute * config.minutes))
    span = config.minutes * 60.0
    starts = sorted(rng.uniform(0.0, span) for _ in range(count))
    conversations = generate(
        count, seed=config.seed, escalating_share=1.0, start=config.start, prefix="sim"
    )
    requests = []
    for conversation, offset in zip(conversations, starts, strict=True):
        shift = config.start + timedelta(seconds=offset) - conversation.turns[0].ts
        request = _run_conversation(conversation, shift, policy, rng)
        if request is not None:
            requests.append(request)
    return requests


def _run_conversation(
    conversation: Any, shift: timedelta, policy: Policy, rng: random.Random
) -> HandoffRequest | None:
    state = new_state(conversation.conversation_id)
    for scripted in conversation.turns:
        turn: Turn = scripted.model_copy(update={"ts": scripted.ts + shift})
        for current in _with_answers(turn, conversation, state, policy, rng):
            if current is not None:
                return current
    return None


def _with_answers(
    turn: Turn, conversation: Any, state: Any, policy: Policy, rng: random.Random
) -> Iterator[HandoffRequest | None]:
    """Process a turn, and the customer's answer when the pipeline asks for fields."""
    result = process_turn(state, turn, policy, now=turn.ts)
    if result is None:
        return
    yield result.handoff
    gather = next((d for d in result.directives if d.type is DirectiveType.gather), None)
    if gather is None:
        return
    text, slots = gather_answer(conversation, gather.fields)
    ts = turn.ts + timedelta(seconds=rng.uniform(8.0, 30.0))
    answer = Turn(
        conversation_id=turn.conversation_id,
        seq=turn.seq + 10_000,  # after every scripted turn: later ones count as replays
        ts=ts,
        channel=turn.channel,
        role=Role.customer,
        text=text,
        locale=turn.locale,
        customer=turn.customer,
        nlu=Nlu(intent="provide_details", confidence=0.95, slots=slots),
    )
    answered = process_turn(state, answer, policy, now=ts)
    if answered is not None:
        yield answered.handoff


# --- the desk -------------------------------------------------------------------------------


def _staff_needed(arrivals_per_second: float, handle: float, sla: float, target: float) -> int:
    """The fewest agents meeting the SLA by Erlang C (one at least)."""
    load = arrivals_per_second * handle
    agents = max(1, math.ceil(load))
    while agents < 500:
        if load < agents:
            asa = erlang_c_wait(arrivals_per_second, handle, agents)
            waiting = asa * (agents - load) / handle  # the Erlang C probability of waiting
            level = 1.0 - waiting * math.exp(-(agents - load) * sla / handle)
            if level >= target:
                return agents
        agents += 1
    return agents


def _roster(
    policy: Policy, requests: list[HandoffRequest], config: SimConfig, rng: random.Random
) -> list[tuple[datetime, AgentPresence]]:
    """Agents with skills, languages, tiers and shifts: presence events over the run."""
    span = config.minutes * 60.0
    by_queue = Counter(r.routing.queue for r in requests)
    languages: dict[str, set[str]] = {}
    for r in requests:
        languages.setdefault(r.routing.queue, set()).add(r.routing.language or "en")
    events: list[tuple[datetime, AgentPresence]] = []
    for name, queue in policy.queues.items():
        rate = by_queue[name] / span
        staff = round(
            _staff_needed(rate, config.handle_seconds, queue.sla.seconds, queue.sla.target)
            * config.staffing
        )
        spoken = sorted(set(queue.languages) or languages.get(name, {"en"}))
        tiers = sorted(queue.entitlement) or ["gold", "platinum"]
        for i in range(max(1, staff)):
            skills = {s: rng.randint(3, 9) for s in queue.skills}
            skills.update(
                {s: rng.randint(1, 6) for s in queue.optional_skills if rng.random() < 0.6}
            )
            known = spoken if len(spoken) <= 2 or i % 2 == 0 else rng.sample(spoken, 2)
            agent = dict(
                agent_id=f"{name}-{i}",
                skills=skills,
                languages=known,
                capacity=2 if rng.random() < 0.3 else 1,
                tiers=tiers if (queue.entitlement or i % 2 == 0) else [],
            )
            events.extend(_shift(agent, config, span, rng))
    return events


def _shift(
    agent: dict[str, Any], config: SimConfig, span: float, rng: random.Random
) -> list[tuple[datetime, AgentPresence]]:
    """One agent's day: a start (late for some), maybe a break, maybe an early end."""

    def at(seconds: float, state: PresenceState) -> tuple[datetime, AgentPresence]:
        when = config.start + timedelta(seconds=seconds)
        return when, AgentPresence(ts=when, state=state, **agent)

    begin = rng.uniform(0.05, 0.3) * span if rng.random() < 0.2 else 0.0
    events = [at(begin, PresenceState.available)]
    if rng.random() < 0.4:
        pause = rng.uniform(begin, span)
        events.append(at(pause, PresenceState.away))
        events.append(at(pause + rng.uniform(300.0, 900.0), PresenceState.available))
    if rng.random() < 0.15:
        events.append(at(rng.uniform(0.6, 0.9) * span, PresenceState.offline))
    else:
        events.append(at(span + config.drain_minutes * 60.0, PresenceState.offline))
    return sorted(events, key=lambda e: e[0])
