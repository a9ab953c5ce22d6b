"""Write the deploy/ files that are copies of another file, or check that they are current.

- the `runbook_url` annotation of every rule in prometheus/alerts.yml (and the expected one in
  its promtool tests, prometheus/alerts.test.yml): `<base>#alert-<alert name in lower case>`,
  the alert's runbook section in docs/operations.md; the base is RUNBOOK_BASE or
  `--runbook-base URL` (your own copy of the docs);
- k8s/prometheusrule.yaml: the Prometheus Operator's PrometheusRule carrying exactly the
  groups of prometheus/alerts.yml (the one source of the alert rules);
- k8s/policy.yaml: the policy the Kubernetes ConfigMap is generated from, a copy of the
  shipped default (streams/policy/default.yaml) with a header saying so.

    python deploy/generate.py                          # rewrite them
    python deploy/generate.py --check                  # exit 1 and name the stale files
    python deploy/generate.py --runbook-base URL [--check]

Needs only PyYAML (a project dependency); it imports nothing from the project.
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path
from typing import Any

import yaml

DEPLOY = Path(__file__).resolve().parent
ROOT = DEPLOY.parent
ALERTS = DEPLOY / "prometheus" / "alerts.yml"
ALERT_TESTS = DEPLOY / "prometheus" / "alerts.test.yml"
PROMETHEUS_RULE = DEPLOY / "k8s" / "prometheusrule.yaml"
DEFAULT_POLICY = ROOT / "streams" / "policy" / "default.yaml"
K8S_POLICY = DEPLOY / "k8s" / "policy.yaml"

#: Where the alerts' runbooks live: each alert has a section `#alert-<name>` on this page.
RUNBOOK_BASE = "https://github.com/warmhandoff/warmhandoff/blob/main/docs/operations.md"

# A rule (`- alert: X`) or a promtool test case (`alertname: X`), and its runbook annotation.
_ALERT_LINE = re.compile(r"^\s*(?:-\s+)?alert(?:name)?:\s*[\"']?([A-Za-z0-9_]+)")
_RUNBOOK_LINE = re.compile(r"^(\s*)runbook(?:_url)?:")
_ANNOTATIONS_LINE = re.compile(r"^(\s*)annotations:\s*$")

RULE_HEADER = """\
# GENERATED from deploy/prometheus/alerts.yml by `python deploy/generate.py`: edit that file
# and regenerate; tests/deploy checks the two carry the same rules. Add the label your
# Prometheus's ruleSelector wants (kube-prometheus-stack: release: <its release name>).
"""

POLICY_HEADER = """\
# The escalation policy the workers, the router, the sinks and the desk load (ConfigMap
# warmhandoff-policy, kustomization.yaml).
# GENERATED: a copy of streams/policy/default.yaml by `python deploy/generate.py`. To run
# your own policy, replace this file (check it first: warmhandoff policy check FILE).
"""


class _BlockDumper(yaml.SafeDumper):
    """A SafeDumper that writes multi-line strings (PromQL expressions) as literal blocks."""


def _str_representer(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    style = "|" if "\n" in value else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_BlockDumper.add_representer(str, _str_representer)


def runbook_url(base: str, alert: str) -> str:
    """The runbook address of one alert."""
    return f"{base}#alert-{alert.lower()}"


def with_runbooks(text: str, base: str, *, insert: bool = False) -> str:
    """The rule file (or its promtool tests) with every runbook annotation pointing at `base`.

    Edits lines rather than re-dumping the YAML, so the comments stay. With `insert`, a rule
    that has annotations but no runbook gets one.
    """
    out: list[str] = []
    alert: str | None = None
    pending: tuple[int, str] | None = None  # where to insert this rule's runbook, if missing
    for line in text.splitlines(keepends=True):
        named = _ALERT_LINE.match(line)
        if named:
            _insert(out, pending, base, alert)
            alert, pending = named.group(1), None
        runbook = _RUNBOOK_LINE.match(line)
        if runbook and alert:
            line = f"{runbook.group(1)}runbook_url: {runbook_url(base, alert)}\n"
            pending = None
        annotations = _ANNOTATIONS_LINE.match(line)
        if insert and annotations and alert:
            pending = (len(out) + 1, annotations.group(1) + "  ")
        out.append(line)
    _insert(out, pending, base, alert)
    return "".join(out)


def _insert(out: list[str], pending: tuple[int, str] | None, base: str, alert: str | None) -> None:
    """Add the runbook line a rule lacked, right under its `annotations:`."""
    if pending is not None and alert is not None:
        at, indent = pending
        out.insert(at, f"{indent}runbook_url: {runbook_url(base, alert)}\n")


def prometheus_rule(alerts_text: str) -> str:
    """The PrometheusRule manifest (text) whose spec is the rule file's groups."""
    rules = yaml.safe_load(alerts_text)
    manifest: dict[str, Any] = {
        "apiVersion": "monitoring.coreos.com/v1",
        "kind": "PrometheusRule",
        "metadata": {
            "name": "warmhandoff",
            "labels": {"app.kubernetes.io/name": "warmhandoff"},
        },
        "spec": {"groups": rules["groups"]},
    }
    body = yaml.dump(manifest, Dumper=_BlockDumper, sort_keys=False, width=100)
    return RULE_HEADER + body


def policy_copy(default_text: str) -> str:
    """The Kubernetes policy file: the shipped default behind a header."""
    return POLICY_HEADER + default_text


def expected(runbook_base: str = RUNBOOK_BASE) -> dict[Path, str]:
    """Each generated file and the text it should have."""
    alerts = with_runbooks(ALERTS.read_text("utf-8"), runbook_base, insert=True)
    return {
        ALERTS: alerts,
        ALERT_TESTS: with_runbooks(ALERT_TESTS.read_text("utf-8"), runbook_base),
        PROMETHEUS_RULE: prometheus_rule(alerts),
        K8S_POLICY: policy_copy(DEFAULT_POLICY.read_text("utf-8")),
    }


def stale(runbook_base: str = RUNBOOK_BASE) -> list[Path]:
    """The generated files whose text differs from what generate would write."""
    return [
        path
        for path, text in expected(runbook_base).items()
        if not path.exists() or path.read_text("utf-8") != text
    ]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="only report stale files")
    parser.add_argument(
        "--runbook-base",
        default=RUNBOOK_BASE,
        metavar="URL",
        help="the page holding the alerts' runbook sections (default: %(default)s)",
    )
    args = parser.parse_args(argv)
    base = args.runbook_base.rstrip("#")
    if not re.match(r"https?://\S+$", base):
        parser.error(f"--runbook-base must be an http(s) URL without spaces, got {base!r}")
    again = "python deploy/generate.py"
    if base != RUNBOOK_BASE:
        again += f" --runbook-base {base}"
    if args.check:
        outdated = stale(base)
        for path in outdated:
            print(f"stale: {path.relative_to(ROOT)} (run: {again})")  # noqa: T201
        return 1 if outdated else 0
    for path, text in expected(base).items():
        if not path.exists() or path.read_text("utf-8") != text:
            path.write_text(text, "utf-8")
            print(f"wrote {path.relative_to(ROOT)}")  # noqa: T201
    return 0


if __name__ == "__main__":
    sys.exit(main())
