"""`warmhandoff demo`, the first command a newcomer runs, end to end on the embedded broker."""

from __future__ import annotations

import pytest

from .conftest import run_module

pytestmark = [pytest.mark.integration, pytest.mark.timeout(300)]


def test_the_demo_routes_handoffs_to_agents_and_hands_back_to_the_bot() -> None:
    done = run_module("cli", "demo", "--conversations", "100", timeout=280)
    out = done.stdout.decode()
    assert done.returncode == 0, out[-3000:] + done.stderr.decode()[-2000:]
    assert "missed 0; unexpected 0" in out
    routed = next(line for line in out.splitlines() if line.startswith("router "))
    assert int(routed.split()[1]) > 0, routed  # the live router offered handoffs to agents
    assert "accepted" in out and "resumed" in out
