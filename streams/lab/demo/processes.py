"""The processes the demo starts: `warmhandoff worker` and `warmhandoff router`.

Each is configured entirely through its environment, writes its JSON log lines to the demo's
log file and serves its ops endpoints on a free local port, so the demo can ask /readyz what
it is waiting for (the process starting, the consumer group forming, tables recovering). They
run in their own session: a Ctrl-C in the terminal reaches the demo only, which stops them
before the broker, so they do not spend their shutdown reconnecting to a broker that is gone.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

import aiohttp

from warmhandoff.streams.config.worker import WorkerSettings
from warmhandoff.streams.runtime.broker import free_port

#: What a process that does not answer on its ops port yet is busy with.
STARTING = "starting up (imports, topic check)"
STOP_GRACE_S = 20.0


class Service:
    """One `warmhandoff <command>` child process."""

    def __init__(
        self,
        command: str,
        settings: WorkerSettings,
        log: Path,
        *,
        port: int | None = None,
        env: dict[str, str] | None = None,
    ) -> None:
        self.command = command
        self.settings = settings
        self.port = free_port() if port is None else port
        self._log = log
        self._env = env or {}
        self._proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        """Spawn the process (it keeps running until `stop_all`)."""
        s = self.settings
        env = {
            **os.environ,
            "WARMHANDOFF_BOOTSTRAP_SERVERS": s.bootstrap_servers,
            "WARMHANDOFF_TOPIC_PREFIX": s.topic_prefix,
            "WARMHANDOFF_APP_ID": s.app_id,
            "WARMHANDOFF_DATA_DIR": str(s.data_dir),
            "WARMHANDOFF_EMBEDDED_BROKER": "never",  # the demo owns the broker
            "WARMHANDOFF_WEB_HOST": "127.0.0.1",
            "WARMHANDOFF_WEB_PORT": str(self.port),
            "WARMHANDOFF_LOG_FORMAT": "json",
            **self._env,
        }
        # Appending: the demo and its other children write to the same file.
        with self._log.open("ab") as log:
            self._proc = subprocess.Popen(
                [sys.executable, "-m", "warmhandoff.streams.cli", self.command],
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    def failure(self) -> str | None:
        """Why the process is gone, or None while it runs (or was never started)."""
        if self._proc is None or self._proc.poll() is None:
            return None
        return f"the {self.command} exited with status {self._proc.returncode}"

    async def readiness(self, http: aiohttp.ClientSession) -> str | None:
        """None once /readyz says ready; otherwise what the process is waiting for."""
        url = f"http://127.0.0.1:{self.port}/readyz"
        try:
            async with http.get(url, timeout=aiohttp.ClientTimeout(total=1.0)) as response:
                if response.status == 200:
                    return None
                text = (await response.text()).strip()
                status = response.status
        except (aiohttp.ClientError, TimeoutError):
            return STARTING
        return text.removeprefix("not ready:").strip() or f"/readyz answered {status}"

    def terminate(self) -> None:
        """Ask the process to stop (SIGTERM: it drains and commits)."""
        if self._proc is not None and self._proc.poll() is None:
            self._proc.send_signal(signal.SIGTERM)

    def wait(self, grace: float) -> None:
        """Wait for the process to exit; SIGKILL after `grace` seconds."""
        if self._proc is None:
            return
        try:
            self._proc.wait(timeout=grace)
        except subprocess.TimeoutExpired:
            self._proc.kill()
            self._proc.wait()


def stop_all(services: Sequence[Service], grace: float = STOP_GRACE_S) -> None:
    """Stop every process, all at once rather than one after the other."""
    for service in services:
        service.terminate()
    for service in services:
        service.wait(grace)
