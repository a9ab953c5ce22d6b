"""The targets `warmhandoff eval` judges, and which report figures they apply to.

Every target is judged on data the judged part never learned from: leave-one-dataset-out
for the text classifier and the sentiment model, the half of the ordinary conversations
nobody tuned on, the hand-written language check set, and unseen turns for the cost.
"""

from __future__ import annotations

from typing import Any

#: (signal, metric, op, target, sets it applies to or None for all).
TARGETS: tuple[tuple[str, str, str, float, tuple[str, ...] | None], ...] = (
    ("human_request", "f1", ">=", 0.95, None),
    *(
        ("risk", f"recall.{family}", ">=", 0.90, None)
        for family in ("fraud", "identity", "payments", "cancellation")
    ),
    ("risk", "false_tag_rate", "<=", 0.02, None),
    ("negative_sentiment", "f1", ">=", 0.70, ("tweeteval_sentiment",)),
    ("negative_sentiment", "auc", ">=", 0.85, ("tweeteval_sentiment",)),
    ("language", "macro_accuracy", ">=", 0.95, None),
    ("ordinary", "escalated_rate", "<=", 0.02, ("report",)),
    ("conversations", "benign_escalation_rate", "<=", 0.02, None),
    ("conversations", "dissatisfied_rise_rate", ">=", 0.95, None),
    ("speed", "us_per_turn", "<=", 150.0, None),
)


#: The signals the sentence-embedding blend changes, judged apart with it on.
EMBEDDING_SIGNALS = ("human_request", "risk", "speed")


def judge(report: dict[str, Any], *, embeddings: bool = False) -> list[dict[str, Any]]:
    """Every figure with a target, with the target and whether it is met.

    `embeddings`: the figures measured with the sentence-embedding blend on instead, for the
    signals it changes (`EMBEDDING_SIGNALS`).
    """
    checks = []
    for signal, metric, op, target, only in TARGETS:
        if embeddings and signal not in EMBEDDING_SIGNALS:
            continue
        for set_key, value in figures(report, signal, metric, embeddings=embeddings):
            if value is None or (only is not None and set_key not in only):
                continue
            met = value >= target if op == ">=" else value <= target
            checks.append(
                {
                    "signal": signal,
                    "set": set_key,
                    "metric": metric,
                    "value": value,
                    "op": op,
                    "target": target,
                    "met": met,
                }
            )
    return checks


def figures(
    report: dict[str, Any], signal: str, metric: str, *, embeddings: bool = False
) -> list[tuple[str, Any]]:
    """(set, value) pairs of one metric of one signal in the report (`embeddings`: with it)."""
    section = report.get(signal)
    if section is None:
        return []
    if signal == "speed":
        return [("all", (section["embeddings"] if embeddings else section)[metric])]
    if signal == "language":
        return [("check_set", section[metric])]
    if signal == "ordinary":
        return [(half, s[metric]) for half, s in section["halves"].items()]
    if signal in ("human_request", "risk"):
        section = section["detector+emb" if embeddings else "detector"]
    if signal == "risk" and metric.startswith("recall."):
        family = metric.split(".", 1)[1]
        return [
            (key, s["families"][family]["recall"])
            for key, s in section["sets"].items()
            if family in s["families"]
        ]
    if signal == "risk":
        return [(key, s["plain"]["rate"]) for key, s in section["sets"].items()]
    return [(key, s[metric]) for key, s in section["sets"].items()]
