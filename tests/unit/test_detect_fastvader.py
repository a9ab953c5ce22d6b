"""FastAnalyzer gives VADER's scores exactly, on text built from the words its rules read."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

from warmhandoff.streams.detect.fastvader import FastAnalyzer

VADER = SentimentIntensityAnalyzer()
FAST = FastAnalyzer()

# Lexicon words, boosters and dampeners, negations, "no", "but", "least", "kind of", the
# idioms and special cases, capitals, emoticons and punctuation.
WORDS = (
    "good GOOD bad BAD great terrible love hate useless happy very VERY really extremely kinda"
    " kind of sort slightly barely not NOT never isn't don't without doubt nor or no No but BUT"
    " least at so this the shit bomb yeah right ass kiss death to die for cut mustard my card"
    " is I :) :( :D ! !! ? ?? ???? good! bad, ... 's x"
)
TOKENS = WORDS.split()


def scores(analyzer_result: dict[str, float]) -> tuple[float, float, float]:
    return analyzer_result["compound"], analyzer_result["neg"], analyzer_result["pos"]


@settings(max_examples=500)
@given(st.lists(st.sampled_from(TOKENS), max_size=14))
def test_same_scores_as_vader_on_rule_words(tokens: list[str]) -> None:
    text = " ".join(tokens)
    assert FAST.scores(text) == scores(VADER.polarity_scores(text))


@given(st.text(alphabet=st.characters(max_codepoint=127), max_size=80))
def test_same_scores_as_vader_on_any_ascii(text: str) -> None:
    assert FAST.scores(text) == scores(VADER.polarity_scores(text))


@pytest.mark.parametrize(
    "text",
    [
        "VADER is VERY SMART, handsome, and FUNNY!!!",
        "The plot was good, but the characters are uncompelling and the dialog is not great.",
        "At least it isn't a horrible book.",
        "Today only kinda sux! But I'll get by, lol",
        "Catch utf-8 emoji such as 💘 and 💋 and 😁",
        "Not bad at all",
        "never so good, without doubt the bomb",
        "",
    ],
)
def test_same_scores_as_vader_on_its_examples(text: str) -> None:
    assert FAST.scores(text) == scores(VADER.polarity_scores(text))
