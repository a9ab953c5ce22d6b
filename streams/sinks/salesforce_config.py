"""Where and as whom the Salesforce sink writes: plain values, importable without the
Salesforce client (the `salesforce` extra), so settings are checked before it is needed."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from warmhandoff.streams.sinks.salesforce_case import CaseMapping


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
    timeout_seconds: float = 10.0
    ca_file: Path | None = None

    def __repr__(self) -> str:
        return f"SalesforceConfig(login_url={self.login_url!r}, client_id=***, ...)"
