"""Names the deploy files share with the code: every metric the dashboard and the alerts query
is one streams/runtime/metrics.py registers, every WARMHANDOFF_* variable is a settings field, and the
environments compose and Kubernetes give the containers load as valid settings."""

from __future__ import annotations

import os
import re

import pytest

from warmhandoff.streams.config.connection import ENV_PREFIX, ConnectionSettings, load_settings
from warmhandoff.streams.config.desk import DeskSettings
from warmhandoff.streams.config.learner import LearnerSettings
from warmhandoff.streams.config.reference import SECTIONS
from warmhandoff.streams.config.router import RouterSettings
from warmhandoff.streams.config.service import ServiceSettings
from warmhandoff.streams.config.sink import SinkSettings
from warmhandoff.streams.config.worker import WorkerSettings
from warmhandoff.streams.runtime.metrics import REGISTRY

# The learner's and the desk's metrics are declared beside them, not in metrics.py: importing
# the modules registers them, so the dashboard and alert checks below see every process's.
from warmhandoff.streams.services import learner as learner_runner
from warmhandoff.streams.services.desk import feed as desk_feed
from warmhandoff.streams.services.desk.process import desk_secret
from warmhandoff.streams.sinks.factory import build_sink

from .deployfiles import (
    COMPOSE,
    DEPLOY,
    PROMETHEUS_CONFIG,
    alert_rules,
    dashboard,
    dashboard_panels,
    k8s_object,
    k8s_objects,
    load_yaml,
    metric_names_in,
)

SUFFIXES = {"counter": ("_total",), "histogram": ("", "_bucket", "_sum", "_count")}


def registered_metric_names() -> set[str]:
    """The series names the registry exposes: counters with _total, histograms' parts."""
    names = set()
    for family in REGISTRY.collect():
        for suffix in SUFFIXES.get(family.type, ("",)):
            names.add(family.name + suffix)
    return names


def dashboard_expressions() -> list[str]:
    """Every PromQL expression of the dashboard: panel targets and template variable queries."""
    exprs = [target["expr"] for panel in dashboard_panels() for target in panel["targets"]]
    for variable in dashboard()["templating"]["list"]:
        query = variable.get("query")
        if isinstance(query, dict):
            exprs.append(query["query"])
    return exprs


def test_the_registry_is_the_one_the_names_come_from() -> None:
    names = registered_metric_names()
    assert "warmhandoff_turns_processed_total" in names
    assert "warmhandoff_decision_latency_seconds_bucket" in names
    # The learner's, registered by importing its module.
    assert learner_runner.EXAMPLES._name == "warmhandoff_learning_examples"
    assert {"warmhandoff_learning_examples_total", "warmhandoff_kpi_csat_score"} <= names
    assert desk_feed.SKIPPED._name == "warmhandoff_desk_skipped_records"
    assert "warmhandoff_desk_skipped_records_total" in names


def scrape_jobs() -> set[str]:
    """The scrape job names of the compose Prometheus."""
    return {job["job_name"] for job in load_yaml(PROMETHEUS_CONFIG)["scrape_configs"]}


def pod_monitor_jobs() -> set[str]:
    """The job names the Kubernetes PodMonitors give their targets (from the jobLabel)."""
    jobs = set()
    for _, obj in k8s_objects():
        if obj["kind"] == "PodMonitor":
            jobs.add(obj["spec"]["selector"]["matchLabels"][obj["spec"]["jobLabel"]])
    return jobs


def jobs_in(expr: str) -> set[str]:
    """The job names a PromQL expression selects by equality."""
    return set(re.findall(r'\bjob="([^"]+)"', expr))


def test_alert_rules_query_only_registered_metrics() -> None:
    known = registered_metric_names()
    for rule in alert_rules():
        used = metric_names_in(rule["expr"])
        # A warmhandoff metric, or the scrape health of a warmhandoff job.
        assert used or jobs_in(rule["expr"]), f"{rule['alert']} queries nothing of warmhandoff"
        assert used <= known, f"{rule['alert']}: unknown metrics {sorted(used - known)}"


def test_every_job_an_alert_or_the_dashboard_selects_is_scraped_in_compose_and_kubernetes() -> None:
    selected = {job for rule in alert_rules() for job in jobs_in(rule["expr"])}
    for expr in dashboard_expressions():
        selected |= jobs_in(expr)
        for alternatives in re.findall(r'\bjob=~"([^"]+)"', expr):
            selected |= set(alternatives.split("|"))
    assert {"warmhandoff", "warmhandoff-router", "warmhandoff-learner", "warmhandoff-desk"} <= (
        selected
    )
    assert selected <= scrape_jobs(), f"not scraped in compose: {selected - scrape_jobs()}"
    assert selected <= pod_monitor_jobs(), f"no PodMonitor: {selected - pod_monitor_jobs()}"
    # Runbooks name jobs too (`up{job="warmhandoff-sink"}`).
    for rule in alert_rules():
        described = jobs_in(rule["annotations"]["description"])
        assert described <= scrape_jobs() & pod_monitor_jobs(), rule["alert"]


def test_the_dashboard_queries_only_registered_metrics() -> None:
    known = registered_metric_names()
    used: set[str] = set()
    for expr in dashboard_expressions():
        used |= metric_names_in(expr)
    assert used - known == set(), f"unknown metrics: {sorted(used - known)}"


def test_the_dashboard_shows_every_registered_metric() -> None:
    # Not required of a dashboard in general, but this one is the catalogue's view: a metric
    # added to streams/runtime/metrics.py without a panel is probably forgotten.
    used: set[str] = set()
    for expr in dashboard_expressions():
        used |= metric_names_in(expr)
    families = {re.sub(r"_(total|bucket|sum|count)$", "", name) for name in used}
    missing = {family.name for family in REGISTRY.collect()} - families
    assert not missing, f"metrics with no panel: {sorted(missing)}"


def test_every_warmhandoff_variable_in_deploy_is_a_settings_field() -> None:
    fields = {ENV_PREFIX + name.upper() for _, kind in SECTIONS for name in kind.model_fields}
    used: dict[str, set[str]] = {}
    for path in sorted(DEPLOY.rglob("*")):
        if path.is_file() and path.suffix in {"", ".yaml", ".yml", ".md", ".json", ".py"}:
            for name in re.findall(r"\bWARMHANDOFF_[A-Z0-9_]+", path.read_text("utf-8")):
                used.setdefault(name, set()).add(str(path.relative_to(DEPLOY)))
    # README shorthand such as `_SASL_USERNAME` is not matched (no prefix); a bare prefix is.
    used.pop(ENV_PREFIX, None)
    unknown = {name: sorted(files) for name, files in used.items() if name not in fields}
    assert not unknown, f"not settings fields: {unknown}"
    assert {"WARMHANDOFF_BOOTSTRAP_SERVERS", "WARMHANDOFF_DATA_DIR"} <= set(used)


def settings_from(
    env: dict[str, str], monkeypatch: pytest.MonkeyPatch, kind: type[ConnectionSettings]
) -> ConnectionSettings:
    """Settings loaded from exactly these WARMHANDOFF_* variables, as a container sees them."""
    for name in os.environ:
        if name.startswith(ENV_PREFIX):
            monkeypatch.delenv(name)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    return load_settings(kind)


#: The settings class each `warmhandoff` command reads.
PROCESS_SETTINGS: dict[str, type[ConnectionSettings]] = {
    "topics": ServiceSettings,
    "worker": WorkerSettings,
    "router": RouterSettings,
    "sink": SinkSettings,
    "learner": LearnerSettings,
    "desk": DeskSettings,
}


def command_of(definition: dict[str, object]) -> str:
    """The warmhandoff command a compose service runs."""
    command = definition.get("command") or ["worker"]
    assert isinstance(command, list)
    return str(command[0])


def interpolate(value: str, host: dict[str, str]) -> str:
    """Compose's `${NAME:-default}` interpolation from the host's environment."""
    return re.sub(r"\$\{([A-Z0-9_]+):-([^}]*)\}", lambda m: host.get(m.group(1), m.group(2)), value)


@pytest.mark.parametrize(
    "service",
    ["topics", "worker-1", "worker-2", "router", "sink", "sink-webhook", "learner", "desk"],
)
def test_compose_environments_load_as_settings(
    service: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    definition = load_yaml(COMPOSE)["services"][service]
    host = {
        "WARMHANDOFF_SINK_WEBHOOK_URL": "https://crm.example.com/hooks/warmhandoff",
        "WARMHANDOFF_SINK_WEBHOOK_SECRET": "from-the-host",
    }
    env = {k: interpolate(str(v), host) for k, v in definition["environment"].items()}
    settings = settings_from(env, monkeypatch, PROCESS_SETTINGS[command_of(definition)])
    assert settings.bootstrap_servers == "kafka:19092"
    assert isinstance(settings, ServiceSettings) and settings.embedded_broker == "never"
    command = definition.get("command", [])
    if command[:1] == ["sink"]:
        # The sink kind the service runs finds every setting it needs.
        assert isinstance(settings, SinkSettings)
        assert build_sink(command[1], settings).kind == command[1]
    if command[:1] == ["desk"]:
        # The placeholder secret starts a laptop stack; the host's own replaces it.
        assert isinstance(settings, DeskSettings)
        assert desk_secret(settings).startswith("public-placeholder")
        assert settings.desk_secure_cookie is False
        host["WARMHANDOFF_DESK_SECRET"] = "h" * 64
        env = {k: interpolate(str(v), host) for k, v in definition["environment"].items()}
        from_host = settings_from(env, monkeypatch, DeskSettings)
        assert isinstance(from_host, DeskSettings) and desk_secret(from_host) == "h" * 64


@pytest.mark.parametrize(
    ("kind", "name"),
    [
        ("StatefulSet", "warmhandoff-worker"),
        ("Deployment", "warmhandoff-router"),
        ("Deployment", "warmhandoff-sink-webhook"),
        ("Deployment", "warmhandoff-learner"),
        ("Deployment", "warmhandoff-desk"),
        ("Job", "warmhandoff-topics"),
    ],
)
def test_kubernetes_environments_load_as_settings(
    kind: str, name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    (container,) = k8s_object(kind, name)["spec"]["template"]["spec"]["containers"]
    env: dict[str, str] = {}
    for source in container.get("envFrom", []):
        env.update(k8s_object("ConfigMap", source["configMapRef"]["name"])["data"])
    for item in container.get("env", []):
        # Secret values are not in the repository: stand in a placeholder for each (as long
        # as the desk's secret must be).
        env[item["name"]] = item.get("value", "from-a-secret-" * 4)
    settings = settings_from(env, monkeypatch, PROCESS_SETTINGS[container["args"][0]])
    assert settings.security_protocol.startswith("SASL_")
    assert settings.sasl_password is not None
    if container["args"][:1] == ["sink"]:
        assert build_sink(container["args"][1], settings).kind == container["args"][1]
    if container["args"][:1] == ["desk"]:
        assert isinstance(settings, DeskSettings)
        assert desk_secret(settings) and settings.desk_secure_cookie is True
