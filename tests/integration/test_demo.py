"""`warmhandoff demo`, the first command a newcomer runs, end to end on the embedded broker.

Each run gets a temp folder of its own (TMPDIR) that must be empty afterwards: the demo's
working folder, the broker's and the processes' files are gone, whether it finished, was
stopped by SIGTERM, or failed (then only its log is left, named in the error line).
"""

from __future__ import annotations

import http.cookiejar
import json
import os
import re
import signal
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from pathlib import Path

import pytest

from warmhandoff.streams.runtime.broker import free_port

pytestmark = [pytest.mark.integration, pytest.mark.timeout(300)]

DEMO = [sys.executable, "-m", "warmhandoff.streams.cli", "demo"]


def demo_env(tmp: Path, **extra: str) -> dict[str, str]:
    """The user's environment on an embedded broker of its own, with `tmp` as the temp dir."""
    env = {k: v for k, v in os.environ.items() if k != "WARMHANDOFF_BOOTSTRAP_SERVERS"}
    return {**env, "TMPDIR": str(tmp), **extra}


def processes_using(path: Path) -> list[int]:
    """Processes whose environment names `path` (the demo's children inherit its TMPDIR)."""
    found = []
    for proc in Path("/proc").glob("[0-9]*"):
        try:
            if str(path).encode() in (proc / "environ").read_bytes():
                found.append(int(proc.name))
        except OSError:
            continue  # gone meanwhile, or not ours to read
    return found


def test_the_demo_prints_a_summary_and_a_short_handoff_and_leaves_nothing(
    tmp_path: Path,
) -> None:
    done = subprocess.run(
        [*DEMO, "--conversations", "100"],
        capture_output=True,
        env=demo_env(tmp_path),
        timeout=280,
        check=False,
    )
    out, err = done.stdout.decode(), done.stderr.decode()
    assert done.returncode == 0, out[-3000:] + err[-3000:]

    # stdout: the summary table and one shortened handoff, nothing else
    assert "warmhandoff demo: 100 conversations in" in out
    assert "0 missed, 0 unexpected" in out
    routed = re.search(r"routed to an agent\W+(\d+) of (\d+)", out)
    assert routed is not None and int(routed[1]) > 0, out  # the live router offered handoffs
    assert re.search(r"paused for a human, [1-9]\d* resumed", out), out
    assert "sample handoff: conversation" in out
    for field in ("queue", "triggers", "transcript", "next steps", "customer told"):
        assert re.search(rf"│ {field}\s", out), field
    assert '"handoff_id"' not in out  # shortened, not the whole JSON
    assert "{'" not in out  # no raw dict
    assert not re.search(r"\[(info|warning|error)\s*\]|^\s*\{\"", out, re.MULTILINE), out
    assert "bot_client." not in out and "broker.st" not in out

    # stderr (not a terminal here): where the log is, then plain progress lines
    assert "\x1b" not in out + err
    lines = err.splitlines()
    assert lines[0].startswith("[demo] log file: ") and str(tmp_path) in lines[0]
    assert "[demo] waiting for the consumer groups to form …" in lines
    assert any(line.startswith("[demo]   turns published") for line in lines)
    assert all(line.startswith("[demo] ") for line in lines), err

    assert list(tmp_path.iterdir()) == []
    assert processes_using(tmp_path) == []


def test_sigterm_stops_everything_and_removes_the_demo_s_files(tmp_path: Path) -> None:
    proc = subprocess.Popen(
        [*DEMO, "--conversations", "300", "--rate", "100"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=demo_env(tmp_path),
    )
    assert proc.stderr is not None
    seen = []
    for raw in proc.stderr:
        seen.append(raw.decode())
        if "publishing the simulated conversations" in seen[-1]:
            break
    proc.send_signal(signal.SIGTERM)
    out, err = proc.communicate(timeout=90)
    text = "".join(seen) + err.decode()
    assert proc.returncode == 130, text
    assert "interrupted" in text
    assert "warmhandoff demo:" not in out.decode()  # no summary of a run cut short
    assert list(tmp_path.iterdir()) == []
    assert processes_using(tmp_path) == []


def test_a_failed_demo_keeps_its_log_and_names_it(tmp_path: Path) -> None:
    # run_demo itself, not the CLI: the CLI may refuse a missing policy before the demo starts
    missing = tmp_path / "policy" / "missing.yaml"
    code = (
        "from warmhandoff.streams.lab.demo.run import run_demo\n"
        "try:\n"
        "    run_demo(conversations=5, rate=100.0, seed=1)\n"
        "except Exception as exc:\n"
        "    print(type(exc).__name__, exc)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        env=demo_env(tmp_path, WARMHANDOFF_POLICY_FILE=str(missing)),
        timeout=120,
        check=False,
    )
    out, err = done.stdout.decode(), done.stderr.decode()
    error = out.strip()
    assert error.startswith("WarmhandoffError ") and "missing.yaml" in error, out + err
    assert "\n" not in error  # one line
    kept = re.search(r"\(log: (\S+)\)$", error)
    assert kept is not None, error
    log = Path(kept[1])
    assert log.parent == tmp_path and log.name.startswith("warmhandoff-demo-")
    assert "demo.failed" in log.read_text()  # the traceback is in the log, not on screen
    assert "Traceback" not in err
    assert sorted(p.name for p in tmp_path.iterdir()) == [log.name]
    assert processes_using(tmp_path) == []


def test_demo_desk_leaves_the_page_up_with_handoffs_waiting_until_ctrl_c(tmp_path: Path) -> None:
    port = free_port()
    proc = subprocess.Popen(
        [*DEMO, "--conversations", "40", "--desk", "--desk-port", str(port)],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        env=demo_env(tmp_path),
    )
    assert proc.stdout is not None
    lines: list[str] = []
    try:
        for raw in proc.stdout:  # bounded by the test's timeout
            lines.append(raw.decode())
            if lines[-1].startswith("Press Ctrl-C"):
                break
        text = "".join(lines)
        assert f"The desk page is up: http://127.0.0.1:{port}/" in text, text[-3000:]
        tokens = re.findall(r"^\s+(whd1\.token\.\S+)$", text, re.MULTILINE)
        assert len(tokens) == 2, text[-3000:]
        browser = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar())
        )
        form = urllib.parse.urlencode({"token": tokens[0]}).encode()
        browser.open(f"http://127.0.0.1:{port}/login", data=form, timeout=10)
        deadline = time.monotonic() + 60
        view: dict[str, object] = {}
        while time.monotonic() < deadline and not view.get("waiting"):
            with browser.open(f"http://127.0.0.1:{port}/api/view", timeout=10) as response:
                view = json.loads(response.read())
            time.sleep(0.2)  # polling interval, not a wait for state
        assert view["me"] == {"id": "you", "role": "agent"} and view["waiting"], view
    finally:
        proc.send_signal(signal.SIGINT)
        proc.communicate(timeout=90)
    assert proc.returncode == 0
    assert list(tmp_path.iterdir()) == []
    assert processes_using(tmp_path) == []
