"""Where and as whom the Salesforce sink writes: plain values, importable without the
Salesforce client (the `salesforce` extra), so settings are checked before it is needed."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from warmhandoff.streams.sinks.salesforce_case import CaseMapping


@dataclass(frozen=True)
class CaseFields:
    """The custom fields on Case that let the handoffs of one customer and topic share a Case."""

    key: str = "Warmhandoff_Case_Key__c"  # unique, external id: the upsert key of a case
    customer: str = "Warmhandoff_Customer__c"
    topic: str = "Warmhandoff_Topic__c"


@dataclass(frozen=True)
class SalesforceConfig:
    """Where and as whom the sink writes (secrets are plain here: never log this object)."""

    login_url: str
    client_id: str
    client_secret: str
    username: str | None = None
    password: str | None = None
    security_token: str = ""
    api_version: str = "62.0"
    external_id_field: str = "Warmhandoff_Handoff_Id__c"
    mapping: CaseMapping = field(default_factory=CaseMapping)
    # None: every handoff gets a Case of its own, keyed by its handoff id.
    cases: CaseFields | None = field(default_factory=CaseFields)
    # The policy's cases.attach_window_hours: how old an open Case a handoff may attach to.
    attach_window_hours: float = 72.0
    timeout_seconds: float = 10.0
    ca_file: Path | None = None

    def __repr__(self) -> str:
        return f"SalesforceConfig(login_url={self.login_url!r}, client_id=***, ...)"
