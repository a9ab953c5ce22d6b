"""What `warmhandoff report` reads: topic records and replay output, checked and sorted by kind.

Each input line is a JSON object, one of:
- `{"topic": "<logical topic>", "value": {...}}`: a record of a dump of several topics;
- a bare record whose topic is recognised by its fields: turns (`conversation.turns`),
  decisions (`escalation.decisions`), handoff requests, handoff events and learning examples;
- a line of `warmhandoff replay` output (`ReplayLine`): the decision taken on one turn, with
  no time; its decision id is derived as the worker derives it, so labels still join.

Every record is checked for the fields the report reads, with their types. A line that is
none of these, or lacks such a field, is skipped and counted by reason; replay lines that
carry no decision (a rejected input, a lifecycle event, a turn replayed twice) are counted too.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import orjson

from warmhandoff.streams.contract.errors import WarmhandoffError
from warmhandoff.streams.core.transfer import decision_id
from warmhandoff.streams.offline.lines import describe_counts, plural

KINDS = {
    "conversation.turns": "turn",
    "escalation.decisions": "decision",
    "handoff.requests": "request",
    "handoff.events": "event",
    "learning.examples": "example",
}

#: The largest line read: the largest record these topics carry is a handoff request with its
#: context bundle (a few hundred KB; the sink accepts up to 4 MiB).
MAX_LINE_BYTES = 4 * 1024 * 1024

NOT_JSON = "not JSON"
NOT_OBJECT = "not a JSON object"
UNKNOWN = "neither a topic record nor a replay line"
OTHER_TOPIC = "records of a topic the report does not read"


@dataclass(slots=True)
class Streams:
    """Recorded records by kind, as plain JSON objects, and what was read to find them."""

    turns: list[dict[str, Any]] = field(default_factory=list)
    decisions: list[dict[str, Any]] = field(default_factory=list)
    requests: list[dict[str, Any]] = field(default_factory=list)
    events: list[dict[str, Any]] = field(default_factory=list)
    examples: list[dict[str, Any]] = field(default_factory=list)
    read: int = 0  # non-blank lines or records read
    replayed: int = 0  # decisions that came from replay output (no time, no outcome)
    skipped: Counter[str] = field(default_factory=Counter)

    @property
    def records(self) -> int:
        """Records kept, of every kind."""
        return sum(
            len(found)
            for found in (self.turns, self.decisions, self.requests, self.events, self.examples)
        )

    def add_json(self, raw: bytes, kind: str | None = None) -> None:
        """Keep one JSON record (of `kind`, else recognised) when it is usable; else count why."""
        self.read += 1
        try:
            doc = orjson.loads(raw)
        except orjson.JSONDecodeError:
            self.skipped[NOT_JSON] += 1
            return
        if not isinstance(doc, dict):
            self.skipped[NOT_OBJECT] += 1
            return
        if kind is None and "topic" in doc and isinstance(doc.get("value"), dict):
            kind, doc = KINDS.get(str(doc["topic"])), doc["value"]
            if kind is None:
                self.skipped[OTHER_TOPIC] += 1
                return
        elif kind is None:
            kind = kind_of(doc)
        if kind == "replay":
            self._add_replayed(doc)
        elif kind is None:
            self.skipped[UNKNOWN] += 1
        elif not all(check(doc) for check in CHECKS[kind]):
            self.skipped[f"{kind} records without the fields the report reads"] += 1
        else:
            getattr(self, f"{kind}s").append(doc)

    def _add_replayed(self, doc: dict[str, Any]) -> None:
        if not all(check(doc) for check in REPLAY_CHECKS):
            self.skipped["replay lines without the fields the report reads"] += 1
        elif doc["action"] == "rejected":
            self.skipped["replay lines of rejected input"] += 1
        elif doc.get("seq") is None or doc.get("conversation_id") is None:
            self.skipped["replay lines of handoff events"] += 1
        elif doc.get("reason") == "replayed_seq":
            self.skipped["replay lines of turns replayed twice"] += 1
        else:
            self.decisions.append(_decision(doc))
            self.replayed += 1


def kind_of(doc: dict[str, Any]) -> str | None:
    """The kind of a bare record or replay line, from its fields."""
    if "example_id" in doc:
        return "example"
    if "decision_id" in doc and "action" in doc:
        return "decision"
    if "handoff_id" in doc and "routing" in doc:
        return "request"
    if "event_id" in doc and "handoff_id" in doc and "type" in doc:
        return "event"
    if "role" in doc and "seq" in doc and "text" in doc:
        return "turn"
    if "action" in doc and "conversation_id" in doc and "seq" in doc:
        return "replay"
    return None


def read_streams(lines: Iterable[bytes], *, max_bytes: int = MAX_LINE_BYTES) -> Streams:
    """Sort a dump's lines by kind; a `WarmhandoffError` when no line is a usable record."""
    streams = Streams()
    for raw in lines:
        if not raw.strip():
            continue
        if len(raw) > max_bytes:
            streams.read += 1
            streams.skipped[f"longer than {max_bytes} bytes"] += 1
            continue
        streams.add_json(raw)
    check_usable(streams, "lines", "a topic record or a replay line")
    return streams


def check_usable(streams: Streams, what: str, usable: str = "usable") -> None:
    """`WarmhandoffError` saying why, when no record read is `usable` or none is a decision."""
    if not streams.read:
        raise WarmhandoffError(f"read 0 {what}: nothing to report on")
    read = plural(streams.read, what)
    if not streams.records:
        raise WarmhandoffError(f"read {read}, none {usable}: {describe_counts(streams.skipped)}")
    if not streams.decisions:
        kept = {
            "turns": len(streams.turns),
            "handoff requests": len(streams.requests),
            "handoff events": len(streams.events),
            "labels": len(streams.examples),
        }
        found = describe_counts({kind: n for kind, n in kept.items() if n} | streams.skipped)
        raise WarmhandoffError(
            f"read {read} and no decision ({found}): the report needs decisions; "
            "for turn events, replay them first: warmhandoff replay FILE | warmhandoff report -"
        )


def _decision(line: dict[str, Any]) -> dict[str, Any]:
    """A replay line as the decision record the report reads (no time of its own)."""
    cid, seq = line["conversation_id"], line["seq"]
    return {
        "decision_id": decision_id(cid, seq),
        "conversation_id": cid,
        "seq": seq,
        "action": line["action"],
        "reason": line.get("reason"),
        "triggers": [{"code": code} for code in line.get("triggers") or []],
        "queue": line.get("queue"),
        "handoff_id": line.get("handoff_id"),
        "signals": line.get("signals") or {},
    }


# --- the fields the report reads, by kind -------------------------------------------------

Check = Callable[[dict[str, Any]], bool]


def _text(key: str, *, optional: bool = False) -> Check:
    return lambda doc: isinstance(doc.get(key), str) or (optional and doc.get(key) is None)


def _whole(key: str, *, optional: bool = False) -> Check:
    def check(doc: dict[str, Any]) -> bool:
        value = doc.get(key)
        return (isinstance(value, int) and not isinstance(value, bool)) or (
            optional and value is None
        )

    return check


def _number(key: str) -> Check:
    def check(doc: dict[str, Any]) -> bool:
        value = doc.get(key)
        return value is None or (isinstance(value, int | float) and not isinstance(value, bool))

    return check


def _time(key: str) -> Check:
    def check(doc: dict[str, Any]) -> bool:
        value = doc.get(key)
        if not isinstance(value, str):
            return False
        try:
            return datetime.fromisoformat(value.replace("Z", "+00:00")).tzinfo is not None
        except ValueError:
            return False

    return check


def _object(key: str, *checks: Check, optional: bool = False) -> Check:
    def check(doc: dict[str, Any]) -> bool:
        value = doc.get(key)
        if value is None:
            return optional
        return isinstance(value, dict) and all(inner(value) for inner in checks)

    return check


def _codes(key: str, *, objects: bool) -> Check:
    def check(doc: dict[str, Any]) -> bool:
        value = doc.get(key)
        if value is None:
            return True
        if not isinstance(value, list):
            return False
        if objects:
            return all(isinstance(v, dict) and isinstance(v.get("code"), str) for v in value)
        return all(isinstance(v, str) for v in value)

    return check


_SIGNALS = _object(
    "signals",
    _number("repeat_count"),
    _text("intent", optional=True),
    _text("customer_id", optional=True),
    optional=True,
)

CHECKS: dict[str, tuple[Check, ...]] = {
    "turn": (
        _text("conversation_id"),
        _time("ts"),
        _object("customer", _text("id", optional=True), optional=True),
    ),
    "decision": (
        _text("decision_id"),
        _text("conversation_id"),
        _whole("seq"),
        _time("ts"),
        _text("action"),
        _text("handoff_id", optional=True),
        _text("queue", optional=True),
        _codes("triggers", objects=True),
        _SIGNALS,
        _number("learned_score"),
    ),
    "request": (
        _text("handoff_id"),
        _time("created_at"),
        _object("routing", _text("queue"), _number("sla_seconds")),
    ),
    "event": (
        _text("handoff_id"),
        _text("conversation_id", optional=True),
        _text("type"),
        _time("ts"),
        _text("queue", optional=True),
        _text("reason", optional=True),
        _number("csat"),
        _text("reply", optional=True),
        _text("macro_id", optional=True),
    ),
    "example": (
        _text("decision_id"),
        _text("conversation_id"),
        _text("label"),
        _text("handoff_id", optional=True),
    ),
}

REPLAY_CHECKS: tuple[Check, ...] = (
    _text("conversation_id", optional=True),
    _whole("seq", optional=True),
    _text("action"),
    _text("handoff_id", optional=True),
    _text("queue", optional=True),
    _text("reason", optional=True),
    _codes("triggers", objects=False),
    _SIGNALS,
)
