"""The readable table of a `warmhandoff eval` report: one section per signal.

Each figure with a target shows the target next to it and whether it is met;
the other figures (precision, flagged shares, tags on risk-adjacent requests, per-detector
costs) are there to explain them.
"""

from __future__ import annotations

from typing import Any

_WIDTHS = (22, 28, 22, 12, 5)


def render_table(report: dict[str, Any]) -> str:
    """The report as aligned plain text, ending with a count of targets met."""
    checks = {(c["signal"], c["set"], c["metric"]): c for c in report["targets"]}
    lines = [
        f"warmhandoff eval: {report['data']} "
        f"({_rows_used(report)}; policy {report['policy_version']})",
    ]
    lines += _datasets(report["datasets"])
    lines += _human_request(report["human_request"], checks)
    lines += _risk(report["risk"], checks)
    lines += _sentiment(report["negative_sentiment"], checks)
    lines += _language(report["language"], checks)
    lines += _false_escalation(report["false_escalation"], checks)
    lines += _conversations(report["conversations"], checks)
    lines += _speed(report["speed"], checks)
    met = sum(c["met"] for c in report["targets"])
    lines += ["", f"Targets: {met} of {len(report['targets'])} met"]
    return "\n".join(lines) + "\n"


def _conversations(section: dict[str, Any], checks: dict[Any, dict[str, Any]]) -> list[str]:
    lines = _section("Conversations (simulated scenarios: frustration and containment)")
    for key, s in section["sets"].items():
        note = f"{s['benign_escalated']} of {s['benign']} handled-well conversations"
        lines.append(
            _checked(
                checks,
                ("conversations", key, "benign_escalation_rate"),
                "handled well, escalated",
                f"{s['benign_escalation_rate']:.2%}",
                note=note,
            )
        )
        lines.append(
            _checked(
                checks,
                ("conversations", key, "dissatisfied_rise_rate"),
                "frustration rose, unhappy",
                _ratio(s["dissatisfied_rise_rate"]),
                note=f"{s['dissatisfied_turns']} dissatisfied customer turns",
            )
        )
        peak = f"max {s['benign_peak_frustration_max']}, mean {s['benign_peak_frustration_mean']}"
        lines.append(
            _row(
                key,
                "peak frustration, benign",
                peak,
                f"trigger at {s['frustration_threshold']}",
            )
        )
    return lines


def _rows_used(report: dict[str, Any]) -> str:
    limit = report["max_per_set"]
    return "all rows" if limit is None else f"at most {limit:,} rows per set"


def _section(title: str) -> list[str]:
    header = _row("set", "metric", "value", "target", "met")
    return ["", title, header, "  " + "-" * (len(header) - 2)]


def _row(
    set_key: str, metric: str, value: str, target: str = "", met: str = "", note: str = ""
) -> str:
    cells = (set_key, metric, value, target, met)
    text = "  " + "".join(cell.ljust(width) for cell, width in zip(cells, _WIDTHS, strict=True))
    return (text + note).rstrip()


def _checked(
    checks: dict[tuple[str, str, str], dict[str, Any]],
    key: tuple[str, str, str],
    label: str,
    value: str,
    *,
    percent: bool = False,
    note: str = "",
) -> str:
    """A row for a figure that has a target (or a plain row when it has none)."""
    check = checks.get(key)
    if check is None:
        return _row(key[1], label, value, note=note)
    target = f"{check['op']} {_target(check['target'], percent=percent)}"
    return _row(key[1], label, value, target, "yes" if check["met"] else "NO", note)


def _target(value: float, *, percent: bool) -> str:
    if percent:
        return f"{value:.0%}"
    return f"{value:,.0f}" if value >= 10 else f"{value:.2f}"


def _datasets(datasets: dict[str, Any]) -> list[str]:
    lines = ["", "Data sets"]
    for key, info in datasets.items():
        if not info["present"]:
            lines.append(f"  {key:<22}absent")
            continue
        used = f"{info['rows']:,}" + (
            f" of {info['total']:,}" if info["rows"] != info["total"] else ""
        )
        lines.append(f"  {key:<22}{used + ' rows':<20}{info['title']}, {info['licence']}")
        lines.append(f"  {'':<22}{'':<20}" + ", ".join(info["files"]))
    return lines


def _human_request(section: dict[str, Any], checks: dict[Any, dict[str, Any]]) -> list[str]:
    lines = _section("Explicit request for a human (NLU++ intent `handoff`)")
    for key, s in section["sets"].items():
        note = f"tp {s['tp']}, fp {s['fp']}, fn {s['fn']} of {s['n']:,}"
        lines.append(_row(key, "precision", _ratio(s["precision"]), note=note))
        lines.append(_row(key, "recall", _ratio(s["recall"])))
        lines.append(_checked(checks, ("human_request", key, "f1"), "F1", _ratio(s["f1"])))
    for key, s in section["flagged"].items():
        name = "banking77+clinc150" if key == "combined" else key
        lines.append(_row(name, "flagged as a human request", _count(s, "flagged", "share")))
    return lines


def _risk(section: dict[str, Any], checks: dict[Any, dict[str, Any]]) -> list[str]:
    lines = _section("Risk families (recall on mapped labels; tags on plain information requests)")
    for key, s in section["sets"].items():
        for family, f in s["families"].items():
            lines.append(
                _checked(
                    checks,
                    ("risk", key, f"recall.{family}"),
                    f"{family} recall",
                    _ratio(f["recall"]),
                    note=f"n {f['n']:,}, precision {_ratio(f['precision'])}",
                )
            )
        plain = s["plain"]
        top = ", ".join(f"{label} {k}/{n}" for label, k, n in plain["top_labels"][:3])
        lines.append(
            _checked(
                checks,
                ("risk", key, "false_tag_rate"),
                "plain requests tagged",
                _count(plain, "tagged", "rate"),
                percent=True,
                note=f"most: {top}" if top else "",
            )
        )
        near = s["adjacent"]
        lines.append(
            _row(key, "risk-adjacent tagged", _count(near, "tagged", "rate"), "(unscored)")
        )
    return lines


def _sentiment(section: dict[str, Any], checks: dict[Any, dict[str, Any]]) -> list[str]:
    lines = _section(f"Negative sentiment (negative when score <= {section['threshold']:g})")
    for key, s in section["sets"].items():
        counts = s.get("in_sample", s)
        note = f"{counts['positives']:,} negative of {counts['n']:,}"
        if "in_sample" in s:
            note += "; 5-fold cross-validated: the model learned from this set"
            inside = f"F1 {s['in_sample']['f1']:.3f}, AUC {s['in_sample']['auc']:.3f}"
            lines.append(_row(key, "in-sample (not a measure)", inside))
        lines.append(_row(key, "precision", _ratio(s["precision"]), note=note))
        lines.append(_row(key, "recall", _ratio(s["recall"])))
        lines.append(_checked(checks, ("negative_sentiment", key, "f1"), "F1", _ratio(s["f1"])))
        auc = "n/a" if s["auc"] is None else _ratio(s["auc"])
        lines.append(_checked(checks, ("negative_sentiment", key, "auc"), "ROC AUC (-score)", auc))
        lines.append(
            _row(key, "best F1 (diagnostic)", _ratio(s["best_f1"]), f"at <= {s['best_threshold']}")
        )
    return lines


def _language(section: dict[str, Any], checks: dict[Any, dict[str, Any]]) -> list[str]:
    lines = _section("Language (built-in check set of short customer messages)")
    lines.append(
        _checked(
            checks,
            ("language", "check_set", "accuracy"),
            "accuracy, all",
            _count(section, "correct", "accuracy", percent=False),
        )
    )
    for lang, s in section["per_language"].items():
        errors = ", ".join(f"{code} {n}" for code, n in s["errors"].items())
        lines.append(
            _checked(
                checks,
                ("language", f"check_set.{lang}", "accuracy"),
                f"accuracy, {lang}",
                _count(s, "correct", "accuracy", percent=False),
                note=f"detected: {errors}" if errors else "",
            )
        )
    return lines


def _false_escalation(section: dict[str, Any], checks: dict[Any, dict[str, Any]]) -> list[str]:
    lines = _section(
        "False escalation (plain request as a first chat turn, en-US: escalate/gather/clarify)"
    )
    for key, s in section["sets"].items():
        top = ", ".join(f"{code} {n}" for code, n in list(s["triggers"].items())[:3])
        lines.append(
            _checked(
                checks,
                ("false_escalation", key, "rate"),
                "plain requests escalated",
                _count(s, "escalated", "rate"),
                percent=True,
                note=f"triggers: {top}" if top else "",
            )
        )
    return lines


def _speed(section: dict[str, Any], checks: dict[Any, dict[str, Any]]) -> list[str]:
    lines = _section(
        f"Speed (process_turn, detection + decision, {section['turns']:,} single-turn chats)"
    )
    lines.append(
        _checked(
            checks,
            ("speed", "all", "us_per_turn"),
            "µs CPU per turn",
            f"{section['us_per_turn']:,}",
        )
    )
    tps = section["turns_per_second"]
    lines.append(
        _checked(
            checks,
            ("speed", "all", "turns_per_second"),
            "turns per CPU second",
            "n/a" if tps is None else f"{tps:,}",
        )
    )
    for name, d in section["detectors"].items():
        lines.append(
            _row(name, "µs CPU per call", f"{d['us_per_call']:,}", note=f"{d['calls']:,} calls")
        )
    return lines


def _ratio(value: float) -> str:
    return f"{value:.3f}"


def _count(s: dict[str, Any], count_key: str, rate_key: str, *, percent: bool = True) -> str:
    rate = f"{s[rate_key]:.2%}" if percent else f"{s[rate_key]:.3f}"
    return f"{rate} ({s[count_key]:,}/{s['n']:,})"
