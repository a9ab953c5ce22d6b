"""`warmhandoff policy diff OLD NEW --on TURNS.jsonl`: what a policy change would change.

Both policies replay the same recorded turns with `replay.replay` (the stream's own
functions). Per conversation, each policy's outcome is: escalated or not (an `escalate` or
`gather` action), the first turn it escalated on, its queue and priority, and its triggers.
A conversation changes when any of those differ, and the change is described as a short
kind: `newly_escalated`, `no_longer_escalated`, `earlier`, `later`, `requeued`,
`reprioritised` or `other` (per-turn actions differ, the outcome does not).

Labels are optional: a JSON-lines file of `{"conversation_id": ..., "label": ...}` (what
`learning.examples` carries; `labels.POSITIVE` says a human was needed) or `{"conversation_id":
..., "needs_human": true|false}`. With them, each policy's escalation precision and recall
over the labelled conversations are reported.

Input lines that are not turn events (or handoff events) are skipped and counted by reason
in the report (`lines`, `skipped`); when no line is a turn event there is nothing to compare
and `diff` raises rather than report "0 of 0 conversations change".
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import orjson

from warmhandoff.streams.contract.errors import WarmhandoffError
from warmhandoff.streams.contract.models import Action, ReplayLine
from warmhandoff.streams.learning.labels import Label, is_positive
from warmhandoff.streams.offline.lines import describe_counts, plural
from warmhandoff.streams.offline.replay import Tally, replay
from warmhandoff.streams.policy.model import Policy

ESCALATED = frozenset({Action.escalate, Action.gather})


@dataclass(slots=True)
class Outcome:
    """One conversation under one policy."""

    escalated_at: int | None = None
    queue: str | None = None
    priority: int | None = None
    triggers: tuple[str, ...] = ()
    actions: tuple[str, ...] = ()


def outcomes(lines: Iterable[ReplayLine]) -> dict[str, Outcome]:
    """Each conversation's outcome from replay output lines."""
    found: dict[str, Outcome] = {}
    for line in lines:
        if line.conversation_id is None or line.seq is None:
            continue
        out = found.setdefault(line.conversation_id, Outcome())
        out.actions += (str(line.action),)
        if out.escalated_at is None and line.action in ESCALATED:
            out.escalated_at = line.seq
            out.queue, out.priority, out.triggers = line.queue, line.priority, tuple(line.triggers)
    return found


def change_kind(old: Outcome, new: Outcome) -> str | None:
    """How the conversation's outcome changes, or None when it does not."""
    if (old.escalated_at is None) != (new.escalated_at is None):
        return "newly_escalated" if old.escalated_at is None else "no_longer_escalated"
    if old.escalated_at is not None and new.escalated_at is not None:
        if new.escalated_at != old.escalated_at:
            return "earlier" if new.escalated_at < old.escalated_at else "later"
        if new.queue != old.queue:
            return "requeued"
        if new.priority != old.priority:
            return "reprioritised"
    if old.actions != new.actions or old.triggers != new.triggers:
        return "other"
    return None


def read_labels(lines: Iterable[bytes]) -> dict[str, bool]:
    """conversation_id -> a human was needed, from a labels file (module docstring)."""
    labels: dict[str, bool] = {}
    for number, raw in enumerate(lines, start=1):
        if not raw.strip():
            continue
        try:
            doc = orjson.loads(raw)
            cid = doc["conversation_id"]
            if "needs_human" in doc:
                labels[str(cid)] = bool(doc["needs_human"])
            else:
                labels[str(cid)] = is_positive(Label(doc["label"]))
        except (orjson.JSONDecodeError, KeyError, ValueError, TypeError) as exc:
            raise WarmhandoffError(
                f"labels line {number}: expected conversation_id and label or needs_human "
                f"({type(exc).__name__})"
            ) from None
    return labels


def diff(
    turns: list[bytes],
    old: Policy,
    new: Policy,
    labels: Mapping[str, bool] | None = None,
    *,
    max_bytes: int = 64_000,
) -> dict[str, Any]:
    """The report: counts, every changed conversation, precision and recall with labels."""
    tally = Tally()
    before = outcomes(replay(turns, old, max_bytes=max_bytes, tally=tally))
    if not tally.turns:
        raise WarmhandoffError(no_turns(tally))
    after = outcomes(replay(turns, new, max_bytes=max_bytes))
    changed: list[dict[str, Any]] = []
    for cid in sorted(before.keys() | after.keys()):
        a, b = before.get(cid, Outcome()), after.get(cid, Outcome())
        kind = change_kind(a, b)
        if kind is None:
            continue
        changed.append(
            {
                "conversation_id": cid,
                "change": kind,
                "old": _shown(a),
                "new": _shown(b),
                **({"needs_human": labels[cid]} if labels and cid in labels else {}),
            }
        )
    kinds: dict[str, int] = {}
    for row in changed:
        kinds[row["change"]] = kinds.get(row["change"], 0) + 1
    report: dict[str, Any] = {
        "old_version": old.version,
        "new_version": new.version,
        "lines": tally.lines,
        "skipped": dict(sorted(tally.skipped.items())),
        "conversations": len(before),
        "escalated": {
            "old": sum(1 for o in before.values() if o.escalated_at is not None),
            "new": sum(1 for o in after.values() if o.escalated_at is not None),
        },
        "changed": len(changed),
        "changes": dict(sorted(kinds.items())),
        "conversations_changed": changed,
    }
    if labels:
        report["labelled"] = sum(1 for cid in before if cid in labels)
        report["old_quality"] = _quality(before, labels)
        report["new_quality"] = _quality(after, labels)
    return report


def no_turns(tally: Tally) -> str:
    """Why there is nothing to compare: no line read was a turn event."""
    if not tally.lines:
        return "no turn events to replay: the input has no lines"
    found = {**tally.skipped, **({"handoff events": tally.events} if tally.events else {})}
    return f"read {plural(tally.lines, 'lines')}, none a turn event: {describe_counts(found)}"


def _shown(o: Outcome) -> dict[str, Any]:
    if o.escalated_at is None:
        return {"escalated": False}
    return {
        "escalated": True,
        "seq": o.escalated_at,
        "queue": o.queue,
        "priority": o.priority,
        "triggers": list(o.triggers),
    }


def _quality(found: Mapping[str, Outcome], labels: Mapping[str, bool]) -> dict[str, Any]:
    tp = fp = fn = 0
    for cid, out in found.items():
        if cid not in labels:
            continue
        escalated, needed = out.escalated_at is not None, labels[cid]
        tp += escalated and needed
        fp += escalated and not needed
        fn += needed and not escalated
    return {
        "precision": round(tp / (tp + fp), 4) if tp + fp else None,
        "recall": round(tp / (tp + fn), 4) if tp + fn else None,
        "true_positives": tp,
        "false_positives": fp,
        "false_negatives": fn,
    }


def render(report: Mapping[str, Any]) -> str:
    """The report as text for a terminal."""
    out = [
        f"policy {report['old_version']} -> {report['new_version']}: "
        f"{report['changed']} of {report['conversations']} conversations change",
        f"escalated: {report['escalated']['old']} -> {report['escalated']['new']}",
    ]
    for kind, count in report["changes"].items():
        out.append(f"  {kind:<20} {count}")
    for name in ("old_quality", "new_quality"):
        if name in report:
            q = report[name]
            out.append(
                f"{name.split('_')[0]:<4} precision {q['precision']}  recall {q['recall']} "
                f"(over {report['labelled']} labelled)"
            )
    for row in report["conversations_changed"]:
        old, new = row["old"], row["new"]
        out.append(
            f"{row['conversation_id']:<24} {row['change']:<20} {_brief(old)} -> {_brief(new)}"
        )
    return "\n".join(out) + "\n"


def _brief(o: Mapping[str, Any]) -> str:
    if not o["escalated"]:
        return "contained"
    return f"seq {o['seq']} {o['queue']} p{o['priority']} [{','.join(o['triggers'])}]"
