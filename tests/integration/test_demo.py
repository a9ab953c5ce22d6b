"""`warmhandoff demo`, the first command a newcomer runs, end to end on the embedded broker."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

pytestmark = [pytest.mark.integration, pytest.mark.timeout(300)]


def test_the_demo_routes_handoffs_to_agents_and_hands_back_to_the_bot() -> None:
    env = {k: v for k, v in os.environ.items() if k != "WARMHANDOFF_BOOTSTRAP_SERVERS"}
    done = subprocess.run(
        [sys.executable, "-m", "warmhandoff.streams.cli", "demo", "--conversations", "100"],
        capture_output=True,
        env=env,
        timeout=280,
        check=False,
    )
    out = done.stdout.decode()
    assert done.returncode == 0, out[-3000:] + done.stderr.decode()[-2000:]
    assert "missed 0; unexpected 0" in out
    routed = next(line for line in out.splitlines() if line.startswith("router "))
    assert int(routed.split()[1]) > 0, routed  # the live router offered handoffs to agents
    assert "accepted" in out and "resumed" in out
