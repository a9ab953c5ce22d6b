"""Errors of the policy package."""

from __future__ import annotations

from collections.abc import Sequence


class PolicyError(Exception):
    """A policy that cannot be used; the message lists every problem as `FILE: path: what`."""

    def __init__(self, source: str, problems: Sequence[str]) -> None:
        self.source = source
        self.problems = tuple(problems)
        super().__init__("\n".join(f"{source}: {problem}" for problem in self.problems))
