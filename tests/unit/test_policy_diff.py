"""`warmhandoff policy diff`: the conversations a policy change would change, and how."""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest

from warmhandoff.streams.cli import main
from warmhandoff.streams.offline.policy_diff import Outcome, change_kind, diff, read_labels
from warmhandoff.streams.policy import load_policy

DEFAULT = Path(__file__).resolve().parents[2] / "streams" / "policy" / "default.yaml"
ANGRY = "This is the worst experience ever, absolutely awful, I am furious."


def turn(cid: str, seq: int, text: str) -> bytes:
    return orjson.dumps(
        {
            "conversation_id": cid,
            "seq": seq,
            "ts": f"2026-11-25T16:00:{10 * seq + int(cid[-1]):02d}Z",
            "role": "customer",
            "text": text,
            "locale": "en-US",
        }
    )


TURNS = [
    turn("c-1", 0, ANGRY),
    turn("c-2", 0, "What time do you open on Saturday?"),
    turn("c-3", 0, "I want to talk to a real person please"),
]


@pytest.fixture
def lenient(tmp_path: Path) -> Path:
    """The default policy with negative sentiment switched off."""
    text = DEFAULT.read_text()
    text = text.replace("  negative_sentiment:\n", "  negative_sentiment:\n    enabled: false\n", 1)
    path = tmp_path / "lenient.yaml"
    path.write_text(text.replace('version: "', 'version: "lenient-', 1))
    return path


def test_the_changed_conversation_and_how_with_precision_and_recall(lenient: Path) -> None:
    labels = {"c-1": False, "c-2": False, "c-3": True}
    report = diff(TURNS, load_policy(DEFAULT), load_policy(lenient), labels)
    assert report["conversations"] == 3
    assert report["escalated"] == {"old": 2, "new": 1}
    assert report["changes"] == {"no_longer_escalated": 1}
    [row] = report["conversations_changed"]
    assert row["conversation_id"] == "c-1" and row["needs_human"] is False
    assert row["old"]["triggers"] == ["negative_sentiment"] and row["new"] == {"escalated": False}
    assert report["old_quality"]["precision"] == 0.5 and report["old_quality"]["recall"] == 1.0
    assert report["new_quality"]["precision"] == 1.0 and report["new_quality"]["recall"] == 1.0


def test_the_same_policy_changes_nothing() -> None:
    report = diff(TURNS, load_policy(DEFAULT), load_policy(DEFAULT))
    assert report["changed"] == 0 and report["conversations_changed"] == []


def test_change_kinds() -> None:
    esc = Outcome(escalated_at=2, queue="general", priority=2, triggers=("frustration",))
    assert change_kind(Outcome(), esc) == "newly_escalated"
    assert change_kind(esc, Outcome()) == "no_longer_escalated"
    assert change_kind(esc, Outcome(1, "general", 2, ("frustration",))) == "earlier"
    assert change_kind(esc, Outcome(2, "billing", 2, ("frustration",))) == "requeued"
    assert change_kind(esc, Outcome(2, "general", 1, ("frustration",))) == "reprioritised"
    assert change_kind(esc, esc) is None


def test_labels_come_from_learning_examples_or_needs_human() -> None:
    lines = [
        b'{"conversation_id": "a", "label": "escalation_avoidable"}',
        b'{"conversation_id": "b", "label": "bad_containment"}',
        b'{"conversation_id": "c", "needs_human": true}',
    ]
    assert read_labels(lines) == {"a": False, "b": True, "c": True}


def test_the_cli_prints_json_and_rejects_bad_labels(
    lenient: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    turns = tmp_path / "turns.jsonl"
    turns.write_bytes(b"\n".join(TURNS) + b"\n")
    args = ["policy", "diff", str(DEFAULT), str(lenient), "--on", str(turns), "--json"]
    assert main(args) == 0
    assert orjson.loads(capsys.readouterr().out)["changes"] == {"no_longer_escalated": 1}
    bad = tmp_path / "labels.jsonl"
    bad.write_bytes(b'{"conversation_id": "c-1", "label": "great"}\n')
    assert main([*args, "--labels", str(bad)]) == 2
    assert "labels line 1" in capsys.readouterr().err
