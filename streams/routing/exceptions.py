"""Errors of the routing package."""

from __future__ import annotations


class RoutingError(Exception):
    """Base of routing errors."""


class UnknownQueue(RoutingError):
    """A handoff names a queue the policy does not declare."""
