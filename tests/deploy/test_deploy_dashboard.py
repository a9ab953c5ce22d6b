"""The Grafana dashboard: valid JSON, panels that query something, the issue's views present,
PromQL that promtool parses, and the compose provisioning that loads it."""

from __future__ import annotations

from pathlib import Path

import yaml

from .deployfiles import (
    DASHBOARD,
    GRAFANA_PROVISIONING,
    dashboard,
    dashboard_panels,
    load_yaml,
    metric_names_in,
    run_promtool,
)

# Grafana macros and template variables, replaced by values promtool can parse.
MACROS = {"$__rate_interval": "5m", "$__interval": "1m", "$queue": ".*"}


def test_the_dashboard_has_an_id_a_datasource_variable_and_panels() -> None:
    board = dashboard()
    assert board["uid"] == "warmhandoff"
    assert board["title"]
    variables = {v["name"]: v for v in board["templating"]["list"]}
    assert variables["datasource"]["type"] == "datasource"
    assert variables["datasource"]["query"] == "prometheus"
    assert len(dashboard_panels()) >= 10


def test_every_panel_queries_through_the_datasource_variable() -> None:
    ids = set()
    for panel in dashboard_panels():
        assert panel["id"] not in ids, f"duplicate panel id {panel['id']}"
        ids.add(panel["id"])
        assert panel["targets"], f"panel {panel['title']!r} has no targets"
        assert panel["datasource"]["uid"] == "${datasource}"
        for target in panel["targets"]:
            assert target["expr"].strip(), f"panel {panel['title']!r} has an empty query"
            assert target["refId"]
        grid = panel["gridPos"]
        assert grid["x"] >= 0 and grid["x"] + grid["w"] <= 24, panel["title"]


def test_panels_do_not_overlap() -> None:
    taken: dict[tuple[int, int], str] = {}
    for panel in dashboard()["panels"]:
        grid = panel["gridPos"]
        for x in range(grid["x"], grid["x"] + grid["w"]):
            for y in range(grid["y"], grid["y"] + grid["h"]):
                assert (x, y) not in taken, f"{panel['title']!r} overlaps {taken[(x, y)]!r}"
                taken[(x, y)] = panel["title"]


def test_the_issue_s_views_are_on_the_dashboard() -> None:
    exprs = " ".join(t["expr"] for p in dashboard_panels() for t in p["targets"])
    for needle in (
        "warmhandoff_turns_processed_total",  # handoff flow: turns/s
        "sum by (action) (rate(warmhandoff_decisions_total",  # decisions by action
        "sum by (queue) (rate(warmhandoff_handoffs_requested_total",  # handoffs by queue
        "histogram_quantile(0.5, sum by (le) (rate(warmhandoff_decision_latency_seconds_bucket",
        "histogram_quantile(0.99, sum by (le) (rate(warmhandoff_decision_latency_seconds_bucket",
        "sum by (trigger) (rate(warmhandoff_escalations_total",  # escalations by trigger
        "warmhandoff_queue_service_level_ratio",  # service level ...
        "warmhandoff_queue_service_level_target_ratio",  # ... vs target
        "warmhandoff_queue_oldest_wait_seconds",
        "warmhandoff_queue_waiting",
        "sum by (reason, stage) (rate(warmhandoff_dead_letters_total",  # dead letters by reason
        "warmhandoff_consumer_lag_messages",
        'up{job="warmhandoff"}',
        "warmhandoff_worker_ready",
        'up{job="warmhandoff-learner"}',  # the learner: up, labelled examples, KPIs
        "sum by (label) (rate(warmhandoff_learning_examples_total",
        "warmhandoff_kpi_ratio",
        'up{job="warmhandoff-desk"}',  # the desk: replicas up, records it skipped
        "sum by (topic, reason) (rate(warmhandoff_desk_skipped_records_total",
    ):
        assert needle in exprs, f"no panel queries {needle}"


def test_promtool_parses_every_dashboard_query(tmp_path: Path) -> None:
    # Each query becomes a recording rule so `promtool check rules` parses it.
    rules = []
    for panel in dashboard_panels():
        for target in panel["targets"]:
            expr = target["expr"]
            for macro, value in MACROS.items():
                expr = expr.replace(macro, value)
            assert "$" not in expr, f"unknown Grafana variable in {expr!r}"
            rules.append(
                {"record": f"dashboard:panel{panel['id']}:{target['refId']}", "expr": expr}
            )
    path = tmp_path / "dashboard-queries.yml"
    path.write_text(yaml.safe_dump({"groups": [{"name": "dashboard", "rules": rules}]}), "utf-8")
    done = run_promtool("check", "rules", str(path), cwd=tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr


def test_grafana_provisioning_loads_the_dashboard_from_prometheus() -> None:
    sources = load_yaml(GRAFANA_PROVISIONING / "datasources" / "prometheus.yaml")
    (source,) = sources["datasources"]
    assert source["type"] == "prometheus"
    assert source["url"] == "http://prometheus:9090"
    assert source["isDefault"] is True
    providers = load_yaml(GRAFANA_PROVISIONING / "dashboards" / "warmhandoff.yaml")
    (provider,) = providers["providers"]
    assert provider["type"] == "file"
    # compose.yaml mounts the dashboard into the provider's folder.
    compose = load_yaml(DASHBOARD.parents[1] / "compose.yaml")
    mounts = compose["services"]["grafana"]["volumes"]
    target = f"{provider['options']['path']}/{DASHBOARD.name}"
    assert f"./grafana/{DASHBOARD.name}:{target}:ro" in mounts


def test_template_variable_queries_name_known_metrics() -> None:
    for variable in dashboard()["templating"]["list"]:
        if variable["type"] == "query":
            assert metric_names_in(variable["query"]["query"]), variable["name"]
