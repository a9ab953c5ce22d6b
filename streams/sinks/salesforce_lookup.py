"""Which Salesforce Case a handoff with a customer case goes to. Pure: SOQL text and records.

One SOQL query finds the customer's Cases on the topic created within the attach window
before the handoff's first unmet need (newest first, open or closed). The newest open one
takes the handoff as a CaseComment. Without one, the handoff upserts a Case on its case key;
two sink instances racing on one customer compute the same key, so the unique external id
admits one Case and the slower upsert updates it. When the Case holding that key was closed
since, the successor key (`<key>.2`, `<key>.3`, ...) opens a new one: still one per race.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from simple_salesforce.format import format_soql

from warmhandoff.streams.contract.models import CaseRef
from warmhandoff.streams.sinks.salesforce_config import CaseFields

#: Cases looked at per lookup: a customer with more on one topic within the window is rare,
#: and missing an older open one only opens another Case.
LOOKUP_LIMIT = 20


@dataclass(frozen=True, slots=True)
class Placement:
    """Where a handoff goes: an open Case to attach to, or the key to upsert a Case on."""

    open_case_id: str | None
    key: str


def lookup_query(fields: CaseFields, case: CaseRef, since: datetime) -> str:
    """The SOQL for the customer's Cases on the case's topic created at or after `since`."""
    return format_soql(
        f"SELECT Id, IsClosed, {fields.key} FROM Case"
        f" WHERE {fields.customer} = {{}} AND {fields.topic} = {{}} AND CreatedDate >= {{}}"
        f" ORDER BY CreatedDate DESC LIMIT {LOOKUP_LIMIT}",
        case.customer_id,
        case.topic,
        since,
    )


def lookup_since(first_unmet_need_at: datetime, window_hours: float) -> datetime:
    """The oldest creation time of a Case the handoff may attach to."""
    return first_unmet_need_at - timedelta(hours=window_hours)


def place(records: Sequence[Mapping[str, object]], fields: CaseFields, case: CaseRef) -> Placement:
    """The newest open Case among `records` (newest first), else the key to upsert on."""
    for record in records:
        if record.get("IsClosed") is False and isinstance(record.get("Id"), str):
            return Placement(open_case_id=str(record["Id"]), key=case.key)
    taken = [_generation(record.get(fields.key), case.key) for record in records]
    latest = max((g for g in taken if g is not None), default=None)
    if latest is None:
        return Placement(open_case_id=None, key=case.key)
    return Placement(open_case_id=None, key=f"{case.key}.{latest + 1}")


def _generation(value: object, key: str) -> int | None:
    """1 for the key itself, n for `<key>.n`; None for another case's key."""
    if value == key:
        return 1
    if isinstance(value, str) and value.startswith(key + "."):
        suffix = value.removeprefix(key + ".")
        if suffix.isdigit():
            return int(suffix)
    return None
