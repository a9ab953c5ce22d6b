"""What the demo saw on the pipeline's output topics, and the summary it makes of it (pure).

`Tally.add` takes one decoded record of `escalation.decisions`, `handoff.requests`,
`bot.directives` or `deadletter`; `summarise` turns the tally and what the simulated desk
reported into `DemoSummary`, plain values the rendering (render.py) prints. A re-published
request (same handoff_id: a retry or a re-route) counts once, like every sink deduplicates.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Set
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

#: The conversation of the turn the demo publishes to learn that the worker is processing.
PROBE_CONVERSATION = "demo-probe"

Kind = Literal["decision", "handoff", "directive", "deadletter"]


@dataclass
class Tally:
    """What the demo saw on the output topics."""

    probe_decided: bool = False
    decisions: int = 0
    actions: Counter[str] = field(default_factory=Counter)
    handoffs: dict[str, dict[str, Any]] = field(default_factory=dict)
    latencies_ms: list[float] = field(default_factory=list)
    directives: Counter[str] = field(default_factory=Counter)
    deadletters: int = 0
    waits_told: int = 0
    #: The last thing each waiting customer was told (the transfer, then the router's wait).
    told: dict[str, str] = field(default_factory=dict)
    _decision_ids: set[str] = field(default_factory=set)

    def add(self, kind: Kind, value: Mapping[str, Any], timestamp_ms: int) -> None:
        """Count one record; `timestamp_ms` is the broker's timestamp of it."""
        if kind == "decision":
            self._decision(value)
        elif kind == "handoff":
            hid = value["handoff_id"]
            if hid not in self.handoffs:
                self.handoffs[hid] = dict(value)
                turn_ms = datetime.fromisoformat(value["turn_ts"]).timestamp() * 1000
                self.latencies_ms.append(timestamp_ms - turn_ms)
        elif kind == "directive":
            self.directives[value["type"]] += 1
            if value["type"] == "status":
                if value.get("handoff_id"):
                    self.told[value["handoff_id"]] = value["message"]
                if value.get("position"):
                    self.waits_told += 1  # the router's update: place in line and the wait
        else:
            self.deadletters += 1

    def _decision(self, value: Mapping[str, Any]) -> None:
        if value["conversation_id"] == PROBE_CONVERSATION:
            self.probe_decided = True
            return
        if value["decision_id"] in self._decision_ids:
            return  # redelivered after a worker restart: one decision per turn
        self._decision_ids.add(value["decision_id"])
        self.decisions += 1
        self.actions[value["action"]] += 1


@dataclass(frozen=True)
class DeskReport:
    """What the simulated contact centre did with the handoffs it received."""

    received: int
    routed: int  # offered to one of its agents by the router, and accepted
    resolved: int
    handed_back: int


@dataclass(frozen=True)
class DemoSummary:
    """Plain figures of one demo run, for the summary table."""

    seconds: float
    conversations: int
    needing_human: int
    turns: int
    actions: list[tuple[str, int]]
    handoffs: int
    escalated: int  # conversations with at least one handoff
    expected_and_got: int
    missed: int
    unexpected: int
    by_trigger: list[tuple[str, int]]
    by_queue: list[tuple[str, int]]
    desk: DeskReport
    waits_told: int
    paused: int
    resumed: int
    deadletters: int
    latency_p50_ms: float | None
    latency_p99_ms: float | None


def summarise(
    tally: Tally,
    *,
    conversations: int,
    needing_human: Set[str],
    desk: DeskReport,
    seconds: float,
) -> DemoSummary:
    """The summary of a run: `needing_human` holds the conversations scripted to escalate."""
    by_trigger: Counter[str] = Counter()
    by_queue: Counter[str] = Counter()
    for handoff in tally.handoffs.values():
        by_queue[handoff["routing"]["queue"]] += 1
        by_trigger.update(hit["code"] for hit in handoff["triggers"])
    escalated = {h["conversation_id"] for h in tally.handoffs.values()}
    p50, p99 = _percentiles(tally.latencies_ms)
    return DemoSummary(
        seconds=seconds,
        conversations=conversations,
        needing_human=len(needing_human),
        turns=tally.decisions,
        actions=tally.actions.most_common(),
        handoffs=len(tally.handoffs),
        escalated=len(escalated),
        expected_and_got=len(escalated & needing_human),
        missed=len(needing_human - escalated),
        unexpected=len(escalated - needing_human),
        by_trigger=by_trigger.most_common(),
        by_queue=by_queue.most_common(),
        desk=desk,
        waits_told=tally.waits_told,
        paused=tally.directives["pause"],
        resumed=tally.directives["resume"],
        deadletters=tally.deadletters,
        latency_p50_ms=p50,
        latency_p99_ms=p99,
    )


def sample_handoff(tally: Tally) -> dict[str, Any] | None:
    """The handoff worth showing: the one with the most triggers (the first of equals)."""
    if not tally.handoffs:
        return None
    return max(tally.handoffs.values(), key=lambda h: len(h["triggers"]))


def _percentiles(values: list[float]) -> tuple[float | None, float | None]:
    if not values:
        return None, None
    ordered = sorted(values)
    return ordered[len(ordered) // 2], ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]
