"""Contact-centre call logs as routing events: a small trace format and the Technion importer.

The trace format is CSV with the header `ts,event,caller,queue,priority,agent`, one event a
line, in time order:

- `ts`: ISO 8601 with a timezone (`2026-03-02T09:15:04+01:00`);
- `event`: `arrive` (the caller joins `queue`), `answer` (an agent takes them), `abandon` (they
  hang up while waiting) or `end` (their service ended);
- `caller`: any id, unique in the file; `queue`: the queue's name (on `arrive`; later events
  may leave it empty); `priority`: the router's priority, 1 (most urgent) to 5, on `arrive`
  (empty: 3); `agent`: who answered, on `answer` (empty: not recorded).

A caller answered in the same second they arrived never queued: they are not scored.

`read_technion` reads the Technion SEE Center "Anonymous Bank" log (tab-separated, 17 fields,
one call a line): PHANTOM calls are dropped; type IN joins the `internet` queue, every other
type the `regular` queue; a call with `q_start` 0:00:00 that an agent served arrives and is
answered at `ser_start`; a queued call arrives at `q_start` and is answered or abandons
`q_time` seconds later; service ends `ser_time` seconds after the answer. Priority 2 callers
count 90 s of credited waiting: they become router priority 2 (a level, worth 60 s at one
point a minute) with 30 s of `priority_credit_seconds`, the others priority 3.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path

from warmhandoff.streams.contract.errors import WarmhandoffError

EVENTS = ("arrive", "answer", "abandon", "end")
HEADER = ("ts", "event", "caller", "queue", "priority", "agent")
DEFAULT_PRIORITY = 3
# The bank's switch clock is Israel's local time (no daylight saving in the winter months).
TECHNION_ZONE = timezone(timedelta(hours=2))
TECHNION_FIELDS = 17
TECHNION_CREDITS = {2: 30.0}  # with a priority level worth 60 s: the log's 90 s head start


class TraceError(WarmhandoffError):
    """A trace that cannot be read: the file and line, and what is wrong."""


@dataclass(frozen=True, slots=True)
class TraceEvent:
    """One event of a call: when, what, whose, in which queue, at which priority, by whom."""

    ts: datetime
    event: str
    caller: str
    queue: str = ""
    priority: int = DEFAULT_PRIORITY
    agent: str | None = None
    where: str = ""  # file:line, for errors


@dataclass(frozen=True, slots=True)
class Trace:
    """A whole trace, in time order, and how its centre orders the queue."""

    events: list[TraceEvent]
    points_per_minute: float = 1.0
    credits: dict[int, float] = field(default_factory=dict)


def read_trace(paths: Iterable[Path], fmt: str = "csv") -> Trace:
    """Events of every file in time order (`fmt`: `csv`, the trace format, or `technion`)."""
    events: list[TraceEvent] = []
    for path in paths:
        events.extend(read_technion(path) if fmt == "technion" else read_csv(path))
    events.sort(key=lambda e: e.ts)  # stable: a file's order holds within a second
    check_sequence(events)
    if fmt == "technion":
        return Trace(events, points_per_minute=1.0, credits=dict(TECHNION_CREDITS))
    return Trace(events)


def read_csv(path: Path) -> list[TraceEvent]:
    """The trace format (module docstring); events must be in time order."""
    events: list[TraceEvent] = []
    with path.open(newline="", encoding="utf-8") as handle:
        rows = csv.reader(handle)
        header = next(rows, None)
        if header is None or tuple(h.strip() for h in header) != HEADER:
            raise TraceError(f"{path}:1: the header must be {','.join(HEADER)}")
        last: datetime | None = None
        for number, row in enumerate(rows, start=2):
            if not row:
                continue
            where = f"{path}:{number}"
            event = _csv_event(row, where)
            if last is not None and event.ts < last:
                raise TraceError(f"{where}: out of time order ({event.ts.isoformat()})")
            last = event.ts
            events.append(event)
    return events


def _csv_event(row: list[str], where: str) -> TraceEvent:
    if len(row) != len(HEADER):
        raise TraceError(f"{where}: expected {len(HEADER)} fields, got {len(row)}")
    ts_text, event, caller, queue, priority_text, agent = (x.strip() for x in row)
    try:
        ts = datetime.fromisoformat(ts_text)
    except ValueError:
        raise TraceError(f"{where}: ts {ts_text!r} is not an ISO 8601 time") from None
    if ts.tzinfo is None:
        raise TraceError(f"{where}: ts {ts_text!r} has no timezone")
    if event not in EVENTS:
        raise TraceError(f"{where}: event {event!r} is not one of {', '.join(EVENTS)}")
    if not caller:
        raise TraceError(f"{where}: caller is empty")
    if event == "arrive" and not queue:
        raise TraceError(f"{where}: arrive needs a queue")
    priority = DEFAULT_PRIORITY
    if priority_text:
        if not priority_text.isdigit() or not 1 <= int(priority_text) <= 5:
            raise TraceError(f"{where}: priority {priority_text!r} is not 1 to 5")
        priority = int(priority_text)
    return TraceEvent(ts, event, caller, queue, priority, agent or None, where)


def check_sequence(events: Iterable[TraceEvent]) -> None:
    """Each caller arrives once, then is answered or abandons once, and ends after an answer."""
    state: dict[str, str] = {}
    allowed = {"arrive": (None,), "answer": ("arrive",), "abandon": ("arrive",), "end": ("answer",)}
    for e in events:
        before = state.get(e.caller)
        if before not in allowed[e.event]:
            after = f"after {before}" if before else "before it arrived"
            raise TraceError(f"{e.where}: caller {e.caller!r}: {e.event} {after}")
        state[e.caller] = e.event


# --- the Technion call-centre log -----------------------------------------------------------

# Ties within a second: agents free up and callers leave before anyone is answered, and a
# queued caller is answered before a newcomer arrives; what follows a caller's own event in
# the same second (an answer on arrival, a zero-second service) comes last.
_RANK = {"end": 0, "abandon": 1, "answer": 2, "arrive": 3, "at_once": 4, "then": 5}


def read_technion(path: Path) -> list[TraceEvent]:
    """The Technion "Anonymous Bank" log as trace events (module docstring), in time order."""
    keyed: list[tuple[datetime, int, int, TraceEvent]] = []
    days: dict[str, datetime] = {}
    with path.open(encoding="utf-8", errors="replace") as handle:
        for number, line in enumerate(handle, start=1):
            if number == 1 and line.startswith("vru"):
                continue
            if not line.strip():
                continue
            where = f"{path}:{number}"
            for rank, event in _technion_call(line.rstrip("\r\n").split("\t"), where, days):
                keyed.append((event.ts, rank, len(keyed), event))
    keyed.sort(key=lambda k: k[:3])
    return [k[3] for k in keyed]


def _technion_call(
    fields: list[str], where: str, days: dict[str, datetime]
) -> Iterator[tuple[int, TraceEvent]]:
    if len(fields) != TECHNION_FIELDS:
        raise TraceError(
            f"{where}: expected {TECHNION_FIELDS} tab-separated fields, got {len(fields)}"
        )
    call_id, priority, kind, date, outcome = fields[1], fields[3], fields[4], fields[5], fields[12]
    if outcome == "PHANTOM":
        return
    if outcome not in ("AGENT", "HANG"):
        raise TraceError(f"{where}: outcome {outcome!r} is not AGENT, HANG or PHANTOM")
    day = days.get(date) or days.setdefault(date, _day(date, where))
    q_start, q_wait = _clock(fields[9], where), _seconds(fields[11], where)
    ser_start, ser_time = _clock(fields[13], where), _seconds(fields[15], where)
    caller = f"{date}-{fields[0].strip()}-{call_id}"  # call ids repeat across lines and days
    queue = "internet" if kind == "IN" else "regular"
    rank_priority = 2 if priority.strip() == "2" else DEFAULT_PRIORITY
    server = fields[16].strip()
    agent = None if server in ("", "NO_SERVER") else server

    def event(at: datetime, name: str) -> TraceEvent:
        return TraceEvent(at, name, caller, queue, rank_priority, agent, where)

    if q_start == 0:  # never queued
        if outcome == "HANG":
            return  # hung up in the voice-response unit
        at = day + timedelta(seconds=ser_start)
        yield _RANK["arrive"], event(at, "arrive")
        yield _RANK["at_once"], event(at, "answer")
        yield _RANK["end" if ser_time else "then"], event(at + timedelta(seconds=ser_time), "end")
        return
    arrived = day + timedelta(seconds=q_start)
    left = arrived + timedelta(seconds=q_wait)
    yield _RANK["arrive"], event(arrived, "arrive")
    if outcome == "HANG":
        yield _RANK["abandon" if q_wait else "at_once"], event(left, "abandon")
        return
    yield _RANK["answer" if q_wait else "at_once"], event(left, "answer")
    yield _RANK["end" if ser_time else "then"], event(left + timedelta(seconds=ser_time), "end")


def _day(date: str, where: str) -> datetime:
    if len(date) != 6 or not date.isdigit():
        raise TraceError(f"{where}: date {date!r} is not YYMMDD")
    year = int(date[:2])
    try:
        return datetime(
            (1900 if year >= 50 else 2000) + year,
            int(date[2:4]),
            int(date[4:]),
            tzinfo=TECHNION_ZONE,
        )
    except ValueError:
        raise TraceError(f"{where}: date {date!r} is not a real day") from None


def _clock(text: str, where: str) -> int:
    parts = text.strip().split(":")
    if len(parts) != 3 or not all(p.isdigit() for p in parts):
        raise TraceError(f"{where}: time {text!r} is not H:MM:SS")
    h, m, s = (int(p) for p in parts)
    return h * 3600 + m * 60 + s


def _seconds(text: str, where: str) -> int:
    text = text.strip()
    if not text.isdigit():
        raise TraceError(f"{where}: {text!r} is not a whole number of seconds")
    return int(text)
