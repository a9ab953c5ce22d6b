"""Sentiment quality on the public development data in ../shared/data (skipped when absent).

The shipped model is trained on every labelled set here, so its own scores on them are
in-sample and measure nothing. The figures checked are the training script's: K-fold
cross-validated (each fold scored by a model that never saw it) and leave-one-dataset-out
(each group of sets, TweetEval or VADER, scored by a model trained without any of it). Floors
sit a little below the measured figures (the model file's `evaluation` holds them);
`pytest -s` prints them.

Data and licences: TweetEval (Barbieri et al. 2020; no restriction on the collection,
source-task and Twitter terms apply), VADER ground truth (MIT, C.J. Hutto), CLINC150
(CC-BY-3.0, Clinc), Banking77 and NLU++ (CC-BY-4.0, PolyAI), MultiWOZ (MIT).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from warmhandoff.streams.detect.sentiment import MODEL_FILE, default_model

DATA = Path(__file__).resolve().parents[2].parent / "shared" / "data"

pytestmark = [
    pytest.mark.data,
    pytest.mark.skipif(not DATA.is_dir(), reason="../shared/data is not present"),
]


@pytest.fixture(scope="module")
def evaluation(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    pytest.importorskip("sklearn")
    from warmhandoff.streams.lab.training.sentiment import build

    out = tmp_path_factory.mktemp("sentiment") / MODEL_FILE
    document = build(["--data", str(DATA), "--out", str(out), "--cv", "5", "--lodo"])
    print("\nsentiment evaluation:", json.dumps(document["evaluation"], indent=1))
    result: dict[str, Any] = document
    return result


def test_tweeteval_cross_validated(evaluation: dict[str, Any]) -> None:
    figures = evaluation["evaluation"]["cross_validated"]["by_source"]["tweeteval/sentiment"]
    assert figures["auc"] >= 0.83
    assert figures["f1"] >= 0.52


def test_vader_ground_truth_cross_validated(evaluation: dict[str, Any]) -> None:
    figures = evaluation["evaluation"]["cross_validated"]["by_source"]
    assert figures["vader/tweets"]["auc"] >= 0.96
    assert figures["vader/amazon"]["auc"] >= 0.81


def test_held_out_groups(evaluation: dict[str, Any]) -> None:
    groups = evaluation["evaluation"]["leave_one_dataset_out"]["groups"]
    tweeteval = groups["tweeteval"]["sets"]["tweeteval_sentiment"]
    assert tweeteval["auc"] >= 0.82
    assert tweeteval["f1"] >= 0.49
    assert groups["tweeteval"]["sets"]["tweeteval_emotion"]["f1"] >= 0.74
    vader = groups["vader"]["sets"]
    assert vader["vader_tweets"]["auc"] >= 0.95
    assert vader["vader_tweets"]["f1"] >= 0.77
    assert vader["vader_amazon"]["auc"] >= 0.76


def test_few_support_turns_reach_the_policy_threshold(evaluation: dict[str, Any]) -> None:
    figures = evaluation["evaluation"]
    assert figures["operating_point"]["support_cap_met"]
    assert figures["cross_validated"]["by_source"]["banking77"]["flagged_share"] <= 0.015
    assert figures["cross_validated"]["by_source"]["clinc150"]["flagged_share"] <= 0.012
    held_out = figures["held_out_support_turns"]
    assert held_out["nlupp/hotels"]["flagged_share"] <= 0.02
    assert held_out["multiwoz"]["flagged_share"] <= 0.005
    for group in figures["leave_one_dataset_out"]["groups"].values():
        assert group["unseen_support_turns"]["nlupp_hotels"]["share"] <= 0.025
        assert group["unseen_support_turns"]["multiwoz"]["share"] <= 0.005


def test_shipped_model_is_what_the_script_trains(evaluation: dict[str, Any]) -> None:
    shipped = default_model()
    trained = evaluation["weights"]
    assert list(shipped.plain) == list(trained["plain"])
    for word, pair in trained["plain"].items():
        assert shipped.plain[word] == pytest.approx(tuple(pair), abs=0.002), word
    assert shipped.operating_point == evaluation["calibration"]["operating_point"]
    fingerprints = {e["source"]: e["fingerprint"] for e in evaluation["training_data"]}
    assert {e["source"]: e["fingerprint"] for e in shipped.meta["training_data"]} == fingerprints
