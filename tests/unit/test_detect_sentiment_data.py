"""Sentiment quality on the public development data in ../shared/data (skipped when absent).

The shipped model is trained on TweetEval sentiment (validation), so its figures there are
measured by 5-fold cross-validation through the training script (each fold scored by a model
that never saw it), never by the shipped model itself. Floors sit a little below the measured
figures (docs/detection.md and the model file's `evaluation` hold them); `pytest -s` prints them.

Data and licences: TweetEval (Barbieri et al. 2020; no restriction on the collection,
source-task and Twitter terms apply), VADER ground truth (MIT, C.J. Hutto), CLINC150
(CC-BY-3.0, Clinc), Banking77 and NLU++ (CC-BY-4.0, PolyAI).
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
    document = build(["--data", str(DATA), "--out", str(out), "--cv", "5"])
    print("\nsentiment evaluation:", json.dumps(document["evaluation"], indent=1))
    result: dict[str, Any] = document
    return result


def test_tweeteval_cross_validated(evaluation: dict[str, Any]) -> None:
    figures = evaluation["evaluation"]["cross_validated"]["by_source"]["tweeteval/sentiment"]
    assert figures["auc"] >= 0.83
    assert figures["f1"] >= 0.50


def test_vader_ground_truth_cross_validated(evaluation: dict[str, Any]) -> None:
    figures = evaluation["evaluation"]["cross_validated"]["by_source"]
    assert figures["vader/tweets"]["auc"] >= 0.96
    assert figures["vader/amazon"]["auc"] >= 0.82


def test_few_support_queries_reach_the_policy_threshold(evaluation: dict[str, Any]) -> None:
    figures = evaluation["evaluation"]
    assert figures["cross_validated"]["by_source"]["banking77"]["flagged_share"] <= 0.015
    assert figures["cross_validated"]["by_source"]["clinc150"]["flagged_share"] <= 0.012
    assert figures["held_out_support_queries"]["nlupp/hotels"]["flagged_share"] <= 0.025


def test_shipped_model_is_what_the_script_trains(evaluation: dict[str, Any]) -> None:
    shipped = default_model()
    trained = evaluation["weights"]
    assert list(shipped.plain) == list(trained["plain"])
    for word, pair in trained["plain"].items():
        assert shipped.plain[word] == pytest.approx(tuple(pair), abs=0.002), word
