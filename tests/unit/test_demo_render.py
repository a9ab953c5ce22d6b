"""The demo's own parts with plain values and no broker: the tally, the summary table, the
sample handoff, the progress lines and the working folder with its log."""

from __future__ import annotations

import io
import json
import logging
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
import structlog
from rich.console import Console, RenderableType

from warmhandoff.streams.contract.models import HandoffRequest
from warmhandoff.streams.lab.demo.progress import Progress
from warmhandoff.streams.lab.demo.render import (
    TRANSCRIPT_LINES,
    handoff_json,
    sample_section,
    short_handoff,
    summary_table,
    trigger_text,
)
from warmhandoff.streams.lab.demo.tally import (
    PROBE_CONVERSATION,
    DemoSummary,
    DeskReport,
    Tally,
    sample_handoff,
    summarise,
)
from warmhandoff.streams.lab.demo.workspace import Workspace


def text_of(renderable: RenderableType, *, width: int = 120, soft_wrap: bool = False) -> str:
    """What a console without a terminal (a pipe, CI) shows."""
    out = io.StringIO()
    Console(file=out, width=width, color_system=None, force_terminal=False).print(
        renderable, soft_wrap=soft_wrap
    )
    return out.getvalue()


@pytest.fixture
def handoff() -> dict[str, Any]:
    """A handoff request as the worker publishes it (checked against the contract)."""
    lines = [
        ("customer", "I want to cancel my subscription."),
        ("bot", "Our current plans are listed on the pricing page."),
        ("customer", "That is not what I asked."),
        ("bot", "I can help with pricing questions."),
        ("customer", "My account number is AC-203773. " + "Please hurry. " * 20),
    ]
    request = {
        "handoff_id": "22b24620-af2d-5251-ade0-f0513abbb17e",
        "conversation_id": "d7-83",
        "escalation_number": 1,
        "decision_id": "366ce2f1-0464-5ea2-801e-b2fca542bcba",
        "created_at": "2026-12-07T04:15:17.161792Z",
        "turn_ts": "2026-12-07T04:15:17.044505Z",
        "first_unmet_need_at": "2026-12-07T04:15:15.984876Z",
        "channel": "chat",
        "triggers": [
            {"code": "risk.cancellation", "value": True},
            {"code": "churn_risk", "value": 0.91, "threshold": 0.7},
            {
                "code": "revenue_opportunity",
                "value": ["purchase", "retention"],
                "threshold": ["purchase", "upgrade", "retention"],
            },
        ],
        "routing": {
            "queue": "retention",
            "skills": ["retention"],
            "language": "en",
            "channel": "chat",
            "priority": 1,
            "sla_seconds": 20,
            "sla_target": 0.8,
            "sla_deadline": "2026-12-07T04:15:35.984876Z",
        },
        "policy_version": "2026-11-25.1",
        "bundle": {
            "transcript": [
                {"seq": i, "ts": "2026-12-07T04:15:16Z", "role": role, "text": text}
                for i, (role, text) in enumerate(lines)
            ],
            "entities": {"account_id": ["AC-203773"]},
            "identity": {"customer_id": "u-7709", "verified": False},
            "steps_tried": [],
            "summary": {
                "wants": "to cancel the subscription",
                "tried": "no bot actions",
                "why": "a cancellation; churn risk (0.91, threshold 0.7)",
                "text": "Customer wants: to cancel. Bot tried: no bot actions.",
            },
            "next_steps": [
                "Ask what prompted the request before presenting offers.",
                "Verify the customer's identity before account changes.",
            ],
            "missing_fields": ["email"],
        },
    }
    return HandoffRequest.model_validate(request).model_dump(mode="json", exclude_none=True)


def summary(**changes: Any) -> DemoSummary:
    values: dict[str, Any] = {
        "seconds": 16.4,
        "conversations": 100,
        "needing_human": 20,
        "turns": 327,
        "actions": [("none", 290), ("escalate", 20), ("gather", 5), ("owned", 11), ("clarify", 1)],
        "handoffs": 20,
        "escalated": 20,
        "expected_and_got": 20,
        "missed": 0,
        "unexpected": 0,
        "by_trigger": [("human_request", 5), ("negative_sentiment", 3)],
        "by_queue": [("multilingual", 5), ("general", 5)],
        "desk": DeskReport(received=20, routed=14, resolved=11, handed_back=9),
        "waits_told": 0,
        "paused": 14,
        "resumed": 20,
        "deadletters": 0,
        "latency_p50_ms": 101.2,
        "latency_p99_ms": 424.0,
    }
    values.update(changes)
    return DemoSummary(**values)


def test_the_summary_table_shows_the_figures_a_newcomer_reads() -> None:
    text = text_of(summary_table(summary()))
    assert "100 conversations in 16 s" in text
    assert "100 (20 scripted to need a human)" in text
    assert "bot carries on 290" in text and "hand to a human 20" in text
    assert "20 (20% of conversations)" in text
    assert "20 expected, 0 missed, 0 unexpected" in text
    assert "human_request 5, negative_sentiment 3" in text
    assert "multilingual 5, general 5" in text
    assert "14 of 20" in text
    assert "9: 3 by their agent, 6 not routed" in text
    assert "14 paused for a human, 20 resumed" in text
    assert "p50 101 ms, p99 424 ms" in text
    assert "{" not in text  # no raw dict
    assert "wait updates" not in text  # a zero nobody can read is left out


def test_the_summary_table_copes_with_a_run_without_handoffs() -> None:
    empty = summary(
        handoffs=0,
        escalated=0,
        expected_and_got=0,
        missed=20,
        by_trigger=[],
        by_queue=[],
        desk=DeskReport(received=0, routed=0, resolved=0, handed_back=0),
        waits_told=3,
        latency_p50_ms=None,
        latency_p99_ms=None,
    )
    text = text_of(summary_table(empty))
    assert "0 expected, 20 missed" in text
    assert "no handoff to measure" in text
    assert "3 told a customer their place in line" in text


def test_the_short_handoff_shows_what_the_desk_reads_first(handoff: dict[str, Any]) -> None:
    told = "Thanks for waiting: you are 2nd in line. The wait is about 1 minute."
    text = text_of(short_handoff(handoff, told))
    assert "sample handoff: conversation d7-83" in text
    assert "retention, priority 1, answer within 20 s for 80% of customers" in text
    assert (
        "risk.cancellation, churn_risk 0.91 (threshold 0.7), revenue_opportunity purchase, "
        "retention" in text
    )
    assert "to cancel the subscription" in text and "no bot actions" in text
    assert "1. Ask what prompted" in text and "2. Verify the customer's identity" in text
    assert "email" in text  # still missing
    assert "you are 2nd in line" in text
    # the last lines of the transcript only, the longest one cut
    assert "I want to cancel my subscription." not in text
    assert "That is not what I asked." in text
    assert f"(last {TRANSCRIPT_LINES} of 5 lines)" in text
    assert "…" in text
    # not the whole record
    assert "handoff_id" not in text and "sla_deadline" not in text


def test_the_full_handoff_is_the_whole_json(handoff: dict[str, Any]) -> None:
    text = text_of(sample_section(handoff, None, full=True), width=60, soft_wrap=True)
    assert text.startswith("sample handoff:\n")
    assert json.loads(text.removeprefix("sample handoff:\n")) == handoff
    assert json.loads(handoff_json(handoff)) == handoff


def test_a_run_without_handoffs_says_so() -> None:
    assert "no handoff" in text_of(sample_section(None, None, full=False))


@pytest.mark.parametrize(
    ("hit", "shown"),
    [
        ({"code": "vip", "value": True}, "vip"),
        (
            {"code": "churn_risk", "value": 0.91, "threshold": 0.7},
            "churn_risk 0.91 (threshold 0.7)",
        ),
        ({"code": "language_mismatch", "value": "fr", "threshold": None}, "language_mismatch fr"),
        ({"code": "revenue", "value": ["purchase"], "threshold": ["purchase"]}, "revenue purchase"),
        (
            {"code": "repeated_fallback", "value": 3, "threshold": 2},
            "repeated_fallback 3 (threshold 2)",
        ),
    ],
)
def test_a_trigger_hit_in_a_few_words(hit: dict[str, Any], shown: str) -> None:
    assert trigger_text(hit) == shown


def test_the_tally_counts_each_decision_and_handoff_once(handoff: dict[str, Any]) -> None:
    tally = Tally()
    decision = {"decision_id": "a", "conversation_id": "c1", "action": "none"}
    tally.add("decision", {"decision_id": "p", "conversation_id": PROBE_CONVERSATION}, 0)
    tally.add("decision", decision, 0)
    tally.add("decision", decision, 0)  # redelivered
    tally.add("decision", {**decision, "decision_id": "b", "action": "escalate"}, 0)
    turn_ms = datetime.fromisoformat(handoff["turn_ts"]).timestamp() * 1000
    tally.add("handoff", handoff, int(turn_ms + 120))
    tally.add("handoff", handoff, int(turn_ms + 900))  # re-published: a retry
    hid = handoff["handoff_id"]
    tally.add("directive", {"type": "status", "handoff_id": hid, "message": "connecting"}, 0)
    tally.add(
        "directive",
        {"type": "status", "handoff_id": hid, "message": "you are next", "position": 1},
        0,
    )
    tally.add("directive", {"type": "pause", "handoff_id": hid, "message": ""}, 0)
    tally.add("deadletter", {}, 0)
    assert tally.probe_decided
    assert tally.decisions == 2 and tally.actions == {"none": 1, "escalate": 1}
    assert list(tally.handoffs) == [hid]
    assert tally.latencies_ms == [pytest.approx(120, abs=1)]
    assert tally.told[hid] == "you are next" and tally.waits_told == 1
    assert tally.deadletters == 1
    assert sample_handoff(tally) == handoff

    s = summarise(
        tally,
        conversations=3,
        needing_human={"d7-83", "d7-90"},
        desk=DeskReport(received=1, routed=1, resolved=1, handed_back=0),
        seconds=12.0,
    )
    assert (s.handoffs, s.escalated, s.expected_and_got, s.missed, s.unexpected) == (1, 1, 1, 1, 0)
    assert s.by_queue == [("retention", 1)]
    assert [code for code, _ in s.by_trigger] == [
        "risk.cancellation",
        "churn_risk",
        "revenue_opportunity",
    ]
    assert s.paused == 1 and s.resumed == 0 and s.deadletters == 1
    assert s.latency_p50_ms == pytest.approx(120, abs=1)


def test_progress_without_a_terminal_prints_plain_lines_and_says_what_it_waits_on() -> None:
    out = io.StringIO()
    now = [100.0]
    count = [0]
    progress = Progress(
        Console(file=out, width=80, force_terminal=False), clock=lambda: now[0], plain_every=2.0
    )
    assert not progress.live
    with progress:
        progress.step(
            "waiting for the consumer groups to form",
            waiting_on="worker: joining the consumer group",
            slow_after=10,
            counts=lambda: f"decided {count[0]}",
        )
        progress.tick()
        for t, n in ((101.0, 1), (102.5, 2), (103.0, 2), (110.5, 3)):
            now[0], count[0] = t, n
            progress.tick()
        progress.done("worker ready")
    assert out.getvalue().splitlines() == [
        "[demo] waiting for the consumer groups to form …",
        "[demo]   decided 0",
        "[demo]   decided 2",
        "[demo]   decided 3",
        "[demo]   still waiting after 10 s on worker: joining the consumer group",
        "[demo] worker ready",
    ]


def test_the_workspace_logs_to_its_file_and_keeps_it_only_on_failure(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    alerts: list[str] = []
    workspace = Workspace("abc123", parent=tmp_path)
    with workspace.logging(alerts.append):
        structlog.get_logger("warmhandoff.streams.lab.demo.run").info("demo.step", n=1)
        logging.getLogger("aiokafka").error("Unable to update metadata\nsecond line")
        logging.getLogger("aiokafka").info("chatter held back by the noisy-logger level")
    captured = capsys.readouterr()
    assert captured.out == "" and captured.err == ""
    logged = [json.loads(line) for line in workspace.log_path.read_text().splitlines()]
    assert [r["event"] for r in logged] == ["demo.step", "Unable to update metadata\nsecond line"]
    assert len(alerts) == 1 and "Unable to update metadata" in alerts[0]
    assert "\n" not in alerts[0]

    assert workspace.close(keep_log=False) is None
    assert list(tmp_path.iterdir()) == []

    failed = Workspace("def456", parent=tmp_path)
    (failed.root / "tansu.log").write_text("broker said something\n")
    kept = failed.close(keep_log=True, extra_logs=(failed.root / "tansu.log",))
    assert kept == tmp_path / "warmhandoff-demo-def456.log"
    assert list(tmp_path.iterdir()) == [kept]
    assert "broker said something" in kept.read_text()
