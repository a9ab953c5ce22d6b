"""`warmhandoff report`: KPIs on a small hand-built stream, with hand-computed values."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson
import pytest

from warmhandoff.streams.cli import main
from warmhandoff.streams.contract.errors import WarmhandoffError
from warmhandoff.streams.core.transfer import decision_id
from warmhandoff.streams.learning.insights import (
    deflection_candidates,
    join_labels,
    recommend_threshold,
    trigger_performance,
)
from warmhandoff.streams.offline.report import build_report, kpis, read_streams, render

DAY = "2026-11-25T"
CARD = "4111 1111 1111 1111"


def turn(cid: str, seq: int, at: str, customer: str, role: str = "customer") -> dict[str, Any]:
    return {
        "conversation_id": cid,
        "seq": seq,
        "ts": DAY + at + "Z",
        "role": role,
        "text": "…",
        "customer": {"id": customer},
    }


def decision(
    cid: str,
    seq: int,
    at: str,
    action: str = "none",
    *,
    role: str = "customer",
    repeats: int = 0,
    handoff: str | None = None,
    triggers: list[dict[str, Any]] | None = None,
    intent: str | None = None,
) -> dict[str, Any]:
    return {
        "decision_id": f"d-{cid}-{seq}",
        "conversation_id": cid,
        "seq": seq,
        "ts": DAY + at + "Z",
        "action": action,
        "reason": "r",
        "triggers": triggers or [],
        "queue": None,
        "handoff_id": handoff,
        "policy_version": "p1",
        "signals": {"role": role, "repeat_count": repeats, "intent": intent},
    }


def event(hid: str, kind: str, at: str, **extra: Any) -> dict[str, Any]:
    cid = "c-" + hid.split("-")[1]
    return {
        "event_id": f"e-{hid}-{kind}",
        "handoff_id": hid,
        "conversation_id": cid,
        "type": kind,
        "ts": DAY + at + "Z",
        "source": "test",
        **extra,
    }


SENT = "negative_sentiment"
RECORDS: list[dict[str, Any]] = [
    # c-1: contained, two customer turns (one repeat); the customer comes back as c-3.
    turn("c-1", 0, "10:00:00", "u-1"),
    turn("c-1", 1, "10:00:05", "u-1", role="bot"),
    turn("c-1", 2, "10:00:20", "u-1"),
    decision("c-1", 0, "10:00:00"),
    decision("c-1", 1, "10:00:05", role="bot"),
    decision("c-1", 2, "10:00:20", repeats=1),
    # c-2: escalated on its second turn, answered in 30 s, resolved after 10 min, CSAT 5.
    turn("c-2", 0, "10:00:00", "u-2"),
    turn("c-2", 1, "10:01:00", "u-2"),
    decision("c-2", 0, "10:00:00"),
    decision(
        "c-2", 1, "10:01:00", "escalate", handoff="h-2",
        triggers=[{"code": SENT, "value": -0.8, "threshold": -0.6}],
    ),
    {
        "topic": "handoff.requests",
        "value": {
            "handoff_id": "h-2",
            "conversation_id": "c-2",
            "created_at": DAY + "10:01:00Z",
            "routing": {"queue": "billing", "sla_seconds": 60},
        },
    },
    event("h-2", "queued", "10:01:05", queue="billing"),
    event("h-2", "accepted", "10:01:35"),
    event("h-2", "resolved", "10:11:35"),
    event("h-2", "csat", "10:12:00", csat=5),
    # c-3: u-1 again, 30 minutes after c-1: contained.
    turn("c-3", 0, "10:30:00", "u-1"),
    decision("c-3", 0, "10:30:00"),
    # c-4: escalated, answered after 120 s (past the 60 s default SLA), handed back, CSAT 2.
    turn("c-4", 0, "10:00:00", "u-4"),
    decision(
        "c-4", 0, "10:00:00", "escalate", handoff="h-4",
        triggers=[{"code": SENT, "value": -0.65, "threshold": -0.6}],
    ),
    event("h-4", "queued", "10:00:10", queue="general"),
    event("h-4", "accepted", "10:02:10"),
    event("h-4", "handed_back", "10:04:10"),
    event("h-4", "csat", "10:05:00", csat=2),
    # c-5: escalated on an explicit request; the customer abandoned the queue.
    turn("c-5", 0, "10:00:00", "u-5"),
    decision(
        "c-5", 0, "10:00:00", "escalate", handoff="h-5",
        triggers=[{"code": "human_request", "value": True}],
    ),
    event("h-5", "queued", "10:00:00", queue="payments"),
    event("h-5", "abandoned", "10:03:00"),
    # labels from learning.examples
    {"example_id": "x-2", "conversation_id": "c-2", "decision_id": "d-c-2-1",
     "handoff_id": "h-2", "label": "escalation_needed", "features": {}},
    {"example_id": "x-4", "conversation_id": "c-4", "decision_id": "d-c-4-0",
     "handoff_id": "h-4", "label": "escalation_avoidable", "features": {}},
]  # fmt: skip


def lines() -> list[bytes]:
    return [orjson.dumps(r) for r in RECORDS]


def test_kpis_match_the_hand_computed_values() -> None:
    found = kpis(read_streams(lines()))
    assert found == {
        "conversations": 5,
        "escalated": 3,
        "escalation_rate": 0.6,
        "containment_rate": 0.4,
        "deflection_quality": 0.5,  # c-1 came back within 24 h, c-3 did not
        "right_channel_rate": 0.5,  # h-2 resolved in billing; h-4 handed back
        "first_contact_resolution": 0.4,  # c-2 and c-3
        "average_speed_of_answer_seconds": 75.0,  # (30 + 120) / 2
        "handle_time_seconds": 600.0,
        "csat": 3.5,
        "csat_responses": 2,
        "customer_effort_turns": 1.4,  # (2 + 2 + 1 + 1 + 1) / 5
        "customer_effort_repeats": 0.2,
        "service_level": round(1 / 3, 4),  # h-2 within 60 s; h-4 late; h-5 abandoned
    }


def test_trigger_performance_joins_labels() -> None:
    streams = read_streams(lines())
    rows = {r["trigger"]: r for r in build_report(streams)["triggers"]}
    assert rows[SENT]["escalations"] == 2 and rows[SENT]["labelled"] == 2
    assert rows[SENT]["needed_share"] == 0.5 and rows[SENT]["avoidable_share"] == 0.5
    assert rows["human_request"]["labelled"] == 0 and rows["human_request"]["needed_share"] is None


def test_recommended_threshold_is_the_least_extreme_cut_at_the_target_precision() -> None:
    hits = [(0.9, True), (0.85, True), (0.8, True), (0.75, True), (0.7, False), (0.65, True),
            (0.6, False), (0.55, False)]  # fmt: skip
    assert recommend_threshold(hits, target=0.8, high_fires=True) == 0.65
    assert recommend_threshold(hits, target=0.95, high_fires=True) is None  # support < 5
    low = [(-v, y) for v, y in hits]  # sentiment fires at or below its threshold
    assert recommend_threshold(low, target=0.8, high_fires=False) == -0.65


def test_deflection_candidates_are_intents_escalated_and_resolved_quickly_the_same_way() -> None:
    decisions = [
        decision(f"c-{i}", 0, "10:00:00", "escalate", handoff=f"h-{i}", intent="order_status")
        for i in range(5)
    ] + [decision("c-9", 0, "10:00:00", "escalate", handoff="h-9", intent="refund")]
    examples = [
        {"example_id": f"x{i}", "conversation_id": f"c-{i}", "decision_id": f"d-c-{i}-0",
         "label": "escalation_avoidable" if i < 4 else "escalation_needed"}
        for i in (*range(5), 9)
    ]  # fmt: skip
    reasons = {"h-0": "faq", "h-1": "faq", "h-2": "faq", "h-3": "refund_issued"}
    found = deflection_candidates(join_labels(decisions, examples), reasons)
    assert found == [
        {
            "intent": "order_status",
            "escalations": 5,
            "avoidable_share": 0.8,
            "usual_resolution": "faq",
            "usual_resolution_share": 0.75,
        }
    ]
    assert trigger_performance(join_labels(decisions, examples)) == []


def test_the_cli_reads_a_dump_and_rejects_unknown_lines(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    dump = tmp_path / "dump.jsonl"
    dump.write_bytes(b"\n".join(lines()) + b"\n")
    assert main(["report", str(dump), "--json"]) == 0
    assert orjson.loads(capsys.readouterr().out)["kpis"]["escalation_rate"] == 0.6
    assert main(["report", str(dump)]) == 0
    assert "escalation_rate" in capsys.readouterr().out
    with pytest.raises(WarmhandoffError):
        read_streams([b'{"hello": 1}'])
    assert main(["report", str(dump), "--from-topics"]) == 2
    assert "not both" in capsys.readouterr().err


def test_replay_output_is_read_and_joins_labels_by_decision_id() -> None:
    replayed = [
        {"conversation_id": "c-9", "seq": 0, "action": "none", "triggers": [],
         "signals": {"role": "customer", "repeat_count": 0}},
        {"conversation_id": "c-9", "seq": 1, "action": "escalate", "triggers": ["human_request"],
         "handoff_id": "h-9", "signals": {"role": "customer", "repeat_count": 1}},
        {"conversation_id": "c-9", "seq": 1, "action": "none", "reason": "replayed_seq"},
        {"conversation_id": None, "seq": None, "action": "rejected", "reason": "line 4: not_json"},
        {"example_id": "x-9", "conversation_id": "c-9", "decision_id": decision_id("c-9", 1),
         "label": "escalation_needed"},
    ]  # fmt: skip
    streams = read_streams(orjson.dumps(r) for r in replayed)
    assert streams.replayed == 2 and len(streams.examples) == 1
    assert streams.skipped == {
        "replay lines of turns replayed twice": 1,
        "replay lines of rejected input": 1,
    }
    report = build_report(streams)
    assert report["kpis"]["escalation_rate"] == 1.0
    assert report["kpis"]["customer_effort_turns"] == 2.0
    assert report["kpis"]["average_speed_of_answer_seconds"] is None
    assert report["missing"]["average_speed_of_answer_seconds"] == "handoff events: accepted"
    [row] = report["triggers"]
    assert row["trigger"] == "human_request" and row["labelled"] == 1
    assert row["needed_share"] == 1.0


def test_a_dump_with_no_decision_is_refused_with_what_it_held() -> None:
    with pytest.raises(WarmhandoffError, match=r"read 2 lines and no decision \(2 turns\)"):
        read_streams(orjson.dumps(turn("c-1", n, "10:00:00", "u-1")) for n in range(2))
    with pytest.raises(WarmhandoffError, match="3 not JSON, 1 not a JSON object"):
        read_streams([b"{", b"[1]", b"nope", b"{x"])


def replied_handoff(
    n: int, at: str, end: str, *, macro: str | None = None, text: str | None = None
) -> list[dict[str, Any]]:
    """A payments handoff h-n of customer u-n: the escalating decision, the first reply, the end."""
    escalating = decision(
        f"c-{n}", 0, at, "escalate", handoff=f"h-{n}", triggers=[{"code": "risk.payments"}]
    )
    escalating["signals"]["customer_id"] = f"u-{n}"
    reply: dict[str, Any] = {"macro_id": macro} if macro else {"reply": text}
    hid = f"h-{n}"
    return [escalating, event(hid, "replied", at, **reply), event(hid, end, at)]


def test_the_report_lists_the_best_and_worst_first_replies_per_topic() -> None:
    records: list[dict[str, Any]] = []
    for n in range(3):  # payment_review: resolved, CSAT 5
        records += replied_handoff(20 + n, "11:00:00", "resolved", macro="payment_review")
        records.append(event(f"h-{20 + n}", "csat", "11:30:00", csat=5))
    for n in range(2):  # a typed reply with a card number in it: resolved, CSAT 2
        records += replied_handoff(30 + n, "11:00:00", "resolved", text=f"Card {CARD} noted.")
        records.append(event(f"h-{30 + n}", "csat", "11:30:00", csat=2))
    records += replied_handoff(40, "11:00:00", "handed_back", macro="bot_can_do_it")
    # Resolved, but the customer writes again in another conversation an hour later.
    records += replied_handoff(50, "11:00:00", "resolved", macro="quick_fix")
    comeback = decision("c-51", 0, "12:00:00")
    comeback["signals"]["customer_id"] = "u-50"
    records.append(comeback)
    records += replied_handoff(60, "11:00:00", "cancelled", macro="never_counted")

    report = build_report(read_streams(orjson.dumps(r) for r in records))
    rows = report["suggested_replies"]
    shown = [(r["topic"], r["rank"], r["reply"], r["uses"]) for r in rows]
    assert shown == [
        ("payments", "best", "payment_review", 3),  # (3 + 1) / (3 + 2) = 0.8
        ("payments", "best", "bot_can_do_it", 1),  # (0 + 1) / (1 + 2), ahead of quick_fix
        ("payments", "best", "quick_fix", 1),  # by key
        ("payments", "worst", "Card [CARD] noted.", 2),  # (0 + 1) / (2 + 2) = 0.25
    ]
    best, _, came_back, worst = rows
    assert (best["resolved_without_return"], best["csat"], best["score"]) == (1.0, 5.0, 0.8)
    assert came_back["resolved_without_return"] == 0.0 and came_back["csat"] is None
    assert (worst["resolved_without_return"], worst["csat"], worst["score"]) == (1.0, 2.0, 0.25)
    text = render(report)
    assert "suggested_replies" in text and "reply=payment_review" in text
    assert "4111" not in text
