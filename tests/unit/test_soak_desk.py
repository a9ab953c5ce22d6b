"""The soak's simulated desk on plain values (streams/lab/bench/soak_desk.py)."""

from __future__ import annotations

import json
from typing import Any

from warmhandoff.streams.contract.topics import load_topics
from warmhandoff.streams.lab.bench.soak_desk import SOURCE, DeskTimes, SoakDesk


def delivered(hid: str, cid: str = "c-1", source: str = "sink:file") -> dict[str, Any]:
    return {
        "type": "delivered",
        "handoff_id": hid,
        "conversation_id": cid,
        "queue": "billing",
        "source": source,
    }


def desk(**times: Any) -> SoakDesk:
    return SoakDesk({}, load_topics(), seed=7, times=DeskTimes(**times))


def kinds(records: list[tuple[bytes, bytes]]) -> list[str]:
    return [json.loads(value)["type"] for _, value in records]


def test_a_delivered_handoff_is_accepted_then_closed_keyed_by_conversation() -> None:
    d = desk(abandon_share=0.0, handed_back_share=0.0, pickup_s=(1.0, 1.0), handle_s=(5.0, 5.0))
    d.read(delivered("h-1", "c-9"))
    assert d.due(0.0) == []  # nothing is due before its time
    records = d.due(float("inf"))
    assert kinds(records) == ["accepted", "resolved"]
    assert {key for key, _ in records} == {b"c-9"}
    events = [json.loads(v) for _, v in records]
    assert all(e["handoff_id"] == "h-1" and e["source"] == SOURCE for e in events)
    assert events[0]["agent_id"] == events[1]["agent_id"]
    assert d.figures() == {"accepted": 1, "resolved": 1, "open": 0}


def test_redeliveries_its_own_events_and_other_types_are_ignored() -> None:
    d = desk(abandon_share=0.0)
    d.read(delivered("h-1"))
    d.read(delivered("h-1"))  # a re-route delivered again while open
    d.read(delivered("h-2", source=SOURCE))
    d.read({**delivered("h-3"), "type": "queued"})
    assert d.figures()["open"] == 1
    assert len(d.due(float("inf"))) == 2
    d.read(delivered("h-1"))  # a late redelivery after it closed
    assert d.due(float("inf")) == [] and d.figures()["open"] == 0


def test_a_customer_who_leaves_first_ends_abandoned_without_an_agent() -> None:
    d = desk(abandon_share=1.0)
    d.read(delivered("h-1"))
    records = d.due(float("inf"))
    assert kinds(records) == ["abandoned"]
    assert "agent_id" not in json.loads(records[0][1])
    assert d.figures() == {"abandoned": 1, "open": 0}


def test_shares_follow_the_seeded_times() -> None:
    d = desk(abandon_share=0.1, handed_back_share=0.15)
    for i in range(2_000):
        d.read(delivered(f"h-{i}", f"c-{i}"))
    d.due(float("inf"))
    figures = d.figures()
    assert figures["open"] == 0
    assert 150 <= figures["abandoned"] <= 250
    assert figures["accepted"] == 2_000 - figures["abandoned"]
    assert 0.10 <= figures["handed_back"] / figures["accepted"] <= 0.20
