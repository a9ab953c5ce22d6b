"""What the distribution installs: warmhandoff.streams and warmhandoff.agents, nothing top-level
named `agents` (the OpenAI Agents SDK's import name) or `streams`; the console script works."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path


def installed_python(code: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    """Run code in a clean interpreter outside the checkout (only installed packages visible)."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    return subprocess.run(
        [sys.executable, "-c", code], cwd=cwd, env=env, capture_output=True, text=True, timeout=60
    )


def test_only_the_namespaced_packages_are_importable(tmp_path: Path) -> None:
    probe = (
        "import importlib.util as u\n"
        "print(u.find_spec('agents') is None, u.find_spec('streams') is None)\n"
        "import warmhandoff.streams.contract.models, warmhandoff.agents.client\n"
        "print('ok')\n"
    )
    done = installed_python(probe, tmp_path)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["True", "True", "ok"]


def test_the_console_script_is_installed(tmp_path: Path) -> None:
    script = shutil.which("warmhandoff") or str(Path(sys.executable).with_name("warmhandoff"))
    done = subprocess.run(
        [script, "--help"], cwd=tmp_path, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0
    for command in ("demo", "broker", "topics", "worker", "replay", "policy", "simulate"):
        assert command in done.stdout


def test_version_license_and_type_information_are_installed(tmp_path: Path) -> None:
    script = shutil.which("warmhandoff") or str(Path(sys.executable).with_name("warmhandoff"))
    done = subprocess.run(
        [script, "--version"], cwd=tmp_path, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0 and done.stdout.startswith("warmhandoff 0.")
    probe = (
        "import importlib.metadata as m, importlib.util as u, pathlib\n"
        "print(m.metadata('warmhandoff')['License-Expression'])\n"
        "for name in ('warmhandoff.streams', 'warmhandoff.agents'):\n"
        "    print((pathlib.Path(u.find_spec(name).origin).parent / 'py.typed').exists())\n"
    )
    found = installed_python(probe, tmp_path)
    assert found.returncode == 0, found.stderr
    assert found.stdout.split() == ["Apache-2.0", "True", "True"]
