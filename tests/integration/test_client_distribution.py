"""The bot client's own distribution (agents/pyproject.toml) installs light: a bot gets the
client, the wire contract and the connection settings, and none of the pipeline's weight."""

from __future__ import annotations

import subprocess
import sys
import venv
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
HEAVY = ("faust", "mode", "rocksdict", "simple_salesforce", "river", "scipy", "numpy")

pytestmark = [pytest.mark.integration, pytest.mark.timeout(600)]


def run(*args: str, cwd: Path) -> str:
    done = subprocess.run(args, cwd=cwd, capture_output=True, text=True, timeout=540, check=False)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    return done.stdout


def test_the_client_distribution_installs_without_the_pipeline(tmp_path: Path) -> None:
    run(sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(tmp_path),
        str(ROOT / "agents"), cwd=tmp_path)  # fmt: skip
    (wheel,) = tmp_path.glob("warmhandoff_client-*.whl")
    venv.create(tmp_path / "venv", with_pip=True)
    python = str(tmp_path / "venv" / "bin" / "python")
    run(python, "-m", "pip", "install", "-q", str(wheel), cwd=tmp_path)
    probe = (
        "import importlib.util as u, pathlib, sys\n"
        "from warmhandoff.agents import BotClient\n"
        "from warmhandoff.agents.turns import as_turn\n"
        "from warmhandoff.streams.contract.models import Turn\n"
        "client = BotClient('127.0.0.1:9')\n"
        "print(client._turns_topic)\n"
        f"print(*[name for name in {HEAVY!r} if u.find_spec(name)])\n"
        "print(u.find_spec('warmhandoff.streams.core') is None)\n"
        "site = pathlib.Path(u.find_spec('pydantic').origin).parents[1]\n"
        "print(sum(f.stat().st_size for f in site.rglob('*') if f.is_file()) // 2**20)\n"
    )
    lines = run(python, "-c", probe, cwd=tmp_path).splitlines()
    assert lines[0] == "conversation.turns"
    assert lines[1] == "", f"heavy packages installed: {lines[1]}"
    assert lines[2] == "True"
    assert int(lines[3]) < 80, f"{lines[3]} MB installed"
