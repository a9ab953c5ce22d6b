"""Per-turn sentiment: VADER with customer-service adjustments."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st
from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

from warmhandoff.streams.detect.sentiment import sentiment


@pytest.mark.parametrize(
    "text",
    [
        "this is useless",
        "this is ridiculous, I am so frustrated",
        "worst service ever",
        "this is the third time I ask, where is my refund",
        "it is still not working",
        "I have been waiting for weeks and nobody answers",
    ],
)
def test_complaints_are_negative(text: str) -> None:
    assert sentiment(text) < -0.2


@pytest.mark.parametrize(
    "text",
    ["can you help me", "can you help me with my bill?", "I'd like to check my balance", ""],
)
def test_requests_for_help_are_neutral(text: str) -> None:
    assert sentiment(text) == pytest.approx(0.0, abs=0.1)


def test_thanks_are_positive() -> None:
    assert sentiment("thank you so much, that was great") > 0.5


def test_frustration_phrases_pull_the_score_down() -> None:
    assert sentiment("where is my refund, I already told you") < sentiment("where is my refund")


_VADER = SentimentIntensityAnalyzer()


@given(st.lists(st.sampled_from(["order", "the", "my", "where", "is", "parcel", "?", "!!"])))
def test_turns_without_lexicon_words_score_zero_like_vader(tokens: list[str]) -> None:
    text = " ".join(tokens)
    assert sentiment(text) == _VADER.polarity_scores(text)["compound"] == 0.0


@given(st.text(max_size=200))
def test_score_is_always_in_range(text: str) -> None:
    assert -1.0 <= sentiment(text) <= 1.0
