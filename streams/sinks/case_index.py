"""The customer cases a file sink has written: which case a new handoff joins. Pure.

A handoff with a customer case joins the case already holding its key (the same customer,
topic and window), else the newest case of that customer and topic opened less than the
attach window before or after its first unmet need (sliding, so a customer escalating either
side of a window boundary keeps one case), else opens its own case on its key. A zero window
never joins: every handoff opens a case. A handoff without a customer id has no customer case
(its line has no `case` object): it is a case of its own.

The index is rebuilt from the `case` object of each line, so it survives restarts and sees
the lines other processes append to the same file.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from warmhandoff.streams.contract.models import HandoffRequest


@dataclass(frozen=True, slots=True)
class FiledCase:
    """A case as a line of the file records it, and what that line did to it."""

    key: str
    topic: str
    customer_id: str
    opened_at: datetime  # the first unmet need of the handoff that opened it
    handoffs: int  # handoffs in the case, this line's included
    attached: bool  # the line joined a case an earlier line opened

    def line(self) -> dict[str, object]:
        """The line's `case` object: the request's, plus what the sink made of it."""
        return {
            "key": self.key,
            "customer_id": self.customer_id,
            "topic": self.topic,
            "attached": self.attached,
            "handoffs": self.handoffs,
            "opened_at": self.opened_at.isoformat(),
        }


class CaseIndex:
    """The cases in one file, by key and by customer and topic."""

    def __init__(self, window_hours: float) -> None:
        self.window = timedelta(hours=window_hours)
        self._by_key: dict[str, FiledCase] = {}
        self._by_customer: dict[tuple[str, str], list[str]] = {}  # their case keys

    def __len__(self) -> int:
        return len(self._by_key)

    def clear(self) -> None:
        """Forget every case (the file was truncated or replaced)."""
        self._by_key.clear()
        self._by_customer.clear()

    def place(self, request: HandoffRequest) -> FiledCase | None:
        """The case the handoff joins or opens, as its line will record it (not remembered);
        None without a customer case."""
        at, ref = request.first_unmet_need_at, request.case
        if ref is None:
            return None
        joined = self._joinable(ref.key, ref.customer_id, ref.topic, at)
        if joined is None:
            return FiledCase(ref.key, ref.topic, ref.customer_id, at, 1, False)
        return FiledCase(
            joined.key,
            joined.topic,
            joined.customer_id,
            joined.opened_at,
            joined.handoffs + 1,
            True,
        )

    def remember(self, case: FiledCase) -> None:
        """Record a line's case (written here, or read from the file)."""
        known = self._by_key.get(case.key)
        if known is not None and known.handoffs >= case.handoffs:
            return
        self._by_key[case.key] = case
        if known is None:
            self._by_customer.setdefault((case.customer_id, case.topic), []).append(case.key)

    def _joinable(self, key: str, customer_id: str, topic: str, at: datetime) -> FiledCase | None:
        if key in self._by_key:
            return self._by_key[key]
        if self.window <= timedelta(0):
            return None
        keys = self._by_customer.get((customer_id, topic), [])
        near = [self._by_key[k] for k in keys if abs(at - self._by_key[k].opened_at) < self.window]
        return max(near, key=lambda case: case.opened_at, default=None)


def read_case(value: object, first_unmet_need_at: object = None) -> FiledCase | None:
    """The case of a line already in the file, or None (a line without one, or a bad one).

    A line with the request's case alone (written before the sink completed it) opened a case
    at its first unmet need.
    """
    if not isinstance(value, dict):
        return None
    key, topic, customer = value.get("key"), value.get("topic"), value.get("customer_id")
    handoffs = value.get("handoffs", 1)
    opened = value.get("opened_at", first_unmet_need_at)
    if not (isinstance(key, str) and isinstance(topic, str) and isinstance(customer, str)):
        return None
    if not (isinstance(handoffs, int) and handoffs >= 1 and isinstance(opened, str)):
        return None
    try:
        opened_at = datetime.fromisoformat(opened)
    except ValueError:
        return None
    if opened_at.tzinfo is None:
        return None
    return FiledCase(key, topic, customer, opened_at, handoffs, value.get("attached") is True)
