"""`warmhandoff kafka`: the tests' own Apache Kafka as a command users run, for clients the
embedded broker cannot serve. It starts, serves `topics apply`, stops on SIGTERM, and keeps
its topics across a restart on the same data folder."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from warmhandoff.streams.runtime.broker import broker_answers, free_port

pytestmark = [pytest.mark.integration, pytest.mark.timeout(300)]


def cli(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "warmhandoff.streams.cli", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def start(env: dict[str, str], bootstrap: str, log: Path) -> subprocess.Popen[bytes]:
    with log.open("ab") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "warmhandoff.streams.cli", "kafka", "--bootstrap", bootstrap],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    deadline = time.monotonic() + 120
    while not broker_answers(bootstrap, timeout=0.5):
        assert proc.poll() is None, log.read_text()
        assert time.monotonic() < deadline, log.read_text()
    return proc


def stop(proc: subprocess.Popen[bytes], log: Path) -> None:
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(timeout=60) == 0, log.read_text()


def test_kafka_command_runs_apache_kafka_that_keeps_its_topics(tmp_path: Path) -> None:
    bootstrap = f"127.0.0.1:{free_port()}"
    env = {
        **os.environ,
        "WARMHANDOFF_BOOTSTRAP_SERVERS": bootstrap,
        "WARMHANDOFF_DATA_DIR": str(tmp_path),
        "WARMHANDOFF_TOPIC_PREFIX": "kc.",
    }
    log = tmp_path / "kafka-command.log"
    proc = start(env, bootstrap, log)
    try:
        applied = cli("topics", "apply", env=env)
        assert applied.returncode == 0, applied.stdout + applied.stderr
        stop(proc, log)
        assert not broker_answers(bootstrap, timeout=0.5)
        assert "broker='Apache Kafka" in log.read_text()  # (written out once it stopped)

        proc = start(env, bootstrap, log)
        checked = cli("topics", "check", env=env)
        assert checked.returncode == 0, checked.stdout + checked.stderr
        assert "missing" not in checked.stdout
    finally:
        if proc.poll() is None:
            stop(proc, log)
    assert (tmp_path / "apache-kafka").is_dir()
