"""What the desk shows, folded from the topics: every handoff with its status and history, the
queues' health, the agents' presence and the alerts. Pure: records in, views out.

The board is rebuilt from the topics when the desk starts, so a restart loses nothing the
topics still hold. A handoff's status follows the lifecycle's transition table (an event the
table rejects is a late one and is ignored). Closed handoffs are kept, up to a bound, so a
case shows the customer's earlier handoffs.
"""

from __future__ import annotations

from collections import OrderedDict, deque
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

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
from warmhandoff.streams.core.lifecycle import CLOSED, TRANSITIONS, WAITING, HandoffStatus

#: Closed handoffs kept for case histories; the oldest go first.
MAX_CLOSED = 5_000
#: Alerts kept for the supervisor view, newest last.
MAX_ALERTS = 50
#: Status directives remembered per handoff (what the customer was told, newest last).
MAX_TOLD = 10


@dataclass(slots=True)
class Item:
    """One handoff as the desk knows it."""

    request: HandoffRequest
    status: HandoffStatus = HandoffStatus.requested
    queue: str = ""
    agent_id: str | None = None  # offered to, or accepted by
    updated_at: datetime | None = None
    history: list[dict[str, Any]] = field(default_factory=list)
    told: deque[dict[str, Any]] = field(default_factory=lambda: deque(maxlen=MAX_TOLD))
    disclosures: list[str] = field(default_factory=list)
    reply: str | None = None
    macro_id: str | None = None
    outcome: str | None = None
    csat: int | None = None
    answered_at: datetime | None = None  # first accepted: the SLA clock stops

    @property
    def waiting(self) -> bool:
        return self.status in WAITING

    @property
    def holds(self) -> bool:
        """A human holds it (accepted)."""
        return self.status is HandoffStatus.accepted

    @property
    def closed(self) -> bool:
        return self.status in CLOSED


@dataclass(slots=True)
class Board:
    """Everything the desk knows; `version` grows with every change the views may show."""

    items: OrderedDict[str, Item] = field(default_factory=OrderedDict)
    health: dict[str, QueueHealth] = field(default_factory=dict)
    presence: dict[str, AgentPresence] = field(default_factory=dict)
    alerts: deque[Alert] = field(default_factory=lambda: deque(maxlen=MAX_ALERTS))
    cases: dict[str, list[str]] = field(default_factory=dict)  # case key -> handoff ids
    early: dict[str, list[Any]] = field(default_factory=dict)  # records before their request
    version: int = 0

    def request(self, request: HandoffRequest) -> None:
        """A handoff request, or its re-publication (a re-route or a transfer)."""
        hid = request.handoff_id
        item = self.items.get(hid)
        if item is None:
            item = self.items[hid] = Item(request=request, queue=request.routing.queue)
            item.updated_at = request.created_at
            if request.case is not None:
                self.cases.setdefault(request.case.key, []).append(hid)
            for record in self.early.pop(hid, []):
                self._apply(item, record)
        else:
            item.request = request
            if item.waiting:
                item.queue = request.routing.queue
        self._changed()

    def event(self, event: HandoffEvent) -> None:
        """A lifecycle event from the pipeline, the router, a sink, the CRM or the desk."""
        item = self.items.get(event.handoff_id)
        if item is None:
            self._hold(event.handoff_id, event)
            return
        self._apply(item, event)
        self._changed()

    def directive(self, directive: Directive) -> None:
        """What the bot was told to say about a handoff: status, waits, disclosures."""
        if directive.handoff_id is None or directive.type not in _TOLD:
            return
        item = self.items.get(directive.handoff_id)
        if item is None:
            self._hold(directive.handoff_id, directive)
            return
        self._apply(item, directive)
        self._changed()

    def queue_health(self, health: QueueHealth) -> None:
        self.health[health.queue] = health
        self._changed()

    def agent(self, presence: AgentPresence) -> None:
        known = self.presence.get(presence.agent_id)
        if known is None or presence.ts >= known.ts:
            self.presence[presence.agent_id] = presence
            self._changed()

    def alert(self, alert: Alert) -> None:
        self.alerts.append(alert)
        self._changed()

    def case_history(self, item: Item) -> list[Item]:
        """The other handoffs of this handoff's case, oldest first."""
        case = item.request.case
        if case is None:
            return []
        hids = self.cases.get(case.key, [])
        return [self.items[h] for h in hids if h in self.items and h != item.request.handoff_id]

    def _apply(self, item: Item, record: Any) -> None:
        if isinstance(record, Directive):
            entry: dict[str, Any] = {"ts": record.ts.isoformat(), "type": record.type.value}
            entry["message"] = record.message
            if record.type is DirectiveType.disclose:
                if record.message not in item.disclosures:
                    item.disclosures.append(record.message)
                return
            if record.wait is not None:
                entry["wait"] = record.wait.model_dump(mode="json")
            if record.position is not None:
                entry["position"] = record.position
            item.told.append(entry)
            return
        self._apply_event(item, record)

    def _apply_event(self, item: Item, event: HandoffEvent) -> None:
        if any(h["event_id"] == event.event_id for h in item.history):
            return
        item.history.append(
            {
                "event_id": event.event_id,
                "ts": event.ts.isoformat(),
                "type": event.type.value,
                "source": event.source,
                "agent_id": event.agent_id,
                "queue": event.queue,
                "reason": event.reason,
            }
        )
        kind = event.type
        if kind is HandoffEventType.csat:
            item.csat = event.csat
            return
        if kind is HandoffEventType.replied:
            if item.reply is None and item.macro_id is None:
                item.reply, item.macro_id = event.reply, event.macro_id
            return
        new = TRANSITIONS[item.status].get(kind)
        if new is None:
            return  # late or illegal: the lifecycle ignores it too
        item.status = new
        item.updated_at = event.ts
        if kind in (HandoffEventType.queued, HandoffEventType.transferred) and event.queue:
            item.queue = event.queue
        if kind is HandoffEventType.transferred or (kind is HandoffEventType.queued):
            item.agent_id = None
        if kind in (HandoffEventType.offered, HandoffEventType.accepted) and event.agent_id:
            item.agent_id = event.agent_id
        if kind is HandoffEventType.accepted and item.answered_at is None:
            item.answered_at = event.ts
        if new in CLOSED:
            item.outcome = event.reason or new.value
            self._trim()

    def _hold(self, hid: str, record: Any) -> None:
        """Keep a record that arrived before its request (the topics are read in parallel)."""
        held = self.early.setdefault(hid, [])
        if len(held) < 50:
            held.append(record)
        while len(self.early) > MAX_CLOSED:
            self.early.pop(next(iter(self.early)))

    def _trim(self) -> None:
        if len(self.items) <= MAX_CLOSED + _TRIM_SLACK:
            return
        closed = [hid for hid, item in self.items.items() if item.closed]
        for hid in closed[: max(0, len(closed) - MAX_CLOSED)]:
            item = self.items.pop(hid)
            case = item.request.case
            if case is not None and hid in self.cases.get(case.key, []):
                self.cases[case.key].remove(hid)
                if not self.cases[case.key]:
                    del self.cases[case.key]

    def _changed(self) -> None:
        self.version += 1


#: How far past MAX_CLOSED the board grows before it trims (trimming scans every handoff).
_TRIM_SLACK = 500
_TOLD = frozenset({DirectiveType.status, DirectiveType.disclose})
