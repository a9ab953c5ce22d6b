"""Offline replay: the pipeline's exact functions over recorded turns, without a broker.

Reads turn events as JSON lines and writes one JSON line per input line, in input order
(DESIGN.md, "Offline replay"). Time is event time: `now` is each turn's own `ts`, so a replay
is deterministic and a gather deadline passes when a later turn of the conversation arrives
after it. Lines that are not valid turn events give `"action": "rejected"` with the reason;
turns at or below a conversation's last applied seq give `"action": "none"` with reason
`replayed_seq` (the stream skips them the same way).

Lines of `handoff.events` (a `HandoffEvent`: a line with `handoff_id` and `type`) may be mixed
in: they are applied at their own `ts` with the stream's lifecycle function, so a recorded
handback resets the conversation as it did live. Their output line has no `seq`, `action`
`none` (or `rejected` when the event is not applied), the `handoff_id`, and the reason
`handoff_event <type>: <status after>` (or `... not applied: <reason>`).

A `Tally` passed in counts what the replay read: non-blank lines, turns replayed, events
applied, and the lines it could not use by reason, for the one-line summaries of the CLI.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

import orjson

from warmhandoff.streams.contract.models import Action, HandoffEvent, ReplayLine
from warmhandoff.streams.core.codec import Rejected, decode, decode_turn
from warmhandoff.streams.core.conversation import ConversationState
from warmhandoff.streams.core.lifecycle import DEFAULT_TIMEOUTS, apply_event
from warmhandoff.streams.core.pipeline import new_state, process_turn
from warmhandoff.streams.policy.model import Policy

SIGNAL_FIELDS_OMITTED = frozenset({"schema_version", "conversation_id", "seq", "ts"})

#: Why a line was not used, in words, by the codec's reason code (streams/core/codec.py).
REASONS = {
    "not_utf8": "not UTF-8",
    "not_json": "not JSON",
    "invalid": "not a valid turn or handoff event",
    "unsupported_version": "of an unsupported schema_version",
    "empty": "empty",
    "not_applied": "handoff events not applied",
}


@dataclass(slots=True)
class Tally:
    """What a replay read: non-blank lines, turns and events used, and lines skipped by why."""

    lines: int = 0
    turns: int = 0
    events: int = 0
    skipped: Counter[str] = field(default_factory=Counter)

    @property
    def used(self) -> int:
        """Lines that were a turn or an applied handoff event."""
        return self.turns + self.events


def replay(
    lines: Iterable[bytes],
    policy: Policy,
    *,
    max_bytes: int = 64_000,
    tally: Tally | None = None,
) -> Iterator[ReplayLine]:
    """One `ReplayLine` per input line."""
    states: dict[str, ConversationState] = {}
    count = tally if tally is not None else Tally()
    for number, raw in enumerate(lines, start=1):
        line = raw.rstrip(b"\r\n")
        if not line.strip():
            continue
        count.lines += 1
        if len(line) > max_bytes:
            # Checked first: a reader may have cut the line (streams/offline/lines.py).
            rejected = Rejected("too_large", f"longer than the limit of {max_bytes} bytes")
            count.skipped[f"longer than {max_bytes} bytes"] += 1
            yield _rejected_line(number, rejected)
            continue
        if b'"handoff_id"' in line and b'"type"' in line:
            try:
                event = decode(line, HandoffEvent, max_bytes=max_bytes)
            except Rejected as rejected:
                count.skipped[REASONS.get(rejected.reason, rejected.reason)] += 1
                yield _rejected_line(number, rejected)
                continue
            out = _event_line(event, states)
            if out.action == "rejected":
                count.skipped[REASONS["not_applied"]] += 1
            else:
                count.events += 1
            yield out
            continue
        try:
            turn = decode_turn(line, max_bytes=max_bytes)
        except Rejected as rejected:
            count.skipped[REASONS.get(rejected.reason, rejected.reason)] += 1
            yield _rejected_line(number, rejected)
            continue
        count.turns += 1
        state = states.get(turn.conversation_id)
        if state is None:
            state = states[turn.conversation_id] = new_state(turn.conversation_id)
        result = process_turn(state, turn, policy, now=turn.ts)
        if result is None or result.decision is None:
            yield ReplayLine(
                conversation_id=turn.conversation_id,
                seq=turn.seq,
                action=Action.none,
                reason="replayed_seq",
            )
            continue
        decision = result.decision
        yield ReplayLine(
            conversation_id=decision.conversation_id,
            seq=decision.seq,
            action=decision.action,
            triggers=[hit.code for hit in decision.triggers],
            priority=decision.priority,
            queue=decision.queue,
            handoff_id=result.handoff.handoff_id if result.handoff else None,
            missing_fields=decision.missing_fields,
            reason=decision.reason,
            signals=_signals(decision.signals.model_dump(mode="json")),
        )


def _rejected_line(number: int, rejected: Rejected) -> ReplayLine:
    return ReplayLine(
        conversation_id=None,
        seq=None,
        action="rejected",
        reason=f"line {number}: {rejected.reason}: {rejected.error}",
    )


def _event_line(event: HandoffEvent, states: dict[str, ConversationState]) -> ReplayLine:
    """Apply one recorded lifecycle event to its conversation."""
    cid = event.conversation_id
    state = states.get(cid) or new_state(cid)
    outcome = apply_event(state, event, event.ts, DEFAULT_TIMEOUTS)
    kind = event.type.value
    if outcome.rejected is not None:
        return ReplayLine(
            conversation_id=cid,
            seq=None,
            action="rejected",
            handoff_id=event.handoff_id,
            reason=f"handoff_event {kind} not applied: {outcome.rejected}",
        )
    states[cid] = state
    status = outcome.status.value if outcome.status else "none"
    return ReplayLine(
        conversation_id=cid,
        seq=None,
        action=Action.none,
        handoff_id=event.handoff_id,
        reason=f"handoff_event {kind}: {status}",
    )


def _signals(data: dict[str, Any]) -> dict[str, Any]:
    """The signals of a turn without the fields already on the line."""
    return {k: v for k, v in data.items() if k not in SIGNAL_FIELDS_OMITTED}


def dumps(line: ReplayLine) -> bytes:
    """One output line (compact JSON, newline-terminated)."""
    return orjson.dumps(line.model_dump(mode="json", exclude_none=True)) + b"\n"
