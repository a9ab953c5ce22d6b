"""Replay of recorded traffic with `handoff.events` lines mixed in, and the demo's desk."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import orjson

from warmhandoff.streams.contract.models import HandoffEventType
from warmhandoff.streams.core.transfer import handoff_id
from warmhandoff.streams.lab.demo.desk import desk_events
from warmhandoff.streams.offline.replay import replay
from warmhandoff.streams.policy import load_policy

T0 = datetime(2026, 11, 25, 16, 0, tzinfo=UTC)
ANGRY = [
    "my parcel never arrived",
    "this is not working, it still hasn't arrived",
    "that's wrong, the tracking is useless, I'm annoyed",
    "this is ridiculous, still nothing",
]


def turn_line(seq: int, text: str) -> bytes:
    return orjson.dumps(
        {"conversation_id": "c-r", "seq": seq, "ts": (T0 + timedelta(seconds=seq)).isoformat(),
         "role": "customer", "text": text, "locale": "en-US"}
    )  # fmt: skip


def event_line(kind: str, n: int, hid: str | None = None) -> bytes:
    return orjson.dumps(
        {"event_id": f"e-{n}", "handoff_id": hid or handoff_id("c-r", 1),
         "conversation_id": "c-r", "type": kind, "source": "crm",
         "ts": (T0 + timedelta(seconds=100 + n)).isoformat()}
    )  # fmt: skip


def test_recorded_events_hand_the_conversation_back_during_replay() -> None:
    lines = [turn_line(i, t) for i, t in enumerate(ANGRY)]
    lines += [event_line("accepted", 1), event_line("resolved", 2), event_line("resolved", 3)]
    lines += [event_line("accepted", 4, hid="h-unknown"), b'{"handoff_id": 1, "type": 2}']
    lines.append(turn_line(10, "still no parcel, this is slow"))
    out = list(replay(lines, load_policy()))
    assert len(out) == len(lines)  # one output line per input line, in order
    # Two unhappy turns are not yet enough; the third, with a cue, escalates.
    assert [o.action for o in out[:3]] == ["none", "none", "escalate"]
    events = out[4:9]
    assert [o.reason for o in events[:2]] == [
        "handoff_event accepted: accepted",
        "handoff_event resolved: resolved",
    ]
    assert events[2].action == "rejected" and events[2].reason is not None
    assert events[2].reason.endswith("closed")
    assert events[3].reason is not None and events[3].reason.endswith("not_current")
    assert events[4].action == "rejected" and "invalid" in (events[4].reason or "")
    # After the recorded handback the conversation starts afresh: no re-escalation.
    assert out[-1].action == "none"


def test_the_demo_desk_is_deterministic_for_a_seed() -> None:
    request = {"handoff_id": "h-1", "conversation_id": "c-1", "routing": {"queue": "general"}}
    runs = [
        [desk_events(request, rng, T0) for _ in range(40)]
        for rng in (random.Random(7), random.Random(7))
    ]
    assert runs[0] == runs[1]
    kinds = {tuple(e.type for e in events) for events in runs[0]}
    assert kinds == {
        (HandoffEventType.delivered, HandoffEventType.accepted, HandoffEventType.resolved),
        (HandoffEventType.delivered, HandoffEventType.accepted, HandoffEventType.handed_back),
    }
    assert len({e.event_id for events in runs[0][:1] for e in events}) == 3
