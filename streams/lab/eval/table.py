"""The readable table of a `warmhandoff eval` report: one section per signal.

Each figure with a target shows the target next to it and whether it is met;
the other figures (precision, flagged shares, tags on risk-adjacent requests, per-detector
costs) are there to explain them.
"""

from __future__ import annotations

from typing import Any

_WIDTHS = (32, 28, 22, 12, 5)


def render_table(report: dict[str, Any]) -> str:
    """The report as aligned plain text, ending with a count of targets met."""
    checks = _by_key(report["targets"])
    # With the embeddings extra measured: its rows are judged on their own targets.
    emb = _by_key(report.get("targets_embeddings", []))
    lines = [
        f"warmhandoff eval: {report['data']} "
        f"({_rows_used(report)}; policy {report['policy_version']})",
    ]
    lines += _datasets(report["datasets"])
    lines += _human_request(report["human_request"], checks, emb)
    lines += _risk(report["risk"], checks, emb)
    if "negative_sentiment" in report:
        lines += _sentiment(report["negative_sentiment"], checks)
    lines += _language(report["language"], checks)
    if "ordinary" in report:
        lines += _ordinary(report["ordinary"], checks)
    lines += _conversations(report["conversations"], checks)
    lines += _speed(report["speed"], checks, emb)
    met = sum(c["met"] for c in report["targets"])
    lines += ["", f"Targets: {met} of {len(report['targets'])} met"]
    if "targets_embeddings" in report:
        judged = report["targets_embeddings"]
        lines.append(
            f"Targets with the embeddings extra (human request, risk, speed): "
            f"{sum(c['met'] for c in judged)} of {len(judged)} met"
        )
    return "\n".join(lines) + "\n"


Checks = dict[tuple[str, str, str], dict[str, Any]]


def _by_key(targets: list[dict[str, Any]]) -> Checks:
    return {(c["signal"], c["set"], c["metric"]): c for c in targets}


def _parts(section: dict[str, Any]) -> list[str]:
    """The readings a topic section holds, in print order (the `+emb` ones only if measured)."""
    parts = ("detector", "classifier", "detector+emb", "classifier+emb")
    return [part for part in parts if part in section]


def _judged(part: str, checks: Checks, emb: Checks) -> Checks | None:
    """The targets a part's rows are judged on: the detector's only, with or without the extra."""
    return {"detector": checks, "detector+emb": emb}.get(part)


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
    name: str | None = None,
) -> str:
    """A row for a figure that has a target (or a plain row when it has none).

    `name` replaces the set's key in the first column.
    """
    check = checks.get(key)
    name = key[1] if name is None else name
    if check is None:
        return _row(name, label, value, note=note)
    target = f"{check['op']} {_target(check['target'], percent=percent)}"
    return _row(name, label, value, target, "yes" if check["met"] else "NO", note)


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


_LODO_NOTE = (
    "  leave-one-dataset-out: each set scored by a classifier trained without it. detector:\n"
    "  the pipeline's detector (patterns + that classifier; the patterns were written with\n"
    "  every set in view, so optimistic); classifier: the retrained classifier alone (clean)"
)
_EMB_NOTE = (
    "  +emb: the same with the embeddings extra: that classifier blended with sentence-\n"
    "  embedding heads also trained without the set (targets judged apart, below)"
)


def _lodo_header(title: str, section: dict[str, Any]) -> tuple[list[str], list[str]]:
    """A leave-one-dataset-out section's heading and notes, and the parts it shows."""
    lines = _section(title)
    lines.append(_LODO_NOTE)
    parts = _parts(section)
    if "detector+emb" in parts:
        lines.append(_EMB_NOTE)
    return lines, parts


def _human_request(section: dict[str, Any], checks: Checks, emb: Checks) -> list[str]:
    lines, parts = _lodo_header("Explicit request for a human (NLU++ intent `handoff`)", section)
    for part in parts:
        judged = _judged(part, checks, emb)
        for key, s in section[part]["sets"].items():
            note = f"tp {s['tp']}, fp {s['fp']}, fn {s['fn']} of {s['n']:,}"
            name = f"{key} ({part})"
            lines.append(_row(name, "precision", _ratio(s["precision"]), note=note))
            lines.append(_row(name, "recall", _ratio(s["recall"])))
            key_ = ("human_request", key, "f1") if judged is not None else ("", name, "")
            # The default detector's judged rows keep the bare set name, as they always have.
            shown = key if part == "detector" else name
            lines.append(_checked(judged or {}, key_, "F1", _ratio(s["f1"]), name=shown))
        for key, s in section[part]["flagged"].items():
            name = key
            if key == "combined":  # shorter with +emb, to fit its column
                name = "b77+clinc150" if part.endswith("+emb") else "banking77+clinc150"
            lines.append(
                _row(f"{name} ({part})", "flagged as a request", _count(s, "flagged", "share"))
            )
    return lines


def _risk(section: dict[str, Any], checks: Checks, emb: Checks) -> list[str]:
    lines, parts = _lodo_header(
        "Risk families (recall on mapped labels; tags on plain information requests)", section
    )
    for part in parts:
        judged = _judged(part, checks, emb)
        for key, s in section[part]["sets"].items():
            name = f"{key} ({part})"
            shown = key if part == "detector" else name
            for family, f in s["families"].items():
                lines.append(
                    _checked(
                        judged or {},
                        ("risk", key, f"recall.{family}") if judged is not None else ("", name, ""),
                        f"{family} recall",
                        _ratio(f["recall"]),
                        note=f"n {f['n']:,}, precision {_ratio(f['precision'])}",
                        name=shown,
                    )
                )
            plain = s["plain"]
            top = ", ".join(f"{label} {k}/{n}" for label, k, n in plain["top_labels"][:3])
            lines.append(
                _checked(
                    judged or {},
                    ("risk", key, "false_tag_rate") if judged is not None else ("", name, ""),
                    "plain requests tagged",
                    _count(plain, "tagged", "rate"),
                    percent=True,
                    note=f"most: {top}" if top else "",
                    name=shown,
                )
            )
            near = s["adjacent"]
            lines.append(
                _row(name, "risk-adjacent tagged", _count(near, "tagged", "rate"), "(unscored)")
            )
    return lines


def _sentiment(section: dict[str, Any], checks: dict[Any, dict[str, Any]]) -> list[str]:
    lines = _section(f"Negative sentiment (negative when score <= {section['threshold']:g})")
    lines.append("  leave-one-dataset-out: each group scored by a model trained without it")
    for key, s in section["sets"].items():
        note = f"{s['positives']:,} negative of {s['n']:,}"
        lines.append(_row(key, "precision", _ratio(s["precision"]), note=note))
        lines.append(_row(key, "recall", _ratio(s["recall"])))
        lines.append(_checked(checks, ("negative_sentiment", key, "f1"), "F1", _ratio(s["f1"])))
        auc = "n/a" if s["auc"] is None else _ratio(s["auc"])
        lines.append(_checked(checks, ("negative_sentiment", key, "auc"), "ROC AUC (-score)", auc))
    return lines


def _language(section: dict[str, Any], checks: dict[Any, dict[str, Any]]) -> list[str]:
    lines = _section("Language (built-in check set of short customer messages)")
    lines.append(
        _checked(
            checks,
            ("language", "check_set", "macro_accuracy"),
            "accuracy, mean of languages",
            _ratio(section["macro_accuracy"]),
            note=f"all texts: {_count(section, 'correct', 'accuracy', percent=False)}",
        )
    )
    for lang, s in section["per_language"].items():
        errors = ", ".join(f"{code} {n}" for code, n in s["errors"].items())
        lines.append(
            _row(
                "check_set",
                f"accuracy, {lang}",
                _count(s, "correct", "accuracy", percent=False),
                note=f"detected: {errors}" if errors else "",
            )
        )
    return lines


def _ordinary(section: dict[str, Any], checks: dict[Any, dict[str, Any]]) -> list[str]:
    lines = _section(f"Ordinary conversations ({section['title']}: nobody needed a human)")
    lines.append("  development: the half looked at; report: the half nobody tuned on")
    for half, s in section["halves"].items():
        top = ", ".join(f"{code} {n}" for code, n in list(s["escalated_by"].items())[:3])
        lines.append(
            _checked(
                checks,
                ("ordinary", half, "escalated_rate"),
                "dialogues escalated",
                f"{s['escalated_rate']:.2%} ({s['escalated']}/{s['dialogues']})",
                percent=True,
                note=f"by: {top}" if top else "",
            )
        )
        lines.append(
            _row(
                half,
                "dialogues acted on",
                f"{s['acted_rate']:.2%} ({s['acted']}/{s['dialogues']})",
                note=f"gather turns {s['gather_turns']}, clarify turns {s['clarify_turns']}",
            )
        )
    return lines


def _speed(section: dict[str, Any], checks: Checks, emb: Checks) -> list[str]:
    lines = _section(
        f"Speed (process_turn on unseen turns, {section['turns']:,} single-turn chats, "
        f"{section['install']} install)"
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
    lines.append(_row("all", "turns per CPU second", "n/a" if tps is None else f"{tps:,}"))
    for name, d in section["detectors"].items():
        lines.append(
            _row(name, "µs CPU per call", f"{d['us_per_call']:,}", note=f"{d['calls']:,} calls")
        )
    if "embeddings" in section:
        lines += _speed_with_embeddings(section["embeddings"], emb)
    return lines


def _speed_with_embeddings(s: dict[str, Any], emb: Checks) -> list[str]:
    lines = [f"  with the {s['install']}:"]
    lines.append(
        _checked(
            emb,
            ("speed", "all", "us_per_turn"),
            "µs CPU per turn",
            f"{s['us_per_turn']:,}",
            note=f"without the extra, same turns: {s['default_us_per_turn']:,}",
            name="all (+emb)",
        )
    )
    for name, d in s["detectors"].items():
        lines.append(
            _row(name, "µs CPU per call", f"{d['us_per_call']:,}", note=f"{d['calls']:,} calls")
        )
    return lines


def _ratio(value: float) -> str:
    return f"{value:.3f}"


def _count(s: dict[str, Any], count_key: str, rate_key: str, *, percent: bool = True) -> str:
    rate = f"{s[rate_key]:.2%}" if percent else f"{s[rate_key]:.3f}"
    return f"{rate} ({s[count_key]:,}/{s['n']:,})"
