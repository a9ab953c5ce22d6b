"""The customer's case a handoff belongs to: one case per customer and topic within a window.

The topic is the escalation's trigger family: a risk family (`payments`, `fraud`, ...),
`sales` for a revenue moment, and `service` for everything else (the customer asked for a
human, was unhappy, or the bot could not help). A customer who escalates twice about a payment
within the window has one case with two handoffs; a payment and then a cancellation are two.

The key is a pure function of the customer, the topic and the window the first unmet need
falls in, so two sink instances handling two handoffs of one customer compute the same key and
upsert one record, with no coordination. Sinks that can look a case up (the file sink's index,
Salesforce's SOQL) also attach to a case opened in the previous window while it is younger than
the window, so a customer escalating either side of a window boundary still gets one case.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from datetime import datetime

from warmhandoff.streams.contract.models import CaseRef

RISK_PREFIX = "risk."
#: Topics by trigger code; codes not listed are `service`.
_TOPICS = {"revenue_opportunity": "sales"}
SERVICE = "service"
#: Risk families first, then a revenue moment, then the rest, as trigger codes are reported.
_RANK = {"risk": 0, "sales": 1, SERVICE: 2}


def topic_of(trigger_codes: Iterable[str]) -> str:
    """The case topic of an escalation from the codes of the triggers that fired."""
    best, rank = SERVICE, _RANK[SERVICE]
    for code in trigger_codes:
        if code.startswith(RISK_PREFIX):
            return code.removeprefix(RISK_PREFIX)  # the first risk family reported wins
        topic = _TOPICS.get(code, SERVICE)
        if _RANK.get(topic, _RANK[SERVICE]) < rank:
            best, rank = topic, _RANK[topic]
    return best


def window_start(at: datetime, window_hours: float) -> int:
    """The index of the attach window `at` falls in (windows counted from the Unix epoch)."""
    return int(at.timestamp() // (window_hours * 3600.0))


def case_key(customer_id: str, topic: str, window: int | str) -> str:
    """The upsert key of a case: the same for one customer, topic and window."""
    digest = hashlib.sha256(f"{customer_id}\x1f{topic}\x1f{window}".encode()).hexdigest()
    return f"case-{digest[:32]}"


def case_for(
    customer_id: str | None,
    trigger_codes: Iterable[str],
    at: datetime,
    window_hours: float,
    *,
    handoff_id: str,
) -> CaseRef | None:
    """The case of a handoff; None without a customer id (the sink opens a new case).

    A zero window never attaches: every handoff gets a case of its own.
    """
    if not customer_id:
        return None
    topic = topic_of(trigger_codes)
    window: int | str = window_start(at, window_hours) if window_hours > 0 else handoff_id
    return CaseRef(key=case_key(customer_id, topic, window), customer_id=customer_id, topic=topic)
