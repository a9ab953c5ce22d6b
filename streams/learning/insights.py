"""Trigger performance, recommended thresholds and deflection candidates.

From recorded decisions joined with their labels (`learning.examples`, by decision id, else
handoff id, else conversation id):

- per trigger: how many escalations it took part in, how many are labelled, and the share
  labelled needed (needed or late), avoidable and late;
- a recommended threshold for a target precision: among the trigger's labelled hits, ordered
  from the most to the least extreme value, the least extreme cut whose hits are at least
  `target` precise ("needed" is the positive). Only hits that fired are recorded, so the
  advice can only tighten a threshold; for `learned`, every labelled decision carries a
  score (shadow mode too), so its advice can loosen as well. Numeric triggers only; at
  least `min_support` hits above the cut;
- deflection candidates: intents often escalated and resolved quickly (labelled avoidable)
  the same way (the most common resolution reason), worth automating in the bot.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping
from typing import Any

from warmhandoff.streams.learning.labels import Label

NEEDED = frozenset({Label.escalation_needed.value, Label.escalation_late.value})
AVOIDABLE = Label.escalation_avoidable.value


def join_labels(
    decisions: Iterable[Mapping[str, Any]], examples: Iterable[Mapping[str, Any]]
) -> list[tuple[Mapping[str, Any], str | None]]:
    """Each decision with its label (None when unlabelled)."""
    by_decision: dict[str, str] = {}
    by_handoff: dict[str, str] = {}
    by_conversation: dict[str, str] = {}
    for ex in examples:
        by_decision[ex["decision_id"]] = ex["label"]
        if ex.get("handoff_id"):
            by_handoff[ex["handoff_id"]] = ex["label"]
        by_conversation[ex["conversation_id"]] = ex["label"]
    joined = []
    for d in decisions:
        found = (
            by_decision.get(d["decision_id"])
            or (by_handoff.get(d["handoff_id"]) if d.get("handoff_id") else None)
            or by_conversation.get(d["conversation_id"])
        )
        joined.append((d, found))
    return joined


def recommend_threshold(
    hits: Iterable[tuple[float, bool]], *, target: float, high_fires: bool, min_support: int = 5
) -> float | None:
    """The least extreme value whose hits at least as extreme are `target` precise."""
    ordered = sorted(hits, key=lambda h: h[0], reverse=high_fires)
    best = None
    tp = 0
    for i, (value, positive) in enumerate(ordered):
        seen = i + 1
        tp += positive
        last_of_tie = seen == len(ordered) or ordered[seen][0] != value
        if last_of_tie and seen >= min_support and tp / seen >= target:
            best = value
    return best


def trigger_performance(
    joined: list[tuple[Mapping[str, Any], str | None]], *, target: float = 0.8
) -> list[dict[str, Any]]:
    """One row per trigger code that took part in an escalation, plus `learned`."""
    rows: dict[str, dict[str, Any]] = {}
    hits: dict[str, list[tuple[float, bool]]] = defaultdict(list)
    direction: dict[str, bool] = {}
    for d, found in joined:
        if d["action"] != "escalate":
            continue
        for hit in d.get("triggers") or []:
            row = rows.setdefault(
                hit["code"],
                {"trigger": hit["code"], "escalations": 0, "labelled": 0, "needed": 0,
                 "avoidable": 0, "late": 0},
            )  # fmt: skip
            row["escalations"] += 1
            if found is None:
                continue
            row["labelled"] += 1
            row["needed"] += found in NEEDED
            row["avoidable"] += found == AVOIDABLE
            row["late"] += found == Label.escalation_late.value
            value, threshold = hit.get("value"), hit.get("threshold")
            if _number(value) and _number(threshold):
                hits[hit["code"]].append((float(value), found in NEEDED))
                direction[hit["code"]] = float(value) >= float(threshold)
    out = []
    for code, row in sorted(rows.items()):
        labelled = row["labelled"]
        out.append(
            {
                "trigger": code,
                "escalations": row["escalations"],
                "labelled": labelled,
                "needed_share": round(row["needed"] / labelled, 4) if labelled else None,
                "avoidable_share": round(row["avoidable"] / labelled, 4) if labelled else None,
                "late_share": round(row["late"] / labelled, 4) if labelled else None,
                "recommended_threshold": recommend_threshold(
                    hits[code], target=target, high_fires=direction[code]
                )
                if code in direction
                else None,
            }
        )
    scored = [
        (float(d["learned_score"]), found in NEEDED or found == Label.bad_containment.value)
        for d, found in joined
        if found is not None and _number(d.get("learned_score"))
    ]
    if scored:
        out.append(
            {
                "trigger": "learned (all labelled decisions)",
                "labelled": len(scored),
                "recommended_threshold": recommend_threshold(
                    scored, target=target, high_fires=True
                ),
            }
        )
    return out


def deflection_candidates(
    joined: list[tuple[Mapping[str, Any], str | None]],
    resolution_reasons: Mapping[str, str],
    *,
    min_escalations: int = 5,
    min_avoidable_share: float = 0.5,
) -> list[dict[str, Any]]:
    """Intents often escalated and resolved quickly, the same way (module docstring)."""
    by_intent: dict[str, list[tuple[str | None, str | None]]] = defaultdict(list)
    for d, found in joined:
        intent = (d.get("signals") or {}).get("intent")
        if d["action"] == "escalate" and intent:
            reason = resolution_reasons.get(d.get("handoff_id") or "")
            by_intent[intent].append((found, reason))
    out = []
    for intent, rows in by_intent.items():
        avoidable = [reason for found, reason in rows if found == AVOIDABLE]
        share = len(avoidable) / len(rows)
        if len(rows) < min_escalations or share < min_avoidable_share:
            continue
        common = Counter(r for r in avoidable if r).most_common(1)
        out.append(
            {
                "intent": intent,
                "escalations": len(rows),
                "avoidable_share": round(share, 4),
                "usual_resolution": common[0][0] if common else None,
                "usual_resolution_share": round(common[0][1] / len(avoidable), 4)
                if common
                else None,
            }
        )
    return sorted(out, key=lambda r: (-r["escalations"] * r["avoidable_share"], r["intent"]))


def _number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)
