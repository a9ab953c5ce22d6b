"""How every warmhandoff process and bot reaches Kafka: the connection settings and the one
builder of Kafka client options.

`bootstrap_servers` is the one setting that points everything (worker, CLI, bots, tests) at a
real Kafka cluster; TLS and SASL settings sit beside it. Settings models are frozen and secrets
are `SecretStr`, so settings can be logged or shown without leaking them. Each long-running
process reads its own settings class (streams/config/), all of which extend this one.
"""

from __future__ import annotations

import re
import ssl
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, TypeVar

from aiokafka.helpers import create_ssl_context
from pydantic import Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict, SettingsError

from warmhandoff.streams.contract.errors import ConfigError
from warmhandoff.streams.contract.topics import Topics, load_topics

ENV_PREFIX = "WARMHANDOFF_"
DEFAULT_KAFKA_PORT = 9092

SecurityProtocol = Literal["PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL"]
SaslMechanism = Literal["PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"]

S = TypeVar("S", bound="ConnectionSettings")


class ConnectionSettings(BaseSettings):
    """The cluster, its security and the topic names: all a Kafka client of warmhandoff needs."""

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
    topics_file: Path | None = Field(
        None, description="topic declarations (default: the topics.yaml shipped in the package)"
    )
    topic_prefix: str = Field(
        default="",
        pattern=r"^[A-Za-z0-9._-]*$",
        max_length=100,
        description="prepended to every topic name and the app id (tenants, tests)",
    )
    topic_replication_factor: int | None = Field(
        None,
        ge=1,
        le=32,
        description="replication factor of every topic, instead of topics.yaml's (production: "
        "3); every process checks the topics against it, so set it for all of them",
    )
    app_id: str = Field(
        default="warmhandoff",
        pattern=r"^[A-Za-z0-9._-]+$",
        max_length=100,
        description="Faust app id: the consumer group and the changelog topic names",
    )

    @field_validator("bootstrap_servers")
    @classmethod
    def _parseable_bootstrap(cls, value: str) -> str:
        bootstrap_hosts(value)
        return value

    @model_validator(mode="after")
    def _security_is_consistent(self) -> ConnectionSettings:
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


def load_settings(kind: type[S], **overrides: Any) -> S:
    """Read one settings class from the environment (plus overrides); ConfigError when invalid."""
    try:
        return kind(**overrides)
    except SettingsError as exc:  # a JSON-valued variable that is not JSON
        found = re.search(r'field "(\w+)"', str(exc))
        name = f"{ENV_PREFIX}{found.group(1).upper()}" if found else "a setting"
        raise ConfigError(f"{name}: cannot parse its value (expected JSON)") from None
    except ValidationError as exc:
        problems = []
        for err in exc.errors():
            field = ".".join(str(part) for part in err["loc"])
            message = err["msg"].removeprefix("Value error, ")
            problems.append(f"{ENV_PREFIX}{field.upper()}: {message}" if field else message)
        raise ConfigError("; ".join(problems)) from None


def derive(kind: type[S], base: ConnectionSettings, **overrides: Any) -> S:
    """Settings of another process that share `base`'s values for the fields both declare."""
    shared = {
        name: getattr(base, name) for name in kind.model_fields if name in type(base).model_fields
    }
    return kind(**{**shared, **overrides})


def topics_for(settings: ConnectionSettings) -> Topics:
    """The topics file, prefix and app id the settings name."""
    return load_topics(
        settings.topics_file,
        prefix=settings.topic_prefix,
        app_id=settings.app_id,
        replication_factor=settings.topic_replication_factor,
    )


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


@dataclass(frozen=True, slots=True)
class ClientOptions:
    """What every Kafka client of warmhandoff is given, whichever library it is."""

    servers: tuple[str, ...]  # host:port, IPv6 in brackets
    security_protocol: SecurityProtocol
    ssl_context: ssl.SSLContext | None
    sasl_mechanism: SaslMechanism | None  # None: no SASL
    sasl_username: str | None
    sasl_password: str | None

    def aiokafka(self) -> dict[str, Any]:
        """Keyword arguments for aiokafka producers, consumers and admin clients."""
        kwargs: dict[str, Any] = {
            "bootstrap_servers": list(self.servers),
            "security_protocol": self.security_protocol,
        }
        if self.ssl_context is not None:
            kwargs["ssl_context"] = self.ssl_context
        if self.sasl_mechanism is not None:
            kwargs["sasl_mechanism"] = self.sasl_mechanism
            # aiokafka names these "plain" but uses them for SCRAM too.
            kwargs["sasl_plain_username"] = self.sasl_username
            kwargs["sasl_plain_password"] = self.sasl_password
        return kwargs


def client_options(settings: ConnectionSettings) -> ClientOptions:
    """The one builder of Kafka client options (TLS context, SASL) from connection settings."""
    sasl = settings.security_protocol.startswith("SASL_")
    if sasl:
        assert settings.sasl_password is not None  # the model validator guarantees it
    return ClientOptions(
        servers=tuple(host_port(h, p) for h, p in bootstrap_hosts(settings.bootstrap_servers)),
        security_protocol=settings.security_protocol,
        ssl_context=ssl_context(settings),
        sasl_mechanism=settings.sasl_mechanism if sasl else None,
        sasl_username=settings.sasl_username if sasl else None,
        sasl_password=settings.sasl_password.get_secret_value()
        if sasl and settings.sasl_password is not None
        else None,
    )


def aiokafka_kwargs(settings: ConnectionSettings) -> dict[str, Any]:
    """Connection keyword arguments for aiokafka producers, consumers and admin clients."""
    return client_options(settings).aiokafka()


def ssl_context(settings: ConnectionSettings) -> ssl.SSLContext | None:
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
