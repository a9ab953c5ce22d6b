"""`warmhandoff report [FILE|-] [--json]`: the playbook's KPIs from recorded streams.

Input: JSON lines of topic records or of `warmhandoff replay` output, read and checked by
streams/offline/report_input.py. Everything is computed per conversation; each KPI says what
it needs and is null when its inputs are absent, and the report lists what it read and, for
each null KPI, what it would need. Replay output carries decisions and their triggers only:
no times and no outcomes, so every outcome KPI is null, and trigger shares need labels
(`learning.examples` lines mixed in).

Definitions:
- escalation rate: conversations with an `escalate` decision (a handoff was created) over
  conversations with any decision; containment is the rest.
- deflection quality: contained conversations whose customer did not start another
  conversation within 24 h of the last turn, over contained conversations (needs turns
  with `customer.id`).
- first-contact resolution: conversations not followed by another from the same customer
  within 24 h and, when escalated, whose handoff was resolved, over conversations (needs
  turns with `customer.id`).
- right-channel rate: handoffs resolved in the queue they were first routed to, never
  handed back or failed, over handoffs that were resolved, handed back or failed.
- average speed of answer: accepted time less queued time (else the request's creation,
  else the escalating decision's turn), mean seconds; handle time: resolved less accepted.
- service level: handoffs accepted within their SLA (the request's `sla_seconds`, else
  `default_sla_seconds`), over handoffs accepted or abandoned.
- CSAT: mean of `csat` events (1-5) and how many answered.
- customer effort: customer turns and repeats (the highest `repeat_count`) up to the
  decision point: the escalating turn, or the last turn of a contained conversation.

Suggested replies (streams/offline/report_replies.py): per topic, the humans' first replies
(`replied` events) that ended best and worst, with uses, the share resolved without a return
and the mean CSAT.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from statistics import fmean
from typing import Any

from warmhandoff.streams.offline.report_input import KINDS, Streams, kind_of, read_streams

__all__ = [
    "KINDS",
    "Streams",
    "build_report",
    "kind_of",
    "kpis",
    "read_streams",
    "render",
    "returned",
]

RETURN_WINDOW = timedelta(hours=24)

#: What each KPI is computed from: shown in place of a KPI its inputs did not include.
NEEDS = {
    "conversations": "decisions",
    "escalated": "decisions",
    "escalation_rate": "decisions",
    "containment_rate": "decisions",
    "deflection_quality": "conversation.turns with customer.id",
    "right_channel_rate": "handoff events: resolved, handed_back or failed",
    "first_contact_resolution": "conversation.turns with customer.id",
    "average_speed_of_answer_seconds": "handoff events: accepted",
    "handle_time_seconds": "handoff events: accepted and resolved",
    "csat": "handoff events: csat",
    "csat_responses": "handoff events",
    "customer_effort_turns": "decisions",
    "customer_effort_repeats": "decisions",
    "service_level": "handoff events: accepted or abandoned",
}


def _ts(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def _mean(values: list[float]) -> float | None:
    return round(fmean(values), 4) if values else None


def _share(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


def returned(turns: list[dict[str, Any]]) -> dict[str, bool] | None:
    """conversation -> its customer came back within 24 h (None without customer ids)."""
    spans: dict[str, tuple[str, datetime, datetime]] = {}
    for t in turns:
        customer = (t.get("customer") or {}).get("id")
        if customer is None:
            continue
        cid, ts = t["conversation_id"], _ts(t["ts"])
        _, first, last = spans.get(cid, (customer, ts, ts))
        spans[cid] = (customer, min(first, ts), max(last, ts))
    if not spans:
        return None
    starts: dict[str, list[datetime]] = defaultdict(list)
    for customer, first, _ in spans.values():
        starts[customer].append(first)
    return {
        cid: any(last < s <= last + RETURN_WINDOW for s in starts[customer])
        for cid, (customer, _, last) in spans.items()
    }


@dataclass(slots=True)
class _Handoff:
    created: datetime | None = None
    queue: str | None = None
    sla_seconds: float | None = None
    queued: datetime | None = None
    accepted: datetime | None = None
    resolved: datetime | None = None
    abandoned: bool = False
    handed_back: bool = False
    failed: bool = False
    queues: set[str] = field(default_factory=set)


def _handoffs(streams: Streams) -> dict[str, _Handoff]:
    found: dict[str, _Handoff] = defaultdict(_Handoff)
    for d in streams.decisions:
        if d["action"] == "escalate" and d.get("handoff_id"):
            h = found[d["handoff_id"]]
            # A decision read from replay output has no time of its own.
            h.created = h.created or (_ts(d["ts"]) if d.get("ts") else None)
            h.queue = h.queue or d.get("queue")
    for r in streams.requests:
        h = found[r["handoff_id"]]
        h.created = _ts(r["created_at"])
        h.queue = r["routing"]["queue"]
        h.sla_seconds = r["routing"].get("sla_seconds")
    for e in sorted(streams.events, key=lambda e: e["ts"]):
        h, ts, kind = found[e["handoff_id"]], _ts(e["ts"]), e["type"]
        if e.get("queue"):
            h.queues.add(e["queue"])
        if kind == "queued" and h.queued is None:
            h.queued = ts
        elif kind == "accepted" and h.accepted is None:
            h.accepted = ts
        elif kind == "resolved":
            h.resolved = ts
        elif kind == "abandoned":
            h.abandoned = True
        elif kind == "handed_back":
            h.handed_back = True
        elif kind == "failed":
            h.failed = True
    return found


def kpis(streams: Streams, *, default_sla_seconds: float = 60.0) -> dict[str, Any]:
    """Every KPI of the module docstring."""
    by_conv: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for d in streams.decisions:
        by_conv[d["conversation_id"]].append(d)
    escalated: dict[str, str | None] = {}  # conversation -> handoff id
    effort_turns: list[float] = []
    effort_repeats: list[float] = []
    for cid, decisions in by_conv.items():
        decisions.sort(key=lambda d: d["seq"])
        customer_turns = repeats = 0
        for d in decisions:
            signals = d.get("signals") or {}
            customer_turns += signals.get("role") == "customer"
            repeats = max(repeats, int(signals.get("repeat_count") or 0))
            if d["action"] == "escalate":
                escalated[cid] = d.get("handoff_id")
                break
        effort_turns.append(customer_turns)
        effort_repeats.append(repeats)
    n = len(by_conv)
    contained = [cid for cid in by_conv if cid not in escalated]
    came_back = returned(streams.turns)
    handoffs = _handoffs(streams)

    deflection = fcr = None
    if came_back is not None:
        known = [cid for cid in contained if cid in came_back]
        deflection = _share(sum(1 for cid in known if not came_back[cid]), len(known))
        resolved_first = 0
        counted = 0
        for cid in by_conv:
            if cid not in came_back:
                continue
            counted += 1
            hid = escalated.get(cid, "")
            served = cid not in escalated or (hid in handoffs and handoffs[hid].resolved)
            resolved_first += bool(served) and not came_back[cid]
        fcr = _share(resolved_first, counted)

    ended = [h for h in handoffs.values() if h.resolved or h.handed_back or h.failed]
    right = sum(
        1
        for h in ended
        if h.resolved and not h.handed_back and not h.failed and h.queues <= {h.queue}
    )
    asa, handle, within, offered = [], [], 0, 0
    for h in handoffs.values():
        start = h.queued or h.created
        if h.accepted is not None and start is not None:
            wait = (h.accepted - start).total_seconds()
            asa.append(wait)
            offered += 1
            within += wait <= (h.sla_seconds or default_sla_seconds)
        elif h.abandoned:
            offered += 1
        if h.accepted is not None and h.resolved is not None:
            handle.append((h.resolved - h.accepted).total_seconds())
    csat = [float(e["csat"]) for e in streams.events if e["type"] == "csat" and e.get("csat")]
    return {
        "conversations": n,
        "escalated": len(escalated),
        "escalation_rate": _share(len(escalated), n),
        "containment_rate": _share(len(contained), n),
        "deflection_quality": deflection,
        "right_channel_rate": _share(right, len(ended)),
        "first_contact_resolution": fcr,
        "average_speed_of_answer_seconds": _mean(asa),
        "handle_time_seconds": _mean(handle),
        "csat": _mean(csat),
        "csat_responses": len(csat) if streams.events else None,
        "customer_effort_turns": _mean(effort_turns),
        "customer_effort_repeats": _mean(effort_repeats),
        "service_level": _share(within, offered),
    }


def build_report(
    streams: Streams, *, target_precision: float = 0.8, default_sla_seconds: float = 60.0
) -> dict[str, Any]:
    """KPIs, trigger performance and deflection candidates (streams/learning/insights.py),
    and the first replies that worked best and worst (report_replies.py)."""
    from warmhandoff.streams.learning.insights import (
        deflection_candidates,
        join_labels,
        trigger_performance,
    )
    from warmhandoff.streams.offline.report_replies import reply_rows

    joined = join_labels(streams.decisions, streams.examples)
    reasons = {
        e["handoff_id"]: e["reason"]
        for e in streams.events
        if e["type"] == "resolved" and e.get("reason")
    }
    found = kpis(streams, default_sla_seconds=default_sla_seconds)
    return {
        "inputs": inputs(streams),
        "kpis": found,
        "missing": {key: NEEDS[key] for key, value in found.items() if value is None},
        "target_precision": target_precision,
        "triggers": trigger_performance(joined, target=target_precision),
        "deflection_candidates": deflection_candidates(joined, reasons),
        "suggested_replies": reply_rows(streams),
    }


def inputs(streams: Streams) -> dict[str, Any]:
    """What the report was built from: records read, kept by kind, and skipped by reason."""
    return {
        "read": streams.read,
        "decisions": len(streams.decisions),
        "decisions_from_replay": streams.replayed,
        "turns": len(streams.turns),
        "handoff_requests": len(streams.requests),
        "handoff_events": len(streams.events),
        "labels": len(streams.examples),
        "skipped": dict(sorted(streams.skipped.items())),
    }


def render(report: dict[str, Any]) -> str:
    """The report as aligned text: what it was built from, then the KPIs and the rows."""
    read = report["inputs"]
    replayed = read["decisions_from_replay"]
    lines = [
        f"inputs: {read['read']} read; {read['decisions']} decisions"
        + (f" ({replayed} from replay output)" if replayed else "")
        + f", {read['turns']} turns, {read['handoff_requests']} handoff requests, "
        f"{read['handoff_events']} handoff events, {read['labels']} labels",
        "",
    ]
    missing = report["missing"]
    for key, value in report["kpis"].items():
        shown = f"-  (needs {missing[key]})" if value is None else value
        lines.append(f"{key:<34} {shown}")
    unlabelled = "" if read["labels"] else " (no labels read: shares need learning.examples)"
    for section in ("triggers", "deflection_candidates", "suggested_replies"):
        rows = report.get(section)
        if rows:
            lines.append("")
            lines.append(section + (unlabelled if section == "triggers" else ""))
            for row in rows:
                lines.append("  " + "  ".join(f"{k}={v}" for k, v in row.items()))
    return "\n".join(lines) + "\n"
