"""Reload the escalation policy without restarting workers.

`PolicyWatcher.poll` re-reads the policy file when its bytes changed and returns the new
policy only if it is valid; a broken edit is logged and the running policy stays, so a typo
never takes a worker down. Workers poll every `RELOAD_SECONDS`
(streams/services/worker/app.py) off the event loop; the swap happens between two turns, and
every decision carries `policy_version`, so the audit trail shows exactly which turns the new
version decided.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from pathlib import Path

import structlog

from warmhandoff.streams.policy.loader import PolicyError, load_policy
from warmhandoff.streams.policy.model import Policy

log = structlog.get_logger(__name__)

RELOAD_SECONDS = 5.0


class PolicyWatcher:
    """Watch one policy file; `poll()` gives a new valid policy when the file changed."""

    def __init__(
        self, path: Path, current: Policy, *, loader: Callable[[Path], Policy] = load_policy
    ) -> None:
        self.path = path
        self.current = current
        self._loader = loader
        self._digest = self._read_digest()
        self.last_error: str | None = None

    def _read_digest(self) -> str | None:
        try:
            return hashlib.sha256(self.path.read_bytes()).hexdigest()
        except OSError:
            return None

    def poll(self) -> Policy | None:
        """The new policy if the file changed and is valid; None otherwise (blocking I/O)."""
        digest = self._read_digest()
        if digest is None or digest == self._digest:
            return None
        self._digest = digest
        try:
            policy = self._loader(self.path)
        except (PolicyError, OSError) as exc:
            self.last_error = str(exc).splitlines()[0][:300]
            log.warning(
                "policy.reload_rejected", version=self.current.version, error=self.last_error
            )
            return None
        self.last_error = None
        log.info("policy.reloaded", old_version=self.current.version, new_version=policy.version)
        self.current = policy
        return policy
