"""Settings: environment, validation, secrets, and the aiokafka / Faust connection options."""

from __future__ import annotations

import shutil
import ssl
import subprocess
from pathlib import Path

import faust
import pytest
from faust.types.auth import AuthProtocol, SASLMechanism
from pydantic import ValidationError

from warmhandoff.streams.config.connection import aiokafka_kwargs, bootstrap_hosts, load_settings
from warmhandoff.streams.config.learner import LearnerSettings
from warmhandoff.streams.config.router import RouterSettings
from warmhandoff.streams.config.sink import SinkSettings
from warmhandoff.streams.config.worker import WorkerSettings
from warmhandoff.streams.contract.errors import ConfigError
from warmhandoff.streams.runtime.faust_app import faust_broker_settings

PASSWORD = "s3cr3t-do-not-print"


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    # The developer's or CI's WARMHANDOFF_* variables must not leak into these tests.
    import os

    for name in list(os.environ):
        if name.upper().startswith("WARMHANDOFF_"):
            monkeypatch.delenv(name)


@pytest.fixture(scope="module")
def tls_files(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A throwaway self-signed certificate and key, made with the openssl command."""
    if shutil.which("openssl") is None:
        pytest.skip("openssl command not available")
    folder = tmp_path_factory.mktemp("tls")
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
         "-nodes", "-keyout", str(key), "-out", str(cert), "-days", "2", "-subj", "/CN=test"],
        check=True, capture_output=True, timeout=30,
    )  # fmt: skip
    return cert, key


def test_defaults_point_at_localhost() -> None:
    settings = WorkerSettings()
    assert settings.bootstrap_servers == "localhost:9092"
    assert settings.security_protocol == "PLAINTEXT"
    assert settings.embedded_broker == "auto"
    assert settings.topic_prefix == ""
    assert settings.app_id == "warmhandoff"
    assert aiokafka_kwargs(settings) == {
        "bootstrap_servers": ["localhost:9092"],
        "security_protocol": "PLAINTEXT",
    }
    assert faust_broker_settings(settings) == {"broker": "kafka://localhost:9092"}


def test_environment_with_prefix(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WARMHANDOFF_BOOTSTRAP_SERVERS", "k1:9093,k2:9094")
    monkeypatch.setenv("WARMHANDOFF_TOPIC_PREFIX", "tenant-a.")
    monkeypatch.setenv("WARMHANDOFF_LOG_LEVEL", "debug")
    monkeypatch.setenv("WARMHANDOFF_WEB_PORT", "7000")
    settings = WorkerSettings()
    assert settings.topic_prefix == "tenant-a."
    assert settings.log_level == "DEBUG"
    assert settings.web_port == 7000
    assert faust_broker_settings(settings)["broker"] == "kafka://k1:9093;k2:9094"
    assert aiokafka_kwargs(settings)["bootstrap_servers"] == ["k1:9093", "k2:9094"]


def test_settings_are_frozen() -> None:
    settings = WorkerSettings()
    with pytest.raises(ValidationError):
        settings.app_id = "other"


@pytest.mark.parametrize(
    ("text", "hosts"),
    [
        ("localhost:9092", [("localhost", 9092)]),
        ("a:1, b:2", [("a", 1), ("b", 2)]),
        ("kafka", [("kafka", 9092)]),
        ("[::1]:9093", [("::1", 9093)]),
    ],
)
def test_bootstrap_hosts(text: str, hosts: list[tuple[str, int]]) -> None:
    assert bootstrap_hosts(text) == hosts


@pytest.mark.parametrize("text", ["", " , ", "host:notaport", "host:70000", "kafka://host:9092"])
def test_bad_bootstrap_is_a_config_error(text: str) -> None:
    with pytest.raises(ConfigError, match="WARMHANDOFF_BOOTSTRAP_SERVERS"):
        load_settings(WorkerSettings, bootstrap_servers=text)


def test_ipv6_bootstrap_is_bracketed() -> None:
    settings = WorkerSettings(bootstrap_servers="[::1]:9093")
    assert aiokafka_kwargs(settings)["bootstrap_servers"] == ["[::1]:9093"]
    assert faust_broker_settings(settings)["broker"] == "kafka://[::1]:9093"


def test_sasl_ssl_with_scram(tls_files: tuple[Path, Path]) -> None:
    cert, key = tls_files
    settings = WorkerSettings(
        bootstrap_servers="broker.example.com:9096",
        security_protocol="SASL_SSL",
        sasl_mechanism="SCRAM-SHA-512",
        sasl_username="warmhandoff",
        sasl_password=PASSWORD,
        ssl_cafile=cert,
        ssl_certfile=cert,
        ssl_keyfile=key,
    )
    kwargs = aiokafka_kwargs(settings)
    assert kwargs["security_protocol"] == "SASL_SSL"
    assert kwargs["sasl_mechanism"] == "SCRAM-SHA-512"
    assert kwargs["sasl_plain_username"] == "warmhandoff"
    assert kwargs["sasl_plain_password"] == PASSWORD
    assert isinstance(kwargs["ssl_context"], ssl.SSLContext)
    assert kwargs["ssl_context"].check_hostname

    faust_settings = faust_broker_settings(settings)
    credentials = faust_settings["broker_credentials"]
    assert faust_settings["broker"] == "kafka://broker.example.com:9096"
    assert isinstance(credentials, faust.SASLCredentials)
    assert credentials.protocol == AuthProtocol.SASL_SSL
    assert credentials.mechanism == SASLMechanism.SCRAM_SHA_512
    assert credentials.username == "warmhandoff"
    assert credentials.password == PASSWORD
    assert isinstance(credentials.ssl_context, ssl.SSLContext)


def test_sasl_plaintext_has_no_tls() -> None:
    settings = WorkerSettings(
        security_protocol="SASL_PLAINTEXT",
        sasl_username="u",
        sasl_password=PASSWORD,
    )
    kwargs = aiokafka_kwargs(settings)
    assert "ssl_context" not in kwargs
    assert kwargs["sasl_mechanism"] == "PLAIN"
    credentials = faust_broker_settings(settings)["broker_credentials"]
    assert isinstance(credentials, faust.SASLCredentials)
    assert credentials.protocol == AuthProtocol.SASL_PLAINTEXT
    assert credentials.mechanism == SASLMechanism.PLAIN


def test_ssl_with_client_certificate(tls_files: tuple[Path, Path]) -> None:
    cert, key = tls_files
    settings = WorkerSettings(
        security_protocol="SSL", ssl_cafile=cert, ssl_certfile=cert, ssl_keyfile=key
    )
    kwargs = aiokafka_kwargs(settings)
    assert kwargs["security_protocol"] == "SSL"
    assert isinstance(kwargs["ssl_context"], ssl.SSLContext)
    assert "sasl_mechanism" not in kwargs
    credentials = faust_broker_settings(settings)["broker_credentials"]
    assert isinstance(credentials, faust.SSLCredentials)
    assert credentials.protocol == AuthProtocol.SSL
    assert isinstance(credentials.context, ssl.SSLContext)


def test_ssl_with_system_trust_store_needs_no_files() -> None:
    kwargs = aiokafka_kwargs(WorkerSettings(security_protocol="SSL"))
    assert isinstance(kwargs["ssl_context"], ssl.SSLContext)


def test_missing_tls_file_is_a_config_error(tmp_path: Path) -> None:
    settings = WorkerSettings(security_protocol="SSL", ssl_cafile=tmp_path / "nope.pem")
    with pytest.raises(ConfigError, match="TLS files"):
        aiokafka_kwargs(settings)


@pytest.mark.parametrize(
    ("overrides", "fragment"),
    [
        ({"security_protocol": "SASL_SSL", "sasl_username": "u"}, "needs sasl_username"),
        ({"sasl_username": "u", "sasl_password": "p"}, "use SASL_PLAINTEXT or SASL_SSL"),
        ({"ssl_cafile": "/tmp/ca.pem"}, "use SSL or SASL_SSL"),
        ({"security_protocol": "TLS"}, "WARMHANDOFF_SECURITY_PROTOCOL"),
        ({"sasl_mechanism": "GSSAPI"}, "WARMHANDOFF_SASL_MECHANISM"),
        ({"embedded_broker": "sometimes"}, "WARMHANDOFF_EMBEDDED_BROKER"),
        ({"topic_prefix": "bad prefix"}, "WARMHANDOFF_TOPIC_PREFIX"),
    ],
)
def test_inconsistent_settings_are_one_line_config_errors(
    overrides: dict[str, str], fragment: str
) -> None:
    with pytest.raises(ConfigError, match=fragment) as caught:
        load_settings(WorkerSettings, **overrides)
    assert "\n" not in str(caught.value)


def test_password_is_never_shown() -> None:
    settings = WorkerSettings(
        security_protocol="SASL_PLAINTEXT",
        sasl_username="u",
        sasl_password=PASSWORD,
    )
    for shown in (repr(settings), str(settings), settings.model_dump_json()):
        assert PASSWORD not in shown
    credentials = faust_broker_settings(settings)["broker_credentials"]
    assert PASSWORD not in repr(credentials)


def test_each_process_has_its_own_default_ops_port() -> None:
    # A worker, router, sink and learner on one host must not collide on one port.
    ports = {
        kind.__name__: kind().web_port
        for kind in (WorkerSettings, RouterSettings, SinkSettings, LearnerSettings)
    }
    assert ports == {
        "WorkerSettings": 6066,
        "RouterSettings": 6067,
        "SinkSettings": 6068,
        "LearnerSettings": 6069,
    }


def test_a_process_ignores_the_settings_of_the_others(monkeypatch: pytest.MonkeyPatch) -> None:
    # One ConfigMap may feed every process: a sink's variable does not break a worker.
    monkeypatch.setenv("WARMHANDOFF_SINK_WEBHOOK_URL", "https://crm.example.com/hook")
    monkeypatch.setenv("WARMHANDOFF_INTAKE_BURST", "7")
    assert WorkerSettings().intake_burst == 7
    assert SinkSettings().sink_webhook_url == "https://crm.example.com/hook"
    assert "sink_webhook_url" not in WorkerSettings.model_fields
    assert "intake_burst" not in SinkSettings.model_fields
