"""`warmhandoff sink KIND`: a missing or bad setting is a one-line error before any connection."""

from __future__ import annotations

import pytest

from warmhandoff.streams.cli import main


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["sink", "file"], "the file sink needs --path or WARMHANDOFF_SINK_FILE_PATH"),
        (["sink", "webhook", "--secret", "s"], "the webhook sink needs --url"),
        (["sink", "webhook", "--url", "https://crm.example.com/h"], "needs --secret"),
        (
            ["sink", "webhook", "--url", "http://crm.example.com/h", "--secret", "s"],
            "webhook URL must use https",
        ),
        (["sink", "salesforce"], "WARMHANDOFF_SINK_SALESFORCE_CLIENT_ID"),
    ],
)
def test_missing_sink_settings_are_one_line_errors(
    argv: list[str],
    message: str,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for name in ("URL", "SECRET"):
        monkeypatch.delenv(f"WARMHANDOFF_SINK_WEBHOOK_{name}", raising=False)
    monkeypatch.delenv("WARMHANDOFF_SINK_FILE_PATH", raising=False)
    monkeypatch.delenv("WARMHANDOFF_SINK_SALESFORCE_CLIENT_ID", raising=False)
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.startswith("warmhandoff: error: ") and message in err
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err


def test_a_sink_kind_is_required_and_checked(capsys: pytest.CaptureFixture[str]) -> None:
    for argv in (["sink"], ["sink", "zendesk"]):
        assert main(argv) == 2
        err = capsys.readouterr().err
        assert len(err.splitlines()) == 1 and "(see: warmhandoff sink --help)" in err
    assert main(["sink", "zendesk"]) == 2
    assert "webhook" in capsys.readouterr().err
