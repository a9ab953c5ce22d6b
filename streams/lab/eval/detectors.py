"""`warmhandoff eval`: how well the judgement holds on data it never learned from, and its cost.

Sections (each module's docstring says how it measures):
- `human_request`, `risk`: leave-one-dataset-out over Banking77, CLINC150 and NLU++
  (`topics`); the examples written for this project only ever train;
- `negative_sentiment`: leave-one-dataset-out over TweetEval and VADER (`sentiment_lodo`);
- `language`: the hand-written check set (`language_checkset`), macro-averaged over its
  languages, Hindi and Arabic in Latin letters included;
- `ordinary`: MultiWOZ dialogues where nobody needed a human, by half (`ordinary`): the
  `report` half is the one nobody tuned on;
- `conversations`: the project's scripted scenarios (`conversations`): scripted, so they
  show the mechanism works, not how often real dissatisfied customers are caught. There are
  no labelled dissatisfied conversations in the development data, so no figure here claims to;
- `speed`: CPU per unseen customer turn and per detector call (`speed`).

With `embeddings` (`--embeddings`, the `embeddings` extra): the human-request and risk
sections gain `detector+emb` and `classifier+emb` rows, and the speed section the cost per
turn with the blend on, on a sample (`embedding_rows`); their targets are judged apart.

The shipped models learned from every development set, so their scores on those sets are
in-sample: none is reported.

JSON report (`--json`), stable keys; rates are shares in [0, 1]; an absent data set is
marked `present: false` in `datasets` and its sections are left out:
- `report_version` (2), `data`, `max_per_set`, `policy_version`, `datasets.<key>`;
- `human_request` and `risk`: see `topics.topic_sections`;
- `negative_sentiment`: `threshold`, `measured`, `recipe`, `sets.<key>` (figures of the
  fold that held the set out), `groups` (as `sentiment_lodo.leave_one_dataset_out`);
- `language`: `n`, `correct`, `accuracy`, `macro_accuracy`, `per_language.<key>`;
- `ordinary`: as `ordinary.ordinary_conversations`; `conversations.sets.simulated`;
- `speed`: `turns`, `cpu_seconds`, `us_per_turn`, `turns_per_second`, `install`,
  `detectors.<name>` (`calls`, `us_per_call`);
- `targets`: [{`signal`, `set`, `metric`, `value`, `op`, `target`, `met`}], `targets_met`;
- with `embeddings` only: `detector+emb` and `classifier+emb` in `human_request` and `risk`,
  `speed.embeddings` (as `speed`, plus `default_us_per_turn` on the same sample), and
  `targets_embeddings`, `targets_met_embeddings` (human request, risk and speed only).
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

from warmhandoff.streams.detect.human_request import is_human_request
from warmhandoff.streams.detect.language import detect_language
from warmhandoff.streams.detect.normalize import fold
from warmhandoff.streams.detect.risk import risk_families
from warmhandoff.streams.detect.sentiment import sentiment
from warmhandoff.streams.detect.text_classifier import shipped
from warmhandoff.streams.lab.eval.conversations import conversation_checks
from warmhandoff.streams.lab.eval.datasets import Dataset, load_datasets
from warmhandoff.streams.lab.eval.language_checkset import (
    CHECK_SET,
    expected_language,
    macro_accuracy,
)
from warmhandoff.streams.lab.eval.metrics import share
from warmhandoff.streams.lab.eval.ordinary import ordinary_conversations
from warmhandoff.streams.lab.eval.sentiment_lodo import leave_one_dataset_out
from warmhandoff.streams.lab.eval.speed import DetectorClock, turn_cost
from warmhandoff.streams.lab.eval.targets import judge
from warmhandoff.streams.lab.eval.topics import topic_sections
from warmhandoff.streams.policy.loader import load_policy
from warmhandoff.streams.policy.model import Policy

REPORT_VERSION = 2


def evaluate(
    data: Path,
    *,
    max_per_set: int | None = None,
    policy: Policy | None = None,
    embeddings: bool = False,
    embeddings_cache: Path | None = None,
) -> dict[str, Any]:
    """Measure the judgement on the data sets under `data`; the JSON report as a dict.

    `embeddings` adds the sentence-embedding blend's figures (`embeddings_cache`: where the
    embeddings are kept between runs).
    """
    if embeddings:
        from warmhandoff.streams.detect.sentence_encoder import shared_encoder

        shared_encoder()  # without the extra, say so now, not after minutes of measuring
    sets = load_datasets(data, max_per_set=max_per_set)
    present = {key: ds for key, ds in sets.items() if ds is not None}
    policy = policy or load_policy()
    threshold = policy.triggers.negative_sentiment.threshold
    report: dict[str, Any] = {
        "report_version": REPORT_VERSION,
        "data": str(data),
        "max_per_set": max_per_set,
        "policy_version": policy.version,
        "datasets": {key: _dataset_info(ds) for key, ds in sets.items()},
    }
    report |= topic_sections(present, embeddings=embeddings, cache=embeddings_cache)
    sentiment_section = _sentiment(data, threshold)
    if sentiment_section is not None:
        report["negative_sentiment"] = sentiment_section
    report["language"] = _language()
    ordinary = ordinary_conversations(data, policy)
    if ordinary is not None:
        report["ordinary"] = ordinary
    report["conversations"] = conversation_checks(policy)

    texts = [row.text for ds in present.values() for row in ds.rows]
    warm_up = [text for texts in CHECK_SET.values() for text in texts]
    report["speed"] = turn_cost(texts, warm_up, policy)
    clock = DetectorClock()
    for name, detector in (
        ("text_classifier", lambda text: shipped().found(fold(text))),
        ("human_request", is_human_request),
        ("risk", risk_families),
        ("sentiment", sentiment),
        ("language", detect_language),
    ):
        clock.run(name, detector, texts)
    report["speed"]["detectors"] = clock.report()
    report["targets"] = judge(report)
    report["targets_met"] = all(check["met"] for check in report["targets"])
    if embeddings:
        from warmhandoff.streams.lab.eval.embedding_rows import embedding_cost

        report["speed"]["embeddings"] = embedding_cost(texts, warm_up, policy)
        report["targets_embeddings"] = judge(report, embeddings=True)
        report["targets_met_embeddings"] = all(c["met"] for c in report["targets_embeddings"])
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


def _sentiment(data: Path, threshold: float) -> dict[str, Any] | None:
    lodo = leave_one_dataset_out(data, threshold)
    if lodo is None:
        return None
    sets = {key: f for group in lodo["groups"].values() for key, f in group["sets"].items()}
    return {
        "threshold": threshold,
        "measured": "leave-one-dataset-out",
        "recipe": lodo["recipe"],
        "sets": sets,
        "groups": lodo["groups"],
    }


def _language() -> dict[str, Any]:
    per_language = {}
    for key, texts in CHECK_SET.items():
        found = [detect_language(text)[0] for text in texts]
        expected = expected_language(key)
        errors = Counter(code for code in found if code != expected)
        per_language[key] = share(len(found) - errors.total(), len(found), "correct", "accuracy")
        per_language[key]["errors"] = dict(errors)
    correct = sum(v["correct"] for v in per_language.values())
    n = sum(v["n"] for v in per_language.values())
    macro = macro_accuracy({key: v["accuracy"] for key, v in per_language.items()})
    return share(correct, n, "correct", "accuracy") | {
        "macro_accuracy": round(macro, 4),
        "per_language": per_language,
    }
