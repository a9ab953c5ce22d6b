"""The README's bot example runs as written: a real worker on the test broker, the script in a
subprocess with only the environment a user would set."""

from __future__ import annotations

import asyncio
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from .conftest import Deployment, read_until

ROOT = Path(__file__).resolve().parents[2]
BOT_SECTION = "## A bot in 25 lines"


def readme_bot() -> str:
    """The first Python code block of the README's bot section."""
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    section = text.split(BOT_SECTION, 1)[1]
    match = re.search(r"```python\n(.*?)```", section, re.S)
    assert match is not None, f"no python block under {BOT_SECTION!r}"
    return match.group(1)


def test_the_example_is_a_complete_script_of_at_most_25_lines() -> None:
    code = readme_bot()
    assert len(code.splitlines()) <= 25
    compile(code, "bot.py", "exec")
    assert "from warmhandoff.agents import BotClient" in code


@pytest.mark.integration
async def test_the_readme_bot_runs_against_a_worker(deployment: Deployment, tmp_path: Path) -> None:
    script = tmp_path / "bot.py"
    script.write_text(readme_bot(), encoding="utf-8")
    deployment.worker()
    env = {k: v for k, v in os.environ.items() if not k.startswith("WARMHANDOFF_")}
    env |= {
        "WARMHANDOFF_BOOTSTRAP_SERVERS": deployment.settings.bootstrap_servers,
        "WARMHANDOFF_TOPIC_PREFIX": deployment.settings.topic_prefix,
        "WARMHANDOFF_APP_ID": deployment.settings.app_id,
    }
    done = await asyncio.to_thread(
        subprocess.run,
        [sys.executable, str(script)],
        capture_output=True,
        env=env,
        cwd=tmp_path,
        timeout=180,
        check=False,
    )
    out, err = done.stdout.decode(), done.stderr.decode()
    assert done.returncode == 0, err[-2000:] + deployment.logs()[-2000:]
    assert "Traceback" not in out + err
    lines = out.splitlines()
    kinds = [line.split(":", 1)[0] for line in lines]
    # The bot obeyed the gather, then heard it is being transferred: nothing else on stdout.
    assert kinds[0] == "gather" and kinds[-1] == "status", out
    assert set(kinds) <= {"gather", "disclose", "clarify", "status"}, out

    outputs = await read_until(deployment, lambda o: o.handoffs, within=60)
    (handoff,) = outputs.handoffs
    assert handoff["conversation_id"] == "c-1"
    assert handoff["bundle"]["fields"]["account_id"] == "ACC-1042"
