"""Per-turn sentiment: the learned model over words and VADER, on customer-service language."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from importlib.resources import files

import pytest
from hypothesis import given
from hypothesis import strategies as st

from warmhandoff.streams.detect import sentiment as module
from warmhandoff.streams.detect.sentiment import (
    MODEL_FILE,
    Model,
    default_model,
    load_model,
    negative_probability,
    probabilities,
    sentiment,
)


@pytest.mark.parametrize(
    "text",
    [
        "this is useless",
        "this is useless, I've been waiting for a week",
        "this is ridiculous, I am so frustrated",
        "worst service ever",
        "this is the third time I ask, where is my refund",
        "it is still not working",
        "I have been waiting for weeks and nobody answers",
        "the app keeps crashing, this is so annoying",
        "you are not helping",
        "what a joke",
        "this service is an absolute shambles",
    ],
)
def test_complaints_are_negative(text: str) -> None:
    assert sentiment(text) < -0.2


@pytest.mark.parametrize(
    "text",
    [
        "can you help me",
        "can you help me with my bill?",
        "I'd like to check my balance",
        "what are your opening hours",
        "where is my refund",
        "I want to speak to a human",
        "hello",
        "no",
        "",
        "   ",
    ],
)
def test_requests_are_neutral(text: str) -> None:
    assert sentiment(text) == pytest.approx(0.0, abs=0.15)


@pytest.mark.parametrize(
    "text",
    [
        "no, thank you",
        "no that's all thanks",
        "nope, nothing else, cheers",
        "No, not right now, thanks.",
        "not yet, thank you",
        "no no, that will be all for today",
        "There's nothing more I need. Bye!",
        "it doesn't matter which one",
        "I don't mind, any time works",
        "I don't care which hotel, as long as it has parking",
        "no preference",
        "No , that 's everything for now . Cheers .",
    ],
)
def test_declines_and_closings_are_not_negative(text: str) -> None:
    assert sentiment(text) > -0.1, text


@pytest.mark.parametrize(
    "text",
    [
        "my parcel has not arrived yet and nobody tells me why, this is useless",
        "nothing else works either, I am so fed up",
        "that's all you can do? what a joke, absolutely useless",
        "I don't care about your policy, this is unacceptable",
    ],
)
def test_complaints_with_decline_words_stay_negative(text: str) -> None:
    assert sentiment(text) <= -0.6, text


@pytest.mark.parametrize(
    ("typed", "plain"),
    [
        ("@acme_support I love it https://example.org/a/1", "I love it"),
        ("I do n't like it", "I don't like it"),
        ("I don\u2019t like it", "I don't like it"),
        ("#awful", "awful"),
    ],
)
def test_tweet_typing_reads_like_plain_text(typed: str, plain: str) -> None:
    assert sentiment(typed) == pytest.approx(sentiment(plain), abs=1e-9)


def test_emoji_carry_sentiment() -> None:
    assert sentiment("my order arrived \U0001f621") < sentiment("my order arrived")
    assert sentiment("my order arrived \U0001f60a") > sentiment("my order arrived")


@pytest.mark.parametrize(
    "text",
    ["thank you so much, that was great", "thanks, that worked", "great, thanks!", "no thanks"],
)
def test_thanks_are_positive(text: str) -> None:
    assert sentiment(text) > 0.2


def test_strong_thanks_are_strongly_positive() -> None:
    assert sentiment("thank you so much, that was great") > 0.5


@pytest.mark.parametrize(
    ("negated", "plain"),
    [
        ("this is not good", "this is good"),
        ("I am not happy with this service", "I am happy with this service"),
        ("that was not helpful", "that was helpful"),
    ],
)
def test_negation_turns_praise_into_complaint(negated: str, plain: str) -> None:
    assert sentiment(negated) < -0.3 < 0.2 < sentiment(plain)


def test_negated_complaint_is_not_a_complaint() -> None:
    assert sentiment("not bad at all") > sentiment("bad") + 0.5
    assert sentiment("not bad at all") > -0.1


def test_frustration_phrases_pull_the_score_down() -> None:
    assert sentiment("where is my refund, I already told you") < sentiment("where is my refund")


def test_plain_problem_reports_stay_above_the_policy_threshold() -> None:
    for text in ("my card was declined", "why is my transfer still pending?", "no kids"):
        assert sentiment(text) > -0.6, text


@pytest.mark.parametrize(
    "text",
    [
        "why did my payment fail?",
        "Why did the top-up fail",
        "is there a problem with my card?",
        "what is wrong with my account",
        "I tried twice and it was declined. Why is my card declined?",
    ],
)
def test_questions_about_a_problem_are_not_negative(text: str) -> None:
    assert module.asks(text)
    assert sentiment(text) > -0.2, text


@pytest.mark.parametrize(
    ("text", "asking"),
    [
        ("why is it still not working?", True),  # a frustration phrase
        ("why is your app so useless?", True),  # affect
        ("why did it fail AGAIN, this is ridiculous?!", False),  # exclaims
        ("my transfer failed, this is ridiculous", False),  # a statement
    ],
)
def test_frustration_and_affect_in_a_question_still_count(text: str, asking: bool) -> None:
    assert module.asks(text) is asking
    assert sentiment(text) <= -0.6, text


@pytest.mark.parametrize(
    "text",
    [
        "my card was declined",
        "Is the ATM broken? I can't get cash.",
        "The app is broken. What a joke",
        "thanks!",
        "",
    ],
)
def test_statements_and_exclamations_do_not_ask(text: str) -> None:
    assert not module.asks(text)


@given(st.text(max_size=300))
def test_score_is_always_in_range(text: str) -> None:
    assert -1.0 <= sentiment(text) <= 1.0
    assert 0.0 <= negative_probability(text) <= 1.0


@given(
    st.floats(0.0, 1.0),
    st.floats(0.0, 1.0),
    st.floats(0.0, 1.0),
    st.floats(0.0, 1.0),
)
def test_score_ranks_turns_by_negative_probability(
    n1: float, p1: float, n2: float, p2: float
) -> None:
    model = default_model()
    s1, s2 = model.score(n1, p1), model.score(n2, p2)
    assert -1.0 <= s1 <= 1.0
    if n1 > n2 and n1 >= model.positive_below:
        assert s1 <= s2
    if n1 > n2 and p1 == p2:
        assert s1 <= s2


def test_policy_threshold_sits_at_the_operating_point() -> None:
    model = default_model()
    assert model.score(model.operating_point, 0.0) == pytest.approx(-0.6)
    assert model.score(model.neutral, 0.0) == pytest.approx(0.0)


def test_scores_are_deterministic_and_independent_of_loading() -> None:
    texts = ["this is useless", "thanks!", "what are your opening hours", "no thanks"]
    first = [sentiment(text) for text in texts]
    fresh = load_model()
    assert [sentiment(text) for text in texts] == first
    assert [probabilities(text, fresh) for text in texts] == [probabilities(t) for t in texts]


def test_model_ships_as_package_data_with_provenance() -> None:
    raw = files("warmhandoff.streams.detect").joinpath(MODEL_FILE).read_text(encoding="utf-8")
    document = json.loads(raw)
    assert document["features_version"] == module.FEATURES_VERSION
    sources = {entry["source"]: entry for entry in document["training_data"]}
    assert "tweeteval/sentiment" in sources
    assert all(entry["licence"] and entry["mapping"] for entry in sources.values())
    assert all(len(entry["fingerprint"]) == 16 for entry in sources.values())
    assert "python -m warmhandoff.streams.lab.training.sentiment" in document["trained_by"]
    # Measured on data sets the model never saw, per held-out group.
    lodo = document["evaluation"]["leave_one_dataset_out"]
    assert set(lodo["groups"]) == {"tweeteval", "vader"}
    assert "tweeteval_sentiment" in lodo["groups"]["tweeteval"]["sets"]
    assert not set(lodo["groups"]["tweeteval"]["training"]) & set(
        lodo["groups"]["tweeteval"]["held_out"]
    )
    model = default_model()
    assert len(model.plain) > 1000
    assert len(raw) < 400_000


def test_a_model_for_other_features_is_refused() -> None:
    document = json.loads(
        files("warmhandoff.streams.detect").joinpath(MODEL_FILE).read_text(encoding="utf-8")
    )
    document["features_version"] = module.FEATURES_VERSION + 1
    with pytest.raises(ValueError, match="features_version"):
        Model.from_json(document)


def test_twice_encoded_text_reads_like_the_original() -> None:
    assert sentiment("I don\\u2019t like this at all") == sentiment("I don\u2019t like this at all")
    assert sentiment("this &amp; that are awful") == sentiment("this & that are awful")


def test_long_turns_cost_bounded_time() -> None:
    text = "my order never arrived and nobody answers. " * 3000
    start = time.perf_counter()
    score = sentiment(text)
    assert time.perf_counter() - start < 0.05
    assert score < -0.2


def test_scores_do_not_depend_on_the_process_hash_seed() -> None:
    texts = ["this is useless, I've been waiting for a week", "ok thanks, no problem at all"]
    code = (
        "import json, sys\n"
        "from warmhandoff.streams.detect.sentiment import sentiment\n"
        f"print(json.dumps([sentiment(t) for t in {texts!r}]))\n"
    )
    outputs = set()
    for seed in ("1", "2", "3"):
        env = {**os.environ, "PYTHONHASHSEED": seed}
        done = subprocess.run(
            [sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=60
        )
        assert done.returncode == 0, done.stderr
        outputs.add(done.stdout)
    assert len(outputs) == 1
    assert json.loads(outputs.pop()) == [sentiment(text) for text in texts]
