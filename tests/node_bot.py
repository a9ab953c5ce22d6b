"""The Node.js example bot (docs/examples/node-bot) with its dependencies, for the tests.

`npm install` runs once per version of the example's package.json, into a cache outside the
clone (~/.cache/warmhandoff/node-bot/<hash>), and the bot runs with NODE_PATH pointing there,
so the example folder stays as a user copies it.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
from pathlib import Path

EXAMPLE = Path(__file__).resolve().parents[1] / "docs" / "examples" / "node-bot"
CACHE = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "warmhandoff" / "node-bot"


class NodeBotUnavailable(RuntimeError):
    """Node.js or npm is missing, or the example's dependencies could not be installed."""


def node_modules() -> Path:
    """The example's installed node_modules (installed on first use)."""
    node, npm = shutil.which("node"), shutil.which("npm")
    if node is None or npm is None:
        raise NodeBotUnavailable("node and npm are needed for the Node.js bot (Debian: nodejs npm)")
    manifest = (EXAMPLE / "package.json").read_bytes()
    folder = CACHE / hashlib.sha256(manifest).hexdigest()[:12]
    modules = folder / "node_modules"
    if (modules / "kafkajs" / "package.json").exists():
        return modules
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "package.json").write_bytes(manifest)
    done = subprocess.run(
        [npm, "install", "--no-audit", "--no-fund", "--silent"],
        cwd=folder,
        capture_output=True,
        timeout=300,
        check=False,
    )
    if done.returncode != 0:
        last = (done.stderr or done.stdout).decode(errors="replace").strip().splitlines()
        raise NodeBotUnavailable(f"npm install in {folder} failed: {last[-1] if last else '?'}")
    return modules


def command(conversations: Path) -> list[str]:
    """The command line that runs the example bot on a file of turns."""
    node = shutil.which("node")
    assert node is not None
    return [node, str(EXAMPLE / "bot.js"), str(conversations)]
