"""The learned text classifier: its features, its model file, and what the shipped one finds."""

from __future__ import annotations

import json
from importlib.resources import files
from typing import Any

import pytest

from warmhandoff.streams.detect.human_request import is_human_request
from warmhandoff.streams.detect.normalize import fold
from warmhandoff.streams.detect.risk import risk_families
from warmhandoff.streams.detect.text_classifier import (
    MODEL_FILE,
    MODEL_FORMAT,
    ModelFileError,
    TextClassifier,
    shipped,
)
from warmhandoff.streams.detect.text_features import FEATURES_VERSION, features, tokens


def _model(**overrides: Any) -> dict[str, Any]:
    model = {
        "format": MODEL_FORMAT,
        "features_version": FEATURES_VERSION,
        "heads": ["human_request", "fraud"],
        "thresholds": [0.5, 0.5],
        "bias": [-2.0, -2.0],
        "weights": {" human": [3.0, 0.0], " stolen": [0.0, 3.0], "tole": [0.0, 0.5]},
    }
    return model | overrides


def test_features_are_words_pairs_and_letter_groups() -> None:
    found = features("talk to agnet")
    assert {" talk", " to", " agnet"} <= set(found)
    assert {"talk to", "to agnet"} <= set(found)
    # letter groups of the padded words, none across two words
    assert {"<tal", "alk>", "<to>", "<agn", "gnet", "net>"} <= set(found)
    assert not any(" " in f.strip() and len(f) == 4 for f in found)


def test_a_split_contraction_reads_as_the_joined_one() -> None:
    assert tokens("i do n't know") == tokens("i don't know")


def test_features_of_empty_text_are_empty() -> None:
    assert features("") == []


def test_scores_sum_the_weights_of_known_features() -> None:
    classifier = TextClassifier(_model())
    assert classifier.found("a human please") == ("human_request",)
    assert classifier.found("my card was stolen") == ("fraud",)
    assert classifier.found("what time is it") == ()
    probabilities = classifier.probabilities("nothing known here")
    assert probabilities["fraud"] == pytest.approx(1 / (1 + 2.718281828**2), rel=1e-6)


def test_threshold_decides() -> None:
    strict = TextClassifier(_model(thresholds=[0.99, 0.5]))
    assert strict.found("human") == ()


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"format": "something else"}, "not a"),
        ({"features_version": FEATURES_VERSION + 1}, "retrain"),
    ],
)
def test_a_model_file_of_another_kind_is_refused(overrides: dict[str, Any], message: str) -> None:
    with pytest.raises(ModelFileError, match=message):
        TextClassifier(_model(**overrides))


def test_the_shipped_model_records_where_it_came_from() -> None:
    raw = json.loads(files("warmhandoff.streams.detect").joinpath(MODEL_FILE).read_text("utf-8"))
    assert raw["trained_by"].startswith("python -m warmhandoff.streams.lab.training")
    assert "written" in raw["training_data"]
    assert set(raw["leave_one_dataset_out"]) <= {"banking77", "clinc150", "nlupp"}
    assert shipped().heads == ("human_request", "fraud", "identity", "payments", "cancellation")


# Requests the patterns do not spell out: questions about reaching someone, misspellings and
# chat spelling. Written for this test.
@pytest.mark.parametrize(
    "text",
    [
        "how do i get hold of an actual person",
        "can i tlak to a humna pls",
        "i want to speek to a representitive",
        "wheres the number to call customer servise",
        "is there any way to reach a human being on the phone?",
        "pls connect me w/ a live rep",
        "can somebody from ur team call me back",
        "i need a real human to look at this asap",
    ],
)
def test_requests_in_other_words_are_found(text: str) -> None:
    assert is_human_request(text)


@pytest.mark.parametrize(
    "text",
    [
        "I never wanted to chat with a person, the bot is fine",
        "the agent I spoke to yesterday already fixed it",
        "can I book a session with a personal trainer",
    ],
)
def test_mentions_of_people_that_are_not_requests(text: str) -> None:
    assert not is_human_request(text)


@pytest.mark.parametrize(
    ("text", "family"),
    [
        ("the same 30 euro debit came out of my account two times", "payments"),
        ("someone in another country has been logging into my profile", "fraud"),
        ("please shut my account down, I'm moving to another bank", "cancellation"),
    ],
)
def test_risk_in_other_words_is_found(text: str, family: str) -> None:
    assert family in risk_families(text)


def test_scores_are_deterministic() -> None:
    text = fold("my card got charged twice, pls help")
    assert shipped().logits(text).tolist() == shipped().logits(text).tolist()


@pytest.mark.parametrize(
    "folded",
    [
        "a human please",
        "stolen stolen, my card was stolen",  # a repeated word counts each time
        "talk to human now",  # the pair "to human" has a weight
        "x",  # one letter: no letter group
        "",
    ],
)
def test_scores_by_word_equal_the_sum_over_features(folded: str) -> None:
    table = _model()["weights"] | {"to human": [1.5, 0.0]}
    classifier = TextClassifier(_model(weights=table))
    expected = [
        bias + sum(table.get(name, [0.0, 0.0])[head] for name in features(folded))
        for head, bias in enumerate(_model()["bias"])
    ]
    assert classifier.logits(folded).tolist() == pytest.approx(expected, abs=1e-12)


def test_word_rows_are_forgotten_when_full_and_scores_stay_the_same(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr("warmhandoff.streams.detect.text_classifier.WORD_ROWS", 4)
    classifier = TextClassifier(_model())
    first = classifier.logits("my card was stolen").tolist()
    for text in ("one two three", "four five six", "human seven"):
        classifier.logits(text)
    assert classifier.logits("my card was stolen").tolist() == first
    assert classifier.found("a human please") == ("human_request",)
