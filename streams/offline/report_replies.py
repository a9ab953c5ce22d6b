"""The report's "suggested replies" section: per topic, the first replies that worked best and
worst, from recorded decisions and handoff events.

The same fold as the learner's (streams/learning/replies.py), fed the recording in time order;
every handoff that ended counts, whether or not its return window has closed (a recording
holds what it holds). Per topic (all triggers together), replies ranked by the smoothed share
of good outcomes: the best `SHOWN`, then the worst `SHOWN` of the rest, worst first. Each row
has its uses, the share resolved without a return, and the mean CSAT of those answered.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from warmhandoff.streams.core.replies import ANY_TRIGGER, RankedReply, rank
from warmhandoff.streams.learning.replies import DROPS, ENDS, ReplyFold
from warmhandoff.streams.offline.report_input import Streams

SHOWN = 3  # replies listed per topic at each end
REPLY_CHARS = 60  # a typed reply's text as listed

_ENDS = {kind.value: end for kind, end in ENDS.items()}
_DROPS = {kind.value for kind in DROPS}


def _ts(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def reply_rows(streams: Streams) -> list[dict[str, Any]]:
    """The section's rows, by topic: the best replies, then the worst."""
    fold = fold_streams(streams)
    rows: list[dict[str, Any]] = []
    for (trigger, topic), tallies in sorted(fold.tallies.items()):
        if trigger != ANY_TRIGGER:
            continue
        ranked = rank([t.ranked(key) for key, t in tallies.items()])
        best, rest = ranked[:SHOWN], ranked[SHOWN:]
        rows.extend(_row(topic, "best", r) for r in best)
        rows.extend(_row(topic, "worst", r) for r in reversed(rest[-SHOWN:]))
    return rows


def fold_streams(streams: Streams) -> ReplyFold:
    """Decisions and handoff events, in time order, through the learner's fold."""
    timeline: list[tuple[datetime, int, dict[str, Any]]] = [
        (_ts(d["ts"]), 0, d) for d in streams.decisions if d.get("ts")
    ]
    timeline += [(_ts(e["ts"]), 1, e) for e in streams.events]
    timeline.sort(key=lambda item: (item[0], item[1]))  # a decision before its events
    fold = ReplyFold()
    for at, kind, doc in timeline:
        if kind == 0:
            _decision(fold, doc, at)
        else:
            _event(fold, doc, at)
    fold.settle(None)
    return fold


def _decision(fold: ReplyFold, d: dict[str, Any], at: datetime) -> None:
    customer = (d.get("signals") or {}).get("customer_id")
    cid, hid, action = d["conversation_id"], d.get("handoff_id"), d["action"]
    if action == "escalate" and hid:
        codes = [hit["code"] for hit in d.get("triggers") or []]
        fold.escalation(hid, cid, codes, at, customer)
    fold.contact(cid, customer, at, hid, escalating=action in ("gather", "escalate"))


def _event(fold: ReplyFold, e: dict[str, Any], at: datetime) -> None:
    hid, cid, kind = e["handoff_id"], e.get("conversation_id") or "", e["type"]
    if kind == "replied":
        fold.reply(hid, cid, at, text=e.get("reply"), macro_id=e.get("macro_id"))
    elif kind in _ENDS:
        fold.ended(hid, cid, at, _ENDS[kind])
    elif kind == "csat" and e.get("csat") is not None:
        fold.answered(hid, int(e["csat"]))
    elif kind in _DROPS:
        fold.dropped(hid)


def _row(topic: str, end: str, r: RankedReply) -> dict[str, Any]:
    shown = r.macro_id or r.text
    if len(shown) > REPLY_CHARS:
        shown = shown[:REPLY_CHARS].rsplit(" ", 1)[0] + "…"
    return {
        "topic": topic,
        "rank": end,
        "reply": shown,
        "uses": r.uses,
        "resolved_without_return": round(r.clean / r.uses, 4) if r.uses else None,
        "csat": round(r.csat_sum / r.csat_n, 2) if r.csat_n else None,
        "score": round(r.score, 4),
    }
