"""What the demo prints at the end: the summary table and one handoff (pure: values in,
rich renderables or text out; nothing here writes to a terminal)."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from rich import box
from rich.console import Group, RenderableType
from rich.json import JSON
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from warmhandoff.streams.lab.demo.tally import DemoSummary

#: Transcript lines the shortened handoff shows: the end of the conversation, where it broke.
TRANSCRIPT_LINES = 3
#: Longer transcript lines are cut: the whole text is in the full handoff.
LINE_CHARS = 160
#: Decision actions (contract.models.Action) in words a newcomer reads without the docs.
ACTION_WORDS = {
    "none": "bot carries on",
    "escalate": "hand to a human",
    "gather": "gather details first",
    "clarify": "clarify first",
    "owned": "a human already has it",
}


def summary_table(s: DemoSummary) -> Table:
    """The run in one table: traffic, decisions, handoffs, the desk, latency."""
    table = Table(
        title=f"warmhandoff demo: {s.conversations} conversations in {s.seconds:.0f} s",
        title_justify="left",
        show_header=False,
        box=box.ROUNDED,
        expand=False,
    )
    table.add_column("what", style="bold", no_wrap=True)
    table.add_column("figures", overflow="fold")
    table.add_row(
        "conversations", f"{s.conversations} ({s.needing_human} scripted to need a human)"
    )
    table.add_row("turns decided", str(s.turns))
    actions = [(ACTION_WORDS.get(action, action), n) for action, n in s.actions]
    table.add_row("decisions by action", _counts(actions))
    table.add_section()
    share = s.escalated / s.conversations if s.conversations else 0.0
    table.add_row("handoffs", f"{s.handoffs} ({share:.0%} of conversations)")
    table.add_row(
        "  as scripted",
        f"{s.expected_and_got} expected, {s.missed} missed, {s.unexpected} unexpected",
    )
    table.add_row("  by trigger", _counts(s.by_trigger))
    table.add_row("  by queue", _counts(s.by_queue))
    table.add_section()
    d = s.desk
    table.add_row("routed to an agent", f"{d.routed} of {d.received} (accepted by the agent)")
    table.add_row("resolved", str(d.resolved))
    unrouted = d.received - d.routed
    table.add_row(
        "handed back to the bot",
        f"{d.handed_back}: {d.handed_back - unrouted} by their agent, {unrouted} not routed "
        "before the demo ended (queue closed or agents busy)",
    )
    table.add_row("bot paused, resumed", f"{s.paused} paused for a human, {s.resumed} resumed")
    if s.waits_told:
        table.add_row("wait updates", f"{s.waits_told} told a customer their place in line")
    table.add_section()
    table.add_row("decision latency", _latency(s))
    table.add_row("dead letters", str(s.deadletters))
    return table


def short_handoff(handoff: Mapping[str, Any], told: str | None = None) -> Panel:
    """What a human at the desk reads first; `told` is the last thing the customer was told."""
    routing, bundle = handoff["routing"], handoff["bundle"]
    grid = Table.grid(padding=(0, 2))
    grid.add_column(style="bold", no_wrap=True)
    grid.add_column(overflow="fold")
    grid.add_row(
        "queue",
        f"{routing['queue']}, priority {routing['priority']}, answer within "
        f"{routing['sla_seconds']} s for {routing['sla_target']:.0%} of customers",
    )
    grid.add_row("triggers", ", ".join(trigger_text(t) for t in handoff["triggers"]))
    summary = bundle.get("summary") or {}
    for label, key in (("wants", "wants"), ("bot tried", "tried"), ("why", "why")):
        if summary.get(key):
            grid.add_row(label, str(summary[key]))
    grid.add_row("transcript", _transcript(bundle.get("transcript", [])))
    steps = bundle.get("next_steps") or []
    grid.add_row("next steps", "\n".join(f"{i}. {step}" for i, step in enumerate(steps, 1)) or "-")
    missing = bundle.get("missing_fields") or []
    if missing:
        grid.add_row("still missing", ", ".join(missing))
    grid.add_row("customer told", told or "-")
    return Panel(
        grid,
        title=f"sample handoff: conversation {handoff['conversation_id']}",
        title_align="left",
        subtitle="the whole handoff: --full-handoff",
        subtitle_align="right",
        box=box.ROUNDED,
        expand=False,
    )


def trigger_text(hit: Mapping[str, Any]) -> str:
    """One trigger hit in a few words: `churn_risk 0.91 (threshold 0.7)`."""
    value, threshold = hit.get("value"), hit.get("threshold")
    if value is True or value is None:
        return str(hit["code"])
    shown = ", ".join(map(str, value)) if isinstance(value, list) else _number(value)
    if threshold is None or isinstance(threshold, list):
        return f"{hit['code']} {shown}"
    return f"{hit['code']} {shown} (threshold {_number(threshold)})"


def handoff_json(handoff: Mapping[str, Any]) -> str:
    """The whole handoff as indented JSON, as the CRM receives it."""
    return json.dumps(handoff, indent=2, ensure_ascii=False)


def sample_section(
    handoff: Mapping[str, Any] | None, told: str | None, *, full: bool
) -> RenderableType:
    """The sample handoff, shortened or whole; a line saying so when there is none."""
    if handoff is None:
        return Text("no handoff to show: the pipeline produced none")
    if full:
        return Group(Text("sample handoff:"), JSON(handoff_json(handoff), ensure_ascii=False))
    return short_handoff(handoff, told)


def _transcript(lines: Sequence[Mapping[str, Any]]) -> Text:
    text = Text()
    for i, line in enumerate(lines[-TRANSCRIPT_LINES:]):
        words = str(line["text"])
        if len(words) > LINE_CHARS:
            words = words[: LINE_CHARS - 1] + "…"
        text.append("\n" if i else "")
        text.append(f"{line['role']:<9}", style="dim")
        text.append(words)
    if len(lines) > TRANSCRIPT_LINES:
        text.append(f"\n(last {TRANSCRIPT_LINES} of {len(lines)} lines)", style="dim")
    return text or Text("-")


def _counts(pairs: Sequence[tuple[str, int]]) -> str:
    return ", ".join(f"{name} {count}" for name, count in pairs) or "none"


def _latency(s: DemoSummary) -> str:
    if s.latency_p50_ms is None or s.latency_p99_ms is None:
        return "no handoff to measure"
    return (
        f"p50 {s.latency_p50_ms:.0f} ms, p99 {s.latency_p99_ms:.0f} ms "
        "(turn produced → handoff produced)"
    )


def _number(value: Any) -> str:
    return f"{value:g}" if isinstance(value, float) else str(value)
