"""Build a sink kind from the settings, with a one-line reason when one is missing.

The file and Salesforce sinks read the policy for its `cases.attach_window_hours`: the same
file as the worker's, so the window they attach within is the one the case keys were made with.
"""

from __future__ import annotations

from warmhandoff.streams.config.sink import SinkSettings
from warmhandoff.streams.contract.errors import MissingExtraError
from warmhandoff.streams.policy.loader import load_policy
from warmhandoff.streams.sinks.base import KINDS, Sink
from warmhandoff.streams.sinks.exceptions import SinkConfigError
from warmhandoff.streams.sinks.jsonl import FileSink
from warmhandoff.streams.sinks.salesforce_case import CaseMapping
from warmhandoff.streams.sinks.salesforce_config import CaseFields, SalesforceConfig
from warmhandoff.streams.sinks.webhook import WebhookSink


def build_sink(kind: str, settings: SinkSettings) -> Sink:
    """The sink of `kind` ("webhook", "salesforce" or "file") configured by `settings`."""
    if kind == "webhook":
        if not settings.sink_webhook_url:
            raise SinkConfigError("the webhook sink needs --url or WARMHANDOFF_SINK_WEBHOOK_URL")
        if settings.sink_webhook_secret is None:
            raise SinkConfigError(
                "the webhook sink needs --secret or WARMHANDOFF_SINK_WEBHOOK_SECRET"
            )
        return WebhookSink(
            settings.sink_webhook_url,
            settings.sink_webhook_secret.get_secret_value().encode(),
            timeout_seconds=settings.sink_timeout_seconds,
            ca_file=settings.sink_webhook_ca_file,
        )
    if kind == "file":
        if settings.sink_file_path is None:
            raise SinkConfigError("the file sink needs --path or WARMHANDOFF_SINK_FILE_PATH")
        return FileSink(settings.sink_file_path, attach_window_hours=attach_window_hours(settings))
    if kind == "salesforce":
        config = salesforce_config(settings)
        try:
            from warmhandoff.streams.sinks.salesforce import SalesforceSink
        except ImportError:
            raise MissingExtraError("the Salesforce sink", "salesforce") from None
        return SalesforceSink(config)
    raise SinkConfigError(f"unknown sink kind {kind!r}: use one of {', '.join(KINDS)}")


def attach_window_hours(settings: SinkSettings) -> float:
    """The policy's window for attaching a handoff to the customer's case (0: never)."""
    return load_policy(settings.policy_file).cases.attach_window_hours


def salesforce_config(settings: SinkSettings) -> SalesforceConfig:
    """The Salesforce sink's configuration from the WARMHANDOFF_SINK_SALESFORCE_* settings."""

    def secret(value: object) -> str:
        get = getattr(value, "get_secret_value", None)
        return str(get()) if get is not None else ""

    return SalesforceConfig(
        login_url=settings.sink_salesforce_login_url,
        client_id=settings.sink_salesforce_client_id or "",
        client_secret=secret(settings.sink_salesforce_client_secret),
        username=settings.sink_salesforce_username,
        password=secret(settings.sink_salesforce_password) or None,
        security_token=secret(settings.sink_salesforce_security_token),
        api_version=settings.sink_salesforce_api_version,
        external_id_field=settings.sink_salesforce_external_id_field,
        mapping=CaseMapping(
            priorities=dict(settings.sink_salesforce_priorities),
            origins=dict(settings.sink_salesforce_origins),
            context_field=settings.sink_salesforce_context_field,
        ),
        cases=CaseFields(
            key=settings.sink_salesforce_case_key_field,
            customer=settings.sink_salesforce_customer_field,
            topic=settings.sink_salesforce_topic_field,
        )
        if settings.sink_salesforce_attach_cases
        else None,
        attach_window_hours=attach_window_hours(settings),
        timeout_seconds=settings.sink_timeout_seconds,
        ca_file=settings.sink_salesforce_ca_file,
    )
