"""The settings of `warmhandoff sink KIND`: retries and each CRM receiver."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field, SecretStr

from warmhandoff.streams.config.service import SINK_PORT, ServiceSettings, ops_port


class SinkSettings(ServiceSettings):
    """The settings of `warmhandoff sink KIND`: retries and each CRM receiver."""

    web_port: int = ops_port(SINK_PORT)
    policy_file: Path | None = Field(
        None,
        description="the escalation policy; the file and Salesforce sinks attach a handoff "
        "to the customer's case within its cases.attach_window_hours (give the worker's)",
    )
    sink_retry_attempts: int = Field(
        default=6,
        ge=1,
        le=100,
        description="sinks: attempts per handoff before failed + dead letter",
    )
    sink_backoff_base_seconds: float = Field(
        default=0.5, gt=0, description="sinks: first retry wait; doubles per attempt, full jitter"
    )
    sink_backoff_cap_seconds: float = Field(
        default=30.0, gt=0, description="sinks: longest wait between attempts (Retry-After too)"
    )
    sink_timeout_seconds: float = Field(
        default=10.0, gt=0, description="sinks: timeout of every call to the receiver"
    )
    sink_webhook_url: str | None = Field(
        None, description="webhook sink: the HTTPS URL handoffs are POSTed to (--url)"
    )
    sink_webhook_secret: SecretStr | None = Field(
        None, description="webhook sink: HMAC-SHA256 signing secret (never printed)"
    )
    sink_webhook_ca_file: Path | None = Field(
        None, description="webhook sink: CA bundle to verify the receiver (default: the system's)"
    )
    sink_file_path: Path | None = Field(
        None, description="file sink: the JSON-lines file handoffs are appended to (--path)"
    )
    sink_salesforce_login_url: str = Field(
        "https://login.salesforce.com",
        description="Salesforce sink: OAuth host (the org's My Domain URL for client credentials)",
    )
    sink_salesforce_client_id: str | None = Field(
        None, description="Salesforce sink: connected app consumer key"
    )
    sink_salesforce_client_secret: SecretStr | None = Field(
        None, description="Salesforce sink: connected app consumer secret (never printed)"
    )
    sink_salesforce_username: str | None = Field(
        None, description="Salesforce sink: set for the username-password flow"
    )
    sink_salesforce_password: SecretStr | None = Field(
        None, description="Salesforce sink: password, username-password flow (never printed)"
    )
    sink_salesforce_security_token: SecretStr | None = Field(
        None, description="Salesforce sink: security token appended to it (never printed)"
    )
    sink_salesforce_api_version: str = Field(
        "62.0", pattern=r"^\d{2,3}\.0$", description="Salesforce sink: REST API version"
    )
    sink_salesforce_external_id_field: str = Field(
        "Warmhandoff_Handoff_Id__c",
        pattern=r"^[A-Za-z][A-Za-z0-9_]{0,79}$",
        description="Salesforce sink: unique external-id field on Case holding the handoff_id",
    )
    sink_salesforce_priorities: dict[int, str] = Field(
        default={1: "High", 2: "High", 3: "Medium", 4: "Low", 5: "Low"},
        description="Salesforce sink: routing priority to Case Priority (JSON)",
    )
    sink_salesforce_origins: dict[str, str] = Field(
        default={
            "chat": "Chat",
            "voice": "Phone",
            "email": "Email",
            "sms": "SMS",
            "social": "Social",
        },
        description="Salesforce sink: channel to Case Origin (JSON)",
    )
    sink_salesforce_context_field: str | None = Field(
        None,
        pattern=r"^[A-Za-z][A-Za-z0-9_]{0,79}$",
        description="Salesforce sink: a Long Text Area field on Case for the context and "
        "transcript, written in the same upsert (no CaseComment: no race between two "
        "concurrent deliveries); unset: a CaseComment",
    )
    sink_salesforce_attach_cases: bool = Field(
        True,
        description="Salesforce sink: a handoff with a customer id attaches to the customer's "
        "open Case on the same topic (needs the three case fields); false: a Case per handoff",
    )
    sink_salesforce_case_key_field: str = Field(
        "Warmhandoff_Case_Key__c",
        pattern=r"^[A-Za-z][A-Za-z0-9_]{0,79}$",
        description="Salesforce sink: unique external-id field on Case holding the case key",
    )
    sink_salesforce_customer_field: str = Field(
        "Warmhandoff_Customer__c",
        pattern=r"^[A-Za-z][A-Za-z0-9_]{0,79}$",
        description="Salesforce sink: text field on Case holding the customer id",
    )
    sink_salesforce_topic_field: str = Field(
        "Warmhandoff_Topic__c",
        pattern=r"^[A-Za-z][A-Za-z0-9_]{0,79}$",
        description="Salesforce sink: text field on Case holding the case topic",
    )
    sink_salesforce_ca_file: Path | None = Field(
        None, description="Salesforce sink: CA bundle to verify Salesforce (default: certifi's)"
    )
