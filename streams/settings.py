"""Runtime settings, read from `WARMHANDOFF_*` environment variables.

`bootstrap_servers` is the one setting that points everything (worker, CLI, bots, tests) at a
real Kafka cluster; TLS and SASL settings sit beside it. The model is frozen and the SASL
password is a `SecretStr`, so settings can be logged or shown without leaking it.
"""

from __future__ import annotations

import ssl
from pathlib import Path
from typing import Any, Literal

from aiokafka.helpers import create_ssl_context
from pydantic import Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from .errors import ConfigError

ENV_PREFIX = "WARMHANDOFF_"
DEFAULT_KAFKA_PORT = 9092

SecurityProtocol = Literal["PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL"]
SaslMechanism = Literal["PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"]
LogLevel = Literal["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"]


class Settings(BaseSettings):
    """Everything a warmhandoff process needs to know about its environment."""

    model_config = SettingsConfigDict(env_prefix=ENV_PREFIX, frozen=True, extra="forbid")

    bootstrap_servers: str = Field(
        "localhost:9092",
        description="Kafka bootstrap servers, host:port[,host:port]: the one setting that "
        "points everything at a real cluster",
    )
    security_protocol: SecurityProtocol = Field(
        "PLAINTEXT", description="PLAINTEXT, SSL, SASL_PLAINTEXT or SASL_SSL"
    )
    sasl_mechanism: SaslMechanism = Field(
        "PLAIN", description="PLAIN, SCRAM-SHA-256 or SCRAM-SHA-512"
    )
    sasl_username: str | None = Field(None, description="SASL user name")
    sasl_password: SecretStr | None = Field(None, description="SASL password (never printed)")
    ssl_cafile: Path | None = Field(None, description="CA bundle to verify the brokers")
    ssl_certfile: Path | None = Field(None, description="client certificate (mutual TLS)")
    ssl_keyfile: Path | None = Field(None, description="client key (mutual TLS)")
    embedded_broker: Literal["auto", "never", "always"] = Field(
        "auto",
        description="auto: the demo and tests start Tansu when nothing answers on a local "
        "address; never; always",
    )
    topics_file: Path | None = Field(
        None, description="topic declarations (default: the topics.yaml shipped in the package)"
    )
    topic_prefix: str = Field(
        default="",
        pattern=r"^[A-Za-z0-9._-]*$",
        max_length=100,
        description="prepended to every topic name and the app id (tenants, tests)",
    )
    app_id: str = Field(
        default="warmhandoff",
        pattern=r"^[A-Za-z0-9._-]+$",
        max_length=100,
        description="Faust app id: the consumer group and the changelog topic names",
    )
    policy_file: Path | None = Field(
        None, description="the escalation policy (default: the policy shipped in the package)"
    )
    store: str = Field(
        "rocksdb://", description="table store: rocksdb:// in workers, memory:// in tests"
    )
    state_memory_mb: int = Field(
        64,
        ge=8,
        le=65536,
        description="one memory budget (MiB) for the block cache and write buffers of every "
        "RocksDB table partition of a worker",
    )
    data_dir: Path = Field(
        Path(".warmhandoff"), description="RocksDB table state and the embedded broker's log"
    )
    web_port: int = Field(
        default=6066, ge=0, le=65535, description="HTTP port of /metrics, /livez, /readyz (0: off)"
    )
    web_host: str = Field("0.0.0.0", description="address the HTTP endpoints listen on")
    rebalance_timeout_seconds: float = Field(
        default=5.0,
        gt=0,
        description="consumer group rebalance timeout: a group forms in ~5 s, not Faust's ~30 s",
    )
    standby_replicas: int = Field(
        default=1, ge=0, description="standby table replicas kept by other workers"
    )
    timer_interval_seconds: float = Field(
        default=1.0, gt=0, description="how often overdue gathers are looked for"
    )
    # Faust refuses to recover a table whose local offset is past the changelog's high-water
    # mark. The embedded broker (Tansu) reports the high-water mark of a multi-record batch as
    # its first offset + 1, so that check fails spuriously after a crash there: "auto" turns it
    # off on the embedded broker only (state updates are idempotent by seq either way).
    recovery_consistency_check: Literal["auto", "on", "off"] = Field(
        "auto", description="Faust's table recovery check; auto: off on the embedded broker only"
    )
    # How long the worker's fetch may wait for records. Real Kafka answers as soon as records
    # arrive, so this only bounds idle polling there; the embedded broker holds the fetch for
    # the whole wait, so it bounds decision latency (streams/transport.py).
    fetch_max_wait_ms: int = Field(
        default=20, ge=1, le=30_000, description="longest wait of a worker's fetch for records"
    )
    audit_decisions: bool = Field(
        True,
        description="also publish every decision to audit.decisions, keyed by decision_id "
        "(false where the retention of escalation.decisions is enough: saves one send a turn)",
    )
    max_turn_bytes: int = Field(
        default=64_000, ge=1, description="larger turn events are dead-lettered (too_large)"
    )
    delivery_timeout_seconds: float = Field(
        default=30.0,
        gt=0,
        description="a handoff no sink acknowledged (delivered) in this time is re-published",
    )
    max_delivery_attempts: int = Field(
        default=3,
        ge=1,
        le=20,
        description="publications of a handoff before it is failed and the customer told",
    )
    accept_timeout_seconds: float = Field(
        default=300.0,
        gt=0,
        description="a delivered handoff no human accepted in this time is re-routed to the "
        "queue's overflow, or the customer is told and it keeps waiting",
    )
    metrics_token: SecretStr | None = Field(
        None,
        description="bearer token Prometheus must send to GET /metrics (never printed); unset: "
        "/metrics is open, so keep the ops port on the cluster network (/livez and /readyz "
        "stay open for probes: they reveal no data)",
    )
    intake_token: SecretStr | None = Field(
        None, description="bearer token of POST /v1/handoff-events (never printed)"
    )
    intake_hmac_secret: SecretStr | None = Field(
        None,
        description="HMAC-SHA256 key for X-Warmhandoff-Signature on POST /v1/handoff-events "
        "(never printed); with neither this nor the token the route is off (404)",
    )
    intake_max_body_bytes: int = Field(
        default=65_536, ge=1, description="larger intake bodies get 413"
    )
    intake_rate_per_second: float = Field(
        default=50.0, gt=0, description="intake requests per second per client address (429)"
    )
    intake_burst: int = Field(
        default=100, ge=1, description="intake requests a client may send at once before 429"
    )
    log_format: Literal["auto", "json", "console"] = Field(
        "auto", description="auto: JSON when stderr is not a terminal"
    )
    log_level: LogLevel = Field("INFO", description="DEBUG, INFO, WARNING, ERROR or CRITICAL")
    # --- the learner (`warmhandoff learner`, streams/learning/) ---
    learner_survey_idle_seconds: float = Field(
        default=1800.0,
        gt=0,
        description="learner: a conversation the bot kept with no turn for this long is over "
        "and the bot is directed to ask the one-question survey",
    )
    learner_survey_sample: float = Field(
        default=1.0,
        ge=0.0,
        le=1.0,
        description="learner: share of conversations the bot kept that get the survey, chosen "
        "by conversation id (0: none)",
    )
    # --- CRM sinks (`warmhandoff sink KIND`, streams/sinks/) ---
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
    sink_salesforce_ca_file: Path | None = Field(
        None, description="Salesforce sink: CA bundle to verify Salesforce (default: certifi's)"
    )

    @field_validator("log_level", mode="before")
    @classmethod
    def _upper_log_level(cls, value: object) -> object:
        return value.upper() if isinstance(value, str) else value

    @field_validator("bootstrap_servers")
    @classmethod
    def _parseable_bootstrap(cls, value: str) -> str:
        bootstrap_hosts(value)
        return value

    @model_validator(mode="after")
    def _security_is_consistent(self) -> Settings:
        # Refuse half-configured security: a typo must not silently connect in plaintext.
        sasl = self.security_protocol.startswith("SASL_")
        tls = self.security_protocol in ("SSL", "SASL_SSL")
        if sasl and (not self.sasl_username or self.sasl_password is None):
            raise ValueError(
                f"security_protocol {self.security_protocol} needs sasl_username and sasl_password"
            )
        if not sasl and (self.sasl_username or self.sasl_password is not None):
            raise ValueError(
                f"sasl_username/sasl_password are set but security_protocol is "
                f"{self.security_protocol}: use SASL_PLAINTEXT or SASL_SSL"
            )
        if not tls and (self.ssl_cafile or self.ssl_certfile or self.ssl_keyfile):
            raise ValueError(
                f"ssl_* files are set but security_protocol is {self.security_protocol}: "
                "use SSL or SASL_SSL"
            )
        return self


def reference_table() -> str:
    """The configuration reference (README, "Operations") rendered from the model."""
    rows = ["| variable | default | meaning |", "|---|---|---|"]
    for name, field in Settings.model_fields.items():
        default = field.default
        shown = "" if default is None else f"`{default}`"
        rows.append(f"| `{ENV_PREFIX}{name.upper()}` | {shown} | {field.description or ''} |")
    return "\n".join(rows)


def load_settings(**overrides: Any) -> Settings:
    """Read settings from the environment (plus overrides), raising ConfigError when invalid."""
    try:
        return Settings(**overrides)
    except ValidationError as exc:
        problems = []
        for err in exc.errors():
            field = ".".join(str(part) for part in err["loc"])
            message = err["msg"].removeprefix("Value error, ")
            problems.append(f"{ENV_PREFIX}{field.upper()}: {message}" if field else message)
        raise ConfigError("; ".join(problems)) from None


def bootstrap_hosts(bootstrap: str) -> list[tuple[str, int]]:
    """Split `host:port,host2:port2` into (host, port) pairs; the port defaults to 9092."""
    hosts: list[tuple[str, int]] = []
    for raw in bootstrap.split(","):
        item = raw.strip()
        if not item:
            continue
        if item.startswith("["):  # [::1]:9092
            host, _, rest = item[1:].partition("]")
            port_text = rest.removeprefix(":")
        elif item.count(":") == 1:
            host, port_text = item.split(":")
        else:
            host, port_text = item, ""
        if not host or "/" in host:
            raise ValueError(f"bad bootstrap server {item!r}: expected host:port")
        try:
            port = int(port_text) if port_text else DEFAULT_KAFKA_PORT
        except ValueError:
            raise ValueError(f"bad port in bootstrap server {item!r}") from None
        if not 0 < port < 65536:
            raise ValueError(f"bad port in bootstrap server {item!r}")
        hosts.append((host, port))
    if not hosts:
        raise ValueError("bootstrap_servers is empty")
    return hosts


def host_port(host: str, port: int) -> str:
    """`host:port`, with IPv6 hosts in brackets."""
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def ssl_context(settings: Settings) -> ssl.SSLContext | None:
    """The TLS context the settings ask for, or None when the protocol has no TLS."""
    if settings.security_protocol not in ("SSL", "SASL_SSL"):
        return None
    try:
        context: ssl.SSLContext = create_ssl_context(
            cafile=settings.ssl_cafile,
            certfile=settings.ssl_certfile,
            keyfile=settings.ssl_keyfile,
        )
    except (OSError, ssl.SSLError) as exc:
        raise ConfigError(f"cannot load the TLS files from settings: {exc}") from None
    return context


def aiokafka_kwargs(settings: Settings) -> dict[str, Any]:
    """Connection keyword arguments for aiokafka producers, consumers and admin clients."""
    kwargs: dict[str, Any] = {
        "bootstrap_servers": [
            host_port(host, port) for host, port in bootstrap_hosts(settings.bootstrap_servers)
        ],
        "security_protocol": settings.security_protocol,
    }
    context = ssl_context(settings)
    if context is not None:
        kwargs["ssl_context"] = context
    if settings.security_protocol.startswith("SASL_"):
        assert settings.sasl_password is not None  # the model validator guarantees it
        kwargs["sasl_mechanism"] = settings.sasl_mechanism
        # aiokafka names these "plain" but uses them for SCRAM too.
        kwargs["sasl_plain_username"] = settings.sasl_username
        kwargs["sasl_plain_password"] = settings.sasl_password.get_secret_value()
    return kwargs


def faust_broker_settings(settings: Settings) -> dict[str, Any]:
    """`broker` URL and, when security is configured, `broker_credentials` for faust.App."""
    import faust  # deferred: importing faust is slow and only workers need it

    hosts = ";".join(
        host_port(host, port) for host, port in bootstrap_hosts(settings.bootstrap_servers)
    )
    result: dict[str, Any] = {"broker": f"kafka://{hosts}"}
    context = ssl_context(settings)
    if settings.security_protocol.startswith("SASL_"):
        assert settings.sasl_password is not None  # the model validator guarantees it
        result["broker_credentials"] = faust.SASLCredentials(
            username=settings.sasl_username,
            password=settings.sasl_password.get_secret_value(),
            ssl_context=context,  # present makes Faust use SASL_SSL, absent SASL_PLAINTEXT
            mechanism=settings.sasl_mechanism,
        )
    elif context is not None:
        result["broker_credentials"] = faust.SSLCredentials(context)
    return result
