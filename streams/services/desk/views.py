"""The desk's two views and a handoff's detail, as JSON for the page.

An agent sees the handoffs they may take (the routing rule: language, tier, channel and the
queue's skills, from their latest `agent.presence`), those offered to them, and those they
hold. A supervisor sees every queue: waiting, oldest wait against the SLA, service level,
agents by state, and the alerts. Only what the bundle carries is shown, and the bundle is
redacted before it is published.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from warmhandoff.streams.contract.models import PresenceState
from warmhandoff.streams.routing.desk import Agent, QueueSpec, Waiting, serves
from warmhandoff.streams.services.desk.board import Board, Item

#: Handoffs listed per view at most (highest priority and longest wait first).
MAX_LISTED = 200
#: Closed handoffs an agent sees in "recently closed".
MAX_RECENT = 10


def row(item: Item) -> dict[str, Any]:
    """One handoff as a list shows it."""
    request = item.request
    started = request.first_unmet_need_at
    return {
        "handoff_id": request.handoff_id,
        "conversation_id": request.conversation_id,
        "status": item.status.value,
        "queue": item.queue,
        "priority": request.routing.priority,
        "triggers": [t.code for t in request.triggers],
        "language": request.routing.language,
        "channel": request.channel.value if request.channel else None,
        "summary": request.bundle.summary.wants,
        "agent_id": item.agent_id,
        "waiting_since": started.isoformat(),  # the page counts the SLA clock from here
        "answered_at": item.answered_at.isoformat() if item.answered_at else None,
        "sla_seconds": request.routing.sla_seconds,
        "case": request.case.key if request.case else None,
    }


def _order(item: Item) -> tuple[int, datetime]:
    return (item.request.routing.priority, item.request.first_unmet_need_at)


def may_take(agent: Agent, item: Item, queues: Mapping[str, QueueSpec], now: datetime) -> bool:
    """Whether routing would let this agent take the handoff in the queue it is in now."""
    if item.queue not in queues:
        return False
    request = item.request
    if request.routing.queue != item.queue:
        request = request.model_copy(
            update={"routing": request.routing.model_copy(update={"queue": item.queue})}
        )
    waiting = Waiting.from_request(request, queues, now)
    # The relax steps routing has taken by now: optional skills dropped, wider queues added.
    waited = (now - item.request.created_at).total_seconds()
    for step in queues[item.queue].relax:
        if step.after_seconds <= waited:
            if step.drop_optional_skills:
                waiting.optional_required = False
            if step.widen_to and step.widen_to in queues:
                waiting.accepted = (*waiting.accepted, step.widen_to)
    return serves(agent, waiting, queues)


def served_queues(agent: Agent, queues: Mapping[str, QueueSpec]) -> list[str]:
    """The queues whose mandatory skills and languages this agent has."""
    skills = agent.skills.keys()
    return sorted(
        name
        for name, spec in queues.items()
        if spec.skills <= skills and (not spec.languages or spec.languages & agent.languages)
    )


def agent_view(
    board: Board, agent_id: str, queues: Mapping[str, QueueSpec], now: datetime
) -> dict[str, Any]:
    """What one agent works from."""
    presence = board.presence.get(agent_id)
    agent = Agent.from_presence(presence) if presence else None
    waiting: list[Item] = []
    mine: list[Item] = []
    recent: list[Item] = []
    for item in board.items.values():
        if item.waiting:
            offered = item.agent_id == agent_id
            if offered or (agent is not None and may_take(agent, item, queues, now)):
                waiting.append(item)
        elif item.agent_id == agent_id:
            (recent if item.closed else mine).append(item)
    waiting.sort(key=_order)
    recent.sort(key=lambda i: i.updated_at or now, reverse=True)
    return {
        "role": "agent",
        "agent_id": agent_id,
        "presence": presence.state.value if presence else None,
        "queues": served_queues(agent, queues) if agent else [],
        "waiting": [row(i) for i in waiting[:MAX_LISTED]],
        "mine": [row(i) for i in mine],
        "recent": [row(i) for i in recent[:MAX_RECENT]],
        "all_queues": sorted(queues),
    }


def supervisor_view(board: Board, queues: Mapping[str, QueueSpec]) -> dict[str, Any]:
    """Every queue's backlog, service and staffing, and the alerts."""
    agents = [Agent.from_presence(p) for p in board.presence.values()]
    rows = []
    for name, spec in sorted(queues.items()):
        waiting = [i for i in board.items.values() if i.waiting and i.queue == name]
        oldest = min((i.request.first_unmet_need_at for i in waiting), default=None)
        health = board.health.get(name)
        states: Counter[str] = Counter()
        for agent in agents:
            if name in served_queues(agent, {name: spec}):
                states[agent.state.value] += 1
        rows.append(
            {
                "queue": name,
                "waiting": len(waiting),
                "in_progress": sum(
                    1
                    for i in board.items.values()
                    if i.queue == name and i.status.value == "accepted"
                ),
                "oldest_since": oldest.isoformat() if oldest else None,
                "sla_seconds": spec.sla_seconds,
                "sla_target": spec.sla_target,
                "service_level": health.service_level if health else None,
                "abandon_rate": health.abandon_rate if health else None,
                "agents": {s.value: states.get(s.value, 0) for s in PresenceState},
            }
        )
    waiting_items = sorted((i for i in board.items.values() if i.waiting), key=_order)
    return {
        "role": "supervisor",
        "queues": rows,
        "agents": [
            {
                "agent_id": p.agent_id,
                "state": p.state.value,
                "active": p.active,
                "capacity": p.capacity,
                "queues": served_queues(Agent.from_presence(p), queues),
                "since": p.ts.isoformat(),
            }
            for p in sorted(board.presence.values(), key=lambda p: p.agent_id)
        ],
        "waiting": [row(i) for i in waiting_items[:MAX_LISTED]],
        "alerts": [a.model_dump(mode="json") for a in reversed(board.alerts)],
        "all_queues": sorted(queues),
    }


def detail(board: Board, item: Item) -> dict[str, Any]:
    """Everything the human needs to pick the conversation up without asking again."""
    request = item.request
    bundle = request.bundle
    return {
        **row(item),
        "created_at": request.created_at.isoformat(),
        "escalation_number": request.escalation_number,
        "triggers": [t.model_dump(mode="json") for t in request.triggers],
        "summary": bundle.summary.model_dump(mode="json"),
        "transcript": [line.model_dump(mode="json") for line in bundle.transcript],
        "entities": bundle.entities,
        "identity": bundle.identity.model_dump(mode="json"),
        "steps_tried": [s.model_dump(mode="json") for s in bundle.steps_tried],
        "next_steps": bundle.next_steps,
        "fields": bundle.fields,
        "missing_fields": bundle.missing_fields,
        "accessibility": bundle.accessibility,
        "disclosure_shown": bundle.disclosure_shown,
        "disclosures": item.disclosures,
        "told": list(item.told),
        "promised_wait": _promised(item),
        "suggested_replies": [s.model_dump(mode="json") for s in bundle.suggested_replies],
        "reply": item.reply,
        "macro_id": item.macro_id,
        "outcome": item.outcome,
        "csat": item.csat,
        "history": item.history,
        "case_history": [row(i) | {"outcome": i.outcome} for i in board.case_history(item)],
        "case_topic": request.case.topic if request.case else None,
    }


def _promised(item: Item) -> dict[str, Any] | None:
    """The latest wait the customer was told, with their place in line."""
    for told in reversed(item.told):
        if "wait" in told:
            return {"wait": told["wait"], "position": told.get("position"), "ts": told["ts"]}
    wait = item.request.wait
    return {"wait": wait.model_dump(mode="json"), "position": None, "ts": None} if wait else None
