"""Errors of the sinks: one base, and whether trying again later may help (`retriable`)."""

from __future__ import annotations

from warmhandoff.streams.contract.errors import ConfigError, WarmhandoffError


class SinkError(WarmhandoffError):
    """Base of every error a sink raises on purpose."""


class SinkConfigError(SinkError, ConfigError):
    """A sink's settings are missing or invalid."""


class DeliveryError(SinkError):
    """One delivery attempt failed; `reason` is a short code for metrics and dead letters."""

    def __init__(self, message: str, *, reason: str) -> None:
        super().__init__(message)
        self.reason = reason


class TransientDeliveryError(DeliveryError):
    """The receiver is down, slow or throttling: try again later (after `retry_after` s)."""

    retriable = True

    def __init__(self, message: str, *, reason: str, retry_after: float | None = None) -> None:
        super().__init__(message, reason=reason)
        self.retry_after = retry_after


class PermanentDeliveryError(DeliveryError):
    """The receiver refused the handoff: retrying the same request cannot succeed."""
