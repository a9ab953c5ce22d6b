"""`warmhandoff eval`: detection quality and speed on public labelled data, against its targets.

The detectors run exactly as the pipeline calls them (`detect.human_request.is_human_request`,
`detect.risk.risk_families`, `detect.sentiment.sentiment`, `detect.language.detect_language`),
and the false-escalation and speed figures run `pipeline.process_turn` itself with a policy.

Label-to-signal mapping (the constants below; docs/detection.md repeats it):
- human request: NLU++ intent `handoff` (an explicit request for a person or department);
- risk: `BANKING77_RISK` and `CLINC150_RISK` give the family of each risky label; every other
  label is a plain information request, except the `*_ADJACENT` labels: requests that touch
  a risk family without being in the mapping (a disputed charge, a PIN change, a blocked
  account). Their tags count neither way and are reported on their own;
- negative sentiment: TweetEval label `negative`; VADER ground truth mean <= -0.5
  (`datasets.VADER_NEGATIVE_MEAN`). The decision threshold is the policy's
  `negative_sentiment.threshold` (fires at or below it); AUC ranks by -score;
- language: the hand-written `language_checkset.CHECK_SET`.

A false escalation is a plain information request that, sent as the first customer turn of a
conversation (chat, locale en-US, no other metadata), makes `process_turn` answer `escalate`,
`gather` or `clarify`. Speed runs every loaded text as the first customer turn of its own
conversation with realistic metadata (customer record, NLU intent and confidence, bot
action), timing `new_state` + `process_turn` with `time.process_time()` after a warm-up on
the check set; per-detector costs time each detector over the same texts.

JSON report (`--json`), stable keys; rates are shares in [0, 1], absent data sets are left
out of `sets` and marked `present: false` in `datasets`:
- `report_version` (1), `data` (folder), `max_per_set` (int or null), `policy_version`;
- `datasets.<key>`: `present`, and when present `title`, `licence`, `files`, `rows` (used),
  `total` (in the files);
- `human_request.sets.<key>`: `n`, `positives`, `tp`, `fp`, `fn`, `tn`, `precision`,
  `recall`, `f1`; `human_request.flagged.<banking77|clinc150|combined>`: `n`, `flagged`,
  `share`;
- `risk.sets.<key>`: `families.<family>` (`n`, `tp`, `fp`, `fn`, `precision`, `recall`),
  `plain` (`n`, `tagged`, `rate`, `by_family`, `top_labels`: [[label, tagged, n], ...]),
  `adjacent` (`n`, `tagged`, `rate`);
- `negative_sentiment.threshold`; `negative_sentiment.sets.<key>`: `n`, `positives`, `tp`,
  `fp`, `fn`, `tn`, `precision`, `recall`, `f1`, `auc`, `best_threshold`, `best_f1` (the
  threshold that would maximise F1 on that set, for diagnosis only);
- `language`: `n`, `correct`, `accuracy`, `per_language.<code>` (`n`, `correct`,
  `accuracy`, `errors`: {detected code: count});
- `negative_sentiment.sets.<key>` for a set the sentiment model learned from: `measured`,
  `in_sample` (the figures above, not a measure), and the model file's k-fold `f1`,
  `precision`, `recall`, `auc`, `best_f1`, `best_threshold`;
- `conversations.sets.simulated`: see streams/lab/eval/conversations.py;
- `false_escalation.sets.<key>`: `n`, `escalated`, `rate`, `actions` {action: count},
  `triggers` {trigger code: count};
- `speed`: `turns`, `cpu_seconds`, `us_per_turn`, `turns_per_second`,
  `detectors.<human_request|risk|sentiment|language>` (`calls`, `us_per_call`);
- `targets`: a list of {`signal`, `set`, `metric`, `value`, `op`, `target`, `met`}, `set`
  being a data set key, `check_set` or `check_set.<code>` (language), or `all` (speed), and
  `metric` one of `f1`, `auc`, `recall.<family>`, `false_tag_rate`, `accuracy`, `rate`,
  `us_per_turn`, `turns_per_second`; `targets_met`: every target met (targets on absent
  data are not listed).
"""

from __future__ import annotations

import json
import time
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib import resources
from pathlib import Path
from typing import Any, TypeVar

from warmhandoff.streams.contract.models import Turn
from warmhandoff.streams.core.pipeline import new_state, process_turn
from warmhandoff.streams.detect.human_request import is_human_request
from warmhandoff.streams.detect.language import detect_language
from warmhandoff.streams.detect.risk import risk_families
from warmhandoff.streams.detect.sentiment import sentiment
from warmhandoff.streams.lab.eval.conversations import conversation_checks
from warmhandoff.streams.lab.eval.datasets import Dataset, load_datasets
from warmhandoff.streams.lab.eval.language_checkset import CHECK_SET
from warmhandoff.streams.policy.loader import load_policy
from warmhandoff.streams.policy.model import Policy

REPORT_VERSION = 1

#: NLU++ intent that is an explicit request for a human.
NLUPP_HUMAN_REQUEST = "handoff"

#: The risk families with a recall target (compliance has no labelled data here).
RISK_FAMILIES = ("fraud", "identity", "payments", "cancellation")

BANKING77_RISK = {
    "compromised_card": "fraud",
    "lost_or_stolen_card": "fraud",
    "card_payment_not_recognised": "fraud",
    "cash_withdrawal_not_recognised": "fraud",
    "verify_my_identity": "identity",
    "passcode_forgotten": "identity",
    "pin_blocked": "identity",
    "transaction_charged_twice": "payments",
    "request_refund": "payments",
    "terminate_account": "cancellation",
}
#: Banking77 categories a bank could fairly route to a risk desk although the mapping does not
#: list them: an unrecognised direct debit or a stolen phone (fraud), identity checks and PIN
#: changes (identity), money the customer contests (a missing refund, an unexplained charge,
#: the wrong cash or exchange rate, a transfer to recall), and source-of-funds checks
#: (compliance). Their tags count neither way. Plain, because a bot answers them: fee
#: questions (the fee schedule), declined, failed or reverted payments and top-ups (balance,
#: limits, card status), and where a new card's PIN is (`get_physical_card`).
BANKING77_ADJACENT = frozenset(
    {
        "direct_debit_payment_not_recognised",
        "lost_or_stolen_phone",
        "unable_to_verify_identity",
        "why_verify_identity",
        "change_pin",
        "Refund_not_showing_up",
        "extra_charge_on_statement",
        "wrong_amount_of_cash_received",
        "card_payment_wrong_exchange_rate",
        "wrong_exchange_rate_for_cash_withdrawal",
        "cancel_transfer",
        "verify_source_of_funds",
    }
)
CLINC150_RISK = {"report_fraud": "fraud", "freeze_account": "fraud", "report_lost_card": "fraud"}
#: CLINC150 intents that touch account access: a blocked account and a PIN change (as
#: Banking77's `change_pin`). Everything else is plain, `oos` included: `card_declined` like
#: Banking77's declined payments (a failed payment the bot can explain, not a dispute),
#: `cancel` ("cancel that") and `cancel_reservation` (a booking, not the account).
CLINC150_ADJACENT = frozenset({"account_blocked", "pin_change"})

RISK_MAPPING: dict[str, tuple[dict[str, str], frozenset[str]]] = {
    "banking77": (BANKING77_RISK, BANKING77_ADJACENT),
    "clinc150": (CLINC150_RISK, CLINC150_ADJACENT),
}
NEGATIVE_LABEL = "negative"
SENTIMENT_SETS = (
    "tweeteval_sentiment",
    "vader_tweets",
    "vader_amazon",
    "vader_movies",
    "vader_nyt",
)

#: Actions that take a plain request away from self-service.
ESCALATING_ACTIONS = frozenset({"escalate", "gather", "clarify"})

#: Issue 3's targets: (signal, metric, op, target, sets it applies to or None for all).
TARGETS: tuple[tuple[str, str, str, float, tuple[str, ...] | None], ...] = (
    ("human_request", "f1", ">=", 0.97, None),
    *(("risk", f"recall.{family}", ">=", 0.90, None) for family in RISK_FAMILIES),
    ("risk", "false_tag_rate", "<=", 0.02, None),
    ("negative_sentiment", "f1", ">=", 0.70, ("tweeteval_sentiment",)),
    ("negative_sentiment", "auc", ">=", 0.85, ("tweeteval_sentiment",)),
    ("language", "accuracy", ">=", 0.95, None),
    # Issue 3: a conversation the bot handles well is escalated in <= 2% of cases.
    ("false_escalation", "rate", "<=", 0.02, None),
    # Issue 3: frustration rises on dissatisfied turns; well-handled conversations stay put.
    ("conversations", "benign_escalation_rate", "<=", 0.02, None),
    ("conversations", "dissatisfied_rise_rate", ">=", 0.95, None),
    ("speed", "us_per_turn", "<=", 50.0, None),
    ("speed", "turns_per_second", ">=", 20_000.0, None),
)

R = TypeVar("R")

_EVAL_TS = datetime(2026, 1, 1, tzinfo=UTC)
_TIERS = ("standard", "silver", "standard", "gold", "bronze")


# --- metrics ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class BinaryCounts:
    """Confusion counts of a binary detector; undefined ratios are 0.0."""

    tp: int = 0
    fp: int = 0
    fn: int = 0
    tn: int = 0

    @classmethod
    def of(cls, truth: Iterable[bool], predicted: Iterable[bool]) -> BinaryCounts:
        """Count a paired sequence of true and predicted labels."""
        counts = Counter(zip(truth, predicted, strict=True))
        return cls(
            counts[True, True], counts[False, True], counts[True, False], counts[False, False]
        )

    @property
    def precision(self) -> float:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else 0.0

    @property
    def recall(self) -> float:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else 0.0

    @property
    def f1(self) -> float:
        return 2 * self.tp / (2 * self.tp + self.fp + self.fn) if self.tp else 0.0

    def as_dict(self) -> dict[str, Any]:
        """Counts and ratios, ratios rounded to 4 places."""
        return {
            "n": self.tp + self.fp + self.fn + self.tn,
            "positives": self.tp + self.fn,
            "tp": self.tp,
            "fp": self.fp,
            "fn": self.fn,
            "tn": self.tn,
            "precision": round(self.precision, 4),
            "recall": round(self.recall, 4),
            "f1": round(self.f1, 4),
        }


def roc_auc(scores: Sequence[float], positive: Sequence[bool]) -> float | None:
    """ROC AUC by the rank formula (Mann-Whitney U), tied scores sharing their mean rank.

    None when either class is empty.
    """
    n_pos = sum(positive)
    n_neg = len(positive) - n_pos
    if not n_pos or not n_neg:
        return None
    order = sorted(range(len(scores)), key=scores.__getitem__)
    rank_sum = 0.0
    start = 0
    while start < len(order):
        end = start
        while end + 1 < len(order) and scores[order[end + 1]] == scores[order[start]]:
            end += 1
        mean_rank = (start + end) / 2 + 1  # ranks are 1-based
        rank_sum += mean_rank * sum(positive[i] for i in order[start : end + 1])
        start = end + 1
    return (rank_sum - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg)


def best_f1_threshold(scores: Sequence[float], positive: Sequence[bool]) -> tuple[float, float]:
    """The score threshold t maximising F1 of "score <= t is positive", and that F1."""
    n_pos = sum(positive)
    best = (min(scores, default=0.0), 0.0)
    tp = fp = 0
    order = sorted(range(len(scores)), key=scores.__getitem__)
    for index, i in enumerate(order):
        tp += positive[i]
        fp += not positive[i]
        last_of_tie = index + 1 == len(order) or scores[order[index + 1]] != scores[i]
        if last_of_tie and tp:
            f1 = 2 * tp / (tp + fp + n_pos)
            if f1 > best[1]:
                best = (scores[i], f1)
    return best


# --- measuring ----------------------------------------------------------------------------


class _Detectors:
    """Runs each detector over lists of texts and keeps its CPU time per call."""

    def __init__(self) -> None:
        self.cpu: dict[str, float] = {}
        self.calls: dict[str, int] = {}

    def run(self, name: str, detector: Callable[[str], R], texts: Sequence[str]) -> list[R]:
        started = time.process_time()
        out = [detector(text) for text in texts]
        self.cpu[name] = self.cpu.get(name, 0.0) + time.process_time() - started
        self.calls[name] = self.calls.get(name, 0) + len(texts)
        return out

    def report(self) -> dict[str, Any]:
        return {
            name: {"calls": self.calls[name], "us_per_call": _us(self.cpu[name], self.calls[name])}
            for name in self.calls
        }


def evaluate(
    data: Path, *, max_per_set: int | None = None, policy: Policy | None = None
) -> dict[str, Any]:
    """Measure every detector on the data sets under `data`; the JSON report as a dict."""
    sets = load_datasets(data, max_per_set=max_per_set)
    present = {key: ds for key, ds in sets.items() if ds is not None}
    policy = policy or load_policy()
    detectors = _Detectors()
    texts = {key: [row.text for row in ds.rows] for key, ds in present.items()}
    # Every detector over every text: the per-call costs, and the outputs the sections score.
    human = {k: detectors.run("human_request", is_human_request, t) for k, t in texts.items()}
    risk = {k: detectors.run("risk", risk_families, t) for k, t in texts.items()}
    scores = {k: detectors.run("sentiment", sentiment, t) for k, t in texts.items()}
    for t in texts.values():
        detectors.run("language", detect_language, t)

    report: dict[str, Any] = {
        "report_version": REPORT_VERSION,
        "data": str(data),
        "max_per_set": max_per_set,
        "policy_version": policy.version,
        "datasets": {key: _dataset_info(ds) for key, ds in sets.items()},
        "human_request": _human_request(present, human),
        "risk": {"sets": {k: _risk(present[k], risk[k]) for k in RISK_MAPPING if k in present}},
        "negative_sentiment": _sentiment(present, scores, policy),
        "language": _language(detectors),
        "false_escalation": {
            "sets": {k: _false_escalation(present[k], policy) for k in RISK_MAPPING if k in present}
        },
    }
    report["conversations"] = conversation_checks(policy)
    report["speed"] = _speed([text for t in texts.values() for text in t], policy)
    report["speed"]["detectors"] = detectors.report()
    report["targets"] = _targets(report)
    report["targets_met"] = all(check["met"] for check in report["targets"])
    return report


def _dataset_info(ds: Dataset | None) -> dict[str, Any]:
    if ds is None:
        return {"present": False}
    return {
        "present": True,
        "title": ds.title,
        "licence": ds.licence,
        "files": list(ds.files),
        "rows": len(ds.rows),
        "total": ds.total,
    }


def _human_request(present: dict[str, Dataset], human: dict[str, list[bool]]) -> dict[str, Any]:
    sets = {}
    if "nlupp" in present:
        truth = [NLUPP_HUMAN_REQUEST in row.labels for row in present["nlupp"].rows]
        sets["nlupp"] = BinaryCounts.of(truth, human["nlupp"]).as_dict()
    flagged: dict[str, Any] = {}
    for key in ("banking77", "clinc150"):
        if key in present:
            flagged[key] = _share(sum(human[key]), len(human[key]), "flagged", "share")
    if flagged:
        flagged["combined"] = _share(
            sum(f["flagged"] for f in flagged.values()),
            sum(f["n"] for f in flagged.values()),
            "flagged",
            "share",
        )
    return {"sets": sets, "flagged": flagged}


def _risk(ds: Dataset, tags: list[tuple[str, ...]]) -> dict[str, Any]:
    mapping, adjacent = RISK_MAPPING[ds.key]
    labels = [row.labels[0] for row in ds.rows]
    rows = list(zip(labels, tags, strict=True))
    evaluated = [(mapping.get(label), tagged) for label, tagged in rows if label not in adjacent]
    families = {}
    for family in RISK_FAMILIES:
        counts = BinaryCounts.of(
            (label == family for label, _ in evaluated),
            (family in tagged for _, tagged in evaluated),
        )
        if counts.tp + counts.fn:
            figures = counts.as_dict()
            families[family] = {"n": figures["positives"]} | {
                k: figures[k] for k in ("tp", "fp", "fn", "precision", "recall")
            }
    plain = [(label, t) for label, t in rows if label not in mapping and label not in adjacent]
    tagged_by_label = Counter(label for label, t in plain if t)
    sizes = Counter(label for label, _ in plain)
    near = [t for label, t in rows if label in adjacent]
    return {
        "families": families,
        "plain": _share(sum(bool(t) for _, t in plain), len(plain), "tagged", "rate")
        | {
            "by_family": dict(sorted(Counter(f for _, t in plain for f in t).items())),
            "top_labels": [
                [label, count, sizes[label]] for label, count in tagged_by_label.most_common(5)
            ],
        },
        "adjacent": _share(sum(bool(t) for t in near), len(near), "tagged", "rate"),
    }


def _sentiment(
    present: dict[str, Dataset], scores: dict[str, list[float]], policy: Policy
) -> dict[str, Any]:
    threshold = policy.triggers.negative_sentiment.threshold
    trained = _sentiment_training_sets()
    sets: dict[str, Any] = {}
    for key in SENTIMENT_SETS:
        if key not in present:
            continue
        truth = [NEGATIVE_LABEL in row.labels for row in present[key].rows]
        values = scores[key]
        figures = BinaryCounts.of(truth, (s <= threshold for s in values)).as_dict()
        auc = roc_auc([-s for s in values], truth)
        best_t, best_f1 = best_f1_threshold(values, truth)
        sets[key] = figures | {
            "auc": None if auc is None else round(auc, 4),
            "best_threshold": round(best_t, 4),
            "best_f1": round(best_f1, 4),
        }
        cross_validated = trained.get(key)
        if cross_validated is not None and cross_validated.get("rows") == len(truth):
            # The shipped model learned from this set: its score here is in-sample and says
            # nothing about unseen text. Report (and judge targets by) the model file's k-fold
            # figures, where every row was scored by a model that never saw it.
            sets[key] = {
                "measured": "cross-validated (the shipped model was trained on this set)",
                "in_sample": sets[key],
                **{k: cross_validated[k] for k in ("f1", "precision", "recall", "auc")},
                "best_f1": cross_validated.get("best_f1"),
                "best_threshold": cross_validated.get("best_threshold"),
            }
    return {"threshold": threshold, "sets": sets}


def _sentiment_training_sets() -> dict[str, dict[str, Any]]:
    """Data set key → the sentiment model's cross-validated figures, for sets it learned from
    (with the row count it learned from, so a different file of the same name is not mistaken
    for it)."""
    model = json.loads(
        resources.files("warmhandoff.streams.detect")
        .joinpath("sentiment_model.json")
        .read_text(encoding="utf-8")
    )
    by_source = model["evaluation"]["cross_validated"]["by_source"]
    trained: dict[str, dict[str, Any]] = {}
    for entry in model["training_data"]:
        figures = by_source.get(entry["source"], {})
        if "f1" in figures:
            trained[entry["source"].replace("/", "_")] = figures
    return trained


def _language(detectors: _Detectors) -> dict[str, Any]:
    per_language = {}
    for lang, texts in CHECK_SET.items():
        found = [code for code, _ in detectors.run("language", detect_language, texts)]
        errors = Counter(code for code in found if code != lang)
        per_language[lang] = _share(len(found) - errors.total(), len(found), "correct", "accuracy")
        per_language[lang]["errors"] = dict(errors)
    correct = sum(v["correct"] for v in per_language.values())
    n = sum(v["n"] for v in per_language.values())
    return _share(correct, n, "correct", "accuracy") | {"per_language": per_language}


def _false_escalation(ds: Dataset, policy: Policy) -> dict[str, Any]:
    mapping, adjacent = RISK_MAPPING[ds.key]
    plain = [
        row.text
        for row in ds.rows
        if row.labels[0] not in mapping and row.labels[0] not in adjacent
    ]
    actions: Counter[str] = Counter()
    triggers: Counter[str] = Counter()
    for i, text in enumerate(plain):
        turn = Turn.model_validate(
            {
                "conversation_id": f"eval-{i}",
                "seq": 0,
                "ts": _EVAL_TS,
                "role": "customer",
                "channel": "chat",
                "locale": "en-US",
                "text": text,
            }
        )
        result = process_turn(new_state(turn.conversation_id), turn, policy, now=turn.ts)
        decision = result.decision if result else None
        action = str(decision.action) if decision else "none"
        actions[action] += 1
        if action in ESCALATING_ACTIONS and decision:
            triggers.update(hit.code for hit in decision.triggers)
    escalated = sum(actions[a] for a in ESCALATING_ACTIONS)
    return _share(escalated, len(plain), "escalated", "rate") | {
        "actions": dict(sorted(actions.items())),
        "triggers": dict(triggers.most_common()),
    }


def speed_turns(texts: Sequence[str]) -> list[Turn]:
    """Each text as the first customer turn of its own chat, with realistic metadata."""
    return [
        Turn.model_validate(
            {
                "event_id": f"e-{i}",
                "conversation_id": f"speed-{i}",
                "seq": 0,
                "ts": _EVAL_TS,
                "role": "customer",
                "channel": "chat",
                "locale": "en-US",
                "text": text,
                "customer": {
                    "id": f"u-{i % 4099}",
                    "tier": _TIERS[i % len(_TIERS)],
                    "verified": i % 3 == 0,
                    "churn_risk": (i % 10) / 10,
                    "lifetime_value": float(40 * (i % 97)),
                },
                "nlu": {"intent": "faq", "confidence": 0.5 + (i % 50) / 100, "fallback": False},
                "bot": {"action": "answer", "status": "ok"},
                "journey_stage": "support",
            }
        )
        for i, text in enumerate(texts)
    ]


def _speed(texts: Sequence[str], policy: Policy) -> dict[str, Any]:
    # Warm up on other texts first (lazy loading, first-call costs): a worker runs for
    # hours, and the language cache must not already hold the timed texts.
    for turn in speed_turns([text for texts in CHECK_SET.values() for text in texts]):
        process_turn(new_state(turn.conversation_id), turn, policy, now=turn.ts)
    turns = speed_turns(texts)
    started = time.process_time()
    for turn in turns:
        process_turn(new_state(turn.conversation_id), turn, policy, now=turn.ts)
    cpu = time.process_time() - started
    return {
        "turns": len(turns),
        "cpu_seconds": round(cpu, 3),
        "us_per_turn": _us(cpu, len(turns)),
        "turns_per_second": round(len(turns) / cpu) if cpu > 0 else None,
    }


def _targets(report: dict[str, Any]) -> list[dict[str, Any]]:
    """Every figure with a target, with the target and whether it is met."""
    checks = []
    for signal, metric, op, target, only in TARGETS:
        for set_key, value in _figures(report, signal, metric):
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


def _figures(report: dict[str, Any], signal: str, metric: str) -> list[tuple[str, Any]]:
    """(set, value) pairs of one metric of one signal in the report."""
    section = report[signal]
    if signal == "speed":
        return [("all", section[metric])]
    if signal == "language":
        return [("check_set", section["accuracy"])] + [
            (f"check_set.{lang}", v["accuracy"]) for lang, v in section["per_language"].items()
        ]
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


def _share(count: int, n: int, count_key: str, rate_key: str) -> dict[str, Any]:
    return {"n": n, count_key: count, rate_key: round(count / n, 4) if n else 0.0}


def _us(cpu_seconds: float, calls: int) -> float:
    return round(cpu_seconds / calls * 1e6, 1) if calls else 0.0
