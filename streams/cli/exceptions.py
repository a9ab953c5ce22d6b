"""Errors of the command line itself (one-line subclasses of `WarmhandoffError`)."""

from __future__ import annotations

from warmhandoff.streams.contract.errors import WarmhandoffError


class UsageError(WarmhandoffError):
    """Options that cannot go together, or an option missing another it needs."""
