"""Queue health: the figures dashboards read on `queue.health`, and alerts when they slip.

A queue's service level is the share of its customers answered within the SLA seconds on
the SLA clock (from the first unmet need) among those answered or abandoned in the window;
the average speed of answer is the time answered customers spent in the queue. An alert is
raised when the service level slips below the target (with at least `min_outcomes`
outcomes) or the oldest waiting customer passes the SLA; overflow is then engaged for the
queue's waiting customers (the router moves them when their own predicted wait breaks it).
Alerts fire on the transition into the state and once more when it clears. Pure.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from warmhandoff.streams.contract.models import Alert, QueueHealth
from warmhandoff.streams.core.transfer import NAMESPACE
from warmhandoff.streams.routing.desk import Agent, QueueSpec, Waiting

Severity = Literal["info", "warning", "critical"]
SERVICE_LEVEL = "service_level_below_target"
OLDEST_WAIT = "oldest_wait_past_sla"


@dataclass(frozen=True, slots=True)
class Outcome:
    """A customer who stopped waiting: answered, or gave up."""

    at: datetime
    queue: str
    queue_wait: float  # seconds in the queue
    sla_wait: float  # seconds on the SLA clock
    sla_seconds: int
    answered: bool


def _staffs(agent: Agent, spec: QueueSpec) -> bool:
    if not agent.on_shift or not spec.skills <= agent.skills.keys():
        return False
    if spec.languages and not spec.languages & agent.languages:
        return False
    return not spec.tiers or bool(spec.tiers & agent.tiers)


def queue_health(
    queues: Mapping[str, QueueSpec],
    agents: Iterable[Agent],
    waiting: Iterable[Waiting],
    outcomes: Iterable[Outcome],
    now: datetime,
    *,
    window_seconds: float = 900.0,
) -> list[QueueHealth]:
    """One `QueueHealth` per queue, in policy order."""
    staff = list(agents)
    queued: dict[str, list[Waiting]] = {name: [] for name in queues}
    for handoff in waiting:
        queued.setdefault(handoff.queue, []).append(handoff)
    done: dict[str, list[Outcome]] = {name: [] for name in queues}
    for outcome in outcomes:
        if (now - outcome.at).total_seconds() <= window_seconds:
            done.setdefault(outcome.queue, []).append(outcome)
    found = []
    for name, spec in queues.items():
        mine = [a for a in staff if _staffs(a, spec)]
        answered = [o for o in done[name] if o.answered]
        total = len(done[name])
        oldest = max(((now - w.sla_start).total_seconds() for w in queued[name]), default=0.0)
        level = sum(1 for o in answered if o.sla_wait <= o.sla_seconds) / total if total else None
        slipping = level is not None and level < spec.sla_target
        found.append(
            QueueHealth(
                queue=name,
                ts=now,
                waiting=len(queued[name]),
                oldest_wait_seconds=round(oldest, 1),
                agents_available=sum(1 for a in mine if a.free > 0),
                service_level=None if level is None else round(level, 4),
                sla_target=spec.sla_target,
                sla_seconds=spec.sla_seconds,
                agents_eligible=len(mine),
                answered=len(answered),
                abandoned=total - len(answered),
                asa_seconds=(
                    round(sum(o.queue_wait for o in answered) / len(answered), 1)
                    if answered
                    else None
                ),
                abandon_rate=round((total - len(answered)) / total, 4) if total else None,
                overflow_engaged=spec.overflow is not None
                and (slipping or oldest > spec.sla_seconds),
                window_seconds=window_seconds,
            )
        )
    return found


def alerts(
    health: Iterable[QueueHealth],
    active: frozenset[tuple[str, str]],
    now: datetime,
    *,
    min_outcomes: int = 10,
) -> tuple[list[Alert], frozenset[tuple[str, str]]]:
    """Alerts for queues entering (or leaving) an alert state, and the states now active."""
    raised: list[Alert] = []
    still: set[tuple[str, str]] = set()
    for h in health:
        states = {
            SERVICE_LEVEL: h.service_level is not None
            and h.answered + h.abandoned >= min_outcomes
            and h.service_level < h.sla_target,
            OLDEST_WAIT: h.oldest_wait_seconds > h.sla_seconds,
        }
        for kind, on in states.items():
            key = (h.queue, kind)
            if on:
                still.add(key)
            if on == (key in active):
                continue
            raised.append(_alert(h, kind, on, now))
    return raised, frozenset(still)


def _alert(h: QueueHealth, kind: str, on: bool, now: datetime) -> Alert:
    overflow = " Overflow engaged." if h.overflow_engaged else ""
    if kind == SERVICE_LEVEL:
        level = f"{(h.service_level or 0.0):.0%}"
        text = (
            f"Queue {h.queue}: {level} answered within {h.sla_seconds} s, target "
            f"{h.sla_target:.0%}."
        )
        severity: Severity = "warning"
    else:
        text = (
            f"Queue {h.queue}: a customer has waited {h.oldest_wait_seconds:.0f} s, past the "
            f"SLA of {h.sla_seconds} s."
        )
        severity = "critical"
    if not on:
        kind, severity, text = f"{kind}_cleared", "info", f"Cleared: {text}"
        overflow = ""
    name = f"alert/{h.queue}/{kind}/{now.isoformat()}"
    return Alert(
        alert_id=str(uuid.uuid5(NAMESPACE, name)),
        ts=now,
        kind=kind,
        severity=severity,
        queue=h.queue,
        message=text + overflow,
    )
