"""Regression floors on the public development sets in ../shared/data (skipped when absent).

The shipped classifier learned from these sets, so the figures here are in-sample: they
guard against a change that breaks what the detectors already knew, and measure nothing
about unseen text (`warmhandoff eval` does, leave-one-dataset-out).

Label-to-signal mapping used here:
- NLU++ hotels (CC-BY-4.0, PolyAI): intent `handoff` = explicit request for a human.
- Banking77 train (CC-BY-4.0, PolyAI): compromised_card, lost_or_stolen_card,
  card_payment_not_recognised, cash_withdrawal_not_recognised -> fraud;
  unable_to_verify_identity, passcode_forgotten, pin_blocked -> identity; transaction_charged_twice, request_refund ->
  payments; terminate_account -> cancellation.
- CLINC150 train+val (CC-BY-3.0, Clinc): report_fraud, freeze_account, report_lost_card ->
  fraud. Plain information requests: out-of-scope queries plus every in-scope intent except
  those about fraud, blocked accounts, declined cards and PIN changes.

Floors sit a little below the measured figures so the suite guards against regressions;
`pytest -s tests/unit/test_detect_shared_data.py` prints the figures.
"""

from __future__ import annotations

import csv
import json
from collections import Counter
from pathlib import Path

import pytest

from warmhandoff.streams.detect.human_request import is_human_request
from warmhandoff.streams.detect.risk import risk_families
from warmhandoff.streams.lab.training.text_labels import BANKING77_RISK, CLINC150_RISK

DATA = Path(__file__).resolve().parents[2].parent / "shared" / "data"

pytestmark = [
    pytest.mark.data,
    pytest.mark.skipif(not DATA.is_dir(), reason="../shared/data is not present"),
]

# The label-to-signal mapping is the one `warmhandoff eval` documents and scores with.
BANKING77 = BANKING77_RISK
CLINC_RISK = CLINC150_RISK
CLINC_NOT_PLAIN = {*CLINC_RISK, "account_blocked", "card_declined", "pin_change"}


def _clinc() -> dict[str, list[list[str]]]:
    with (DATA / "clinc150" / "clinc150_dev.json").open(encoding="utf-8") as handle:
        data: dict[str, list[list[str]]] = json.load(handle)
    return data


def test_human_request_f1_on_nlupp() -> None:
    tp = fp = fn = 0
    for path in sorted((DATA / "nlupp" / "hotels").glob("fold*.json")):
        for row in json.loads(path.read_text(encoding="utf-8")):
            truth = "handoff" in row.get("intents", [])
            predicted = is_human_request(row["text"])
            tp += truth and predicted
            fp += predicted and not truth
            fn += truth and not predicted
    f1 = 2 * tp / (2 * tp + fp + fn)
    print(f"\nNLU++ handoff: tp={tp} fp={fp} fn={fn} F1={f1:.3f}")
    assert f1 >= 0.95, (tp, fp, fn)


def test_human_request_is_rare_on_banking_and_clinc() -> None:
    texts = [row["text"] for row in csv.DictReader((DATA / "banking77" / "train.csv").open())]
    texts += [text for split in _clinc().values() for text, _ in split]
    flagged = sum(is_human_request(text) for text in texts)
    print(f"\nhuman request on Banking77+CLINC150: {flagged}/{len(texts)}")
    # The few hits are genuine ("I need to talk to someone about a fraudulent charge").
    assert flagged / len(texts) <= 0.002


def test_risk_recall_on_banking77() -> None:
    hits: Counter[str] = Counter()
    totals: Counter[str] = Counter()
    with (DATA / "banking77" / "train.csv").open(encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            family = BANKING77.get(row["category"])
            if family:
                totals[family] += 1
                hits[family] += family in risk_families(row["text"])
    recall = {family: hits[family] / totals[family] for family in totals}
    print("\nBanking77 recall:", {family: round(value, 3) for family, value in recall.items()})
    floors = {"fraud": 0.93, "identity": 0.95, "payments": 0.93, "cancellation": 0.95}
    assert all(recall[family] >= floor for family, floor in floors.items()), recall


def test_risk_recall_and_false_tags_on_clinc() -> None:
    data = _clinc()
    rows = [(text, intent) for split in ("train", "val") for text, intent in data[split]]
    fraud = [text for text, intent in rows if intent in CLINC_RISK]
    recall = sum("fraud" in risk_families(text) for text in fraud) / len(fraud)
    plain = [text for text, intent in rows if intent not in CLINC_NOT_PLAIN]
    plain += [text for split in ("oos_train", "oos_val") for text, _ in data[split]]
    false_tags = sum(bool(risk_families(text)) for text in plain) / len(plain)
    print(
        f"\nCLINC150 fraud recall={recall:.3f},",
        f"plain requests tagged={false_tags:.4f} of {len(plain)}",
    )
    assert recall >= 0.93
    assert false_tags <= 0.01
