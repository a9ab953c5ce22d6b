"""The `warmhandoff` command: replay, policy check, and one-line errors without tracebacks."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import orjson
import pytest

from warmhandoff.streams.cli import main

TURNS = [
    {
        "conversation_id": "c-1",
        "seq": 0,
        "ts": "2026-11-25T16:00:00Z",
        "role": "customer",
        "text": "hi, I think someone used my card without permission",
        "locale": "en-US",
    },
    {
        "conversation_id": "c-2",
        "seq": 0,
        "ts": "2026-11-25T16:00:01Z",
        "role": "customer",
        "text": "what are your opening hours?",
        "locale": "en-US",
    },
    {
        "conversation_id": "c-2",
        "seq": 1,
        "ts": "2026-11-25T16:00:05Z",
        "role": "customer",
        "text": "Quiero hablar con una persona, por favor",
        "locale": "en-US",
    },
    {
        "conversation_id": "c-2",
        "seq": 1,
        "ts": "2026-11-25T16:00:05Z",
        "role": "customer",
        "text": "Quiero hablar con una persona, por favor",
        "locale": "en-US",
    },
]


def write_turns(path: Path, extra: list[bytes] = ()) -> Path:  # type: ignore[assignment]
    path.write_bytes(b"".join(orjson.dumps(t) + b"\n" for t in TURNS) + b"".join(extra))
    return path


def replay_lines(capsys: pytest.CaptureFixture[str], *args: str) -> list[dict[str, object]]:
    assert main(["replay", *args]) == 0
    return [orjson.loads(line) for line in capsys.readouterr().out.splitlines()]


def test_replay_writes_one_line_per_turn_in_input_order(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    source = write_turns(tmp_path / "turns.jsonl", [b"{broken\n"])
    lines = replay_lines(capsys, str(source))
    assert len(lines) == len(TURNS) + 1
    assert [(line["conversation_id"], line["seq"]) for line in lines[:4]] == [
        ("c-1", 0),
        ("c-2", 0),
        ("c-2", 1),
        ("c-2", 1),
    ]
    fraud, hours, human, again, broken = lines
    assert fraud["action"] in ("gather", "escalate")
    assert "risk.fraud" in fraud["triggers"]  # type: ignore[operator]
    assert fraud["signals"]["risk"] == ["fraud"]  # type: ignore[index]
    assert hours["action"] == "none" and hours["triggers"] == []
    signals = hours["signals"]
    assert isinstance(signals, dict) and -1.0 <= signals["sentiment"] <= 1.0
    assert human["action"] == "escalate" and "human_request" in human["triggers"]  # type: ignore[operator]
    assert human["signals"]["language"] == "es"  # type: ignore[index]
    assert again["action"] == "none" and again["reason"] == "replayed_seq"
    assert broken["action"] == "rejected" and "line 5: not_json" in str(broken["reason"])


def test_replay_is_deterministic_and_reads_stdin(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    source = write_turns(tmp_path / "turns.jsonl")
    first = replay_lines(capsys, str(source))
    piped = subprocess.run(
        [sys.executable, "-m", "warmhandoff.streams.cli", "replay", "-"],
        input=source.read_bytes(),
        capture_output=True,
        check=True,
        timeout=60,
    )
    assert [orjson.loads(line) for line in piped.stdout.splitlines()] == first


def test_replay_with_a_custom_policy(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    default = Path(__file__).resolve().parents[2] / "streams" / "policy" / "default.yaml"
    custom = tmp_path / "policy.yaml"
    custom.write_text(
        default.read_text().replace(
            "  human_request:\n    enabled: true", "  human_request:\n    enabled: false", 1
        )
    )
    source = write_turns(tmp_path / "turns.jsonl")
    lines = replay_lines(capsys, str(source), "--policy", str(custom))
    assert "human_request" not in lines[2]["triggers"]  # type: ignore[operator]


def test_policy_check_reports_ok_and_precise_errors(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    default = Path(__file__).resolve().parents[2] / "streams" / "policy" / "default.yaml"
    assert main(["policy", "check", str(default)]) == 0
    assert "ok" in capsys.readouterr().out
    bad = tmp_path / "bad.yaml"
    bad.write_text(default.read_text().replace("threshold: -0.6", "threshold: 3", 1))
    assert main(["policy", "check", str(bad)]) == 1
    err = capsys.readouterr().err
    assert "bad.yaml: triggers.negative_sentiment.threshold" in err
    assert "Traceback" not in err


def test_user_errors_are_one_line_without_traceback(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    assert main(["replay", str(tmp_path / "missing.jsonl")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("warmhandoff: error:") and "Traceback" not in err
    monkeypatch.setenv("WARMHANDOFF_TOPIC_PREFIX", "not a prefix")
    assert main(["topics", "check"]) == 2
    err = capsys.readouterr().err
    assert "WARMHANDOFF_TOPIC_PREFIX" in err and "Traceback" not in err
    monkeypatch.delenv("WARMHANDOFF_TOPIC_PREFIX")
    monkeypatch.setenv("WARMHANDOFF_WEB_PORT", "not-a-port")
    assert main(["worker"]) == 2
    err = capsys.readouterr().err
    assert "WARMHANDOFF_WEB_PORT" in err and "Traceback" not in err
    monkeypatch.delenv("WARMHANDOFF_WEB_PORT")
    # No broker: the worker refuses with a one-line reason.
    monkeypatch.setenv("WARMHANDOFF_BOOTSTRAP_SERVERS", "127.0.0.1:1")
    assert main(["worker"]) == 2
    assert "no Kafka broker answers at 127.0.0.1:1" in capsys.readouterr().err


def test_every_command_has_help(capsys: pytest.CaptureFixture[str]) -> None:
    for command in (["demo"], ["broker"], ["topics"], ["worker"], ["replay"], ["policy", "check"]):
        with pytest.raises(SystemExit) as exit_info:
            main([*command, "--help"])
        assert exit_info.value.code == 0
        assert "usage: warmhandoff" in capsys.readouterr().out
