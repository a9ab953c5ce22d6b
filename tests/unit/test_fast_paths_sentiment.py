"""The sentiment hot path's shortcuts give exactly what the plain computation gives.

`Model.logits` skips VADER on turns without a lexicon word (`FastAnalyzer.may_score`), skips
the frustration-phrase scan on turns without one of its words, and reads the negation scopes
only when a negator occurs; `Model.reference_logits` takes none of these shortcuts.
"""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from warmhandoff.streams.detect import sentiment as S
from warmhandoff.streams.detect.gate import words
from warmhandoff.streams.detect.normalize import fold
from warmhandoff.streams.lab.eval.language_checkset import CHECK_SET

from .test_detect_risk import CASES as RISK_CASES

SENTIMENT_TEXTS = sorted(
    {text for texts in (*CHECK_SET.values(), *RISK_CASES.values()) for text in texts}
    | {
        "this is useless, I've been waiting for a week",
        "this is the third time I ask, where is my refund",
        "It is STILL not working!!! :(",
        "no thanks, that's all :)",
        "I don't hate it, but it isn't good either",
        "thanks for nothing",
        "@shop_help sooo disappointed with my order 😡 http://example.org/p/1",
        "No , nothing else . Thank you .",
        "no not right now, maybe next week",
        "I do n't mind which one, as long as it's cheap",
    }
)

ANALYZER = S._ANALYZER

# Lexicon words, entries with punctuation (emoticons, "self-confident", "o.o", "j/k"),
# negators and scope ends, words of every frustration phrase, capitals, escapes, non-ASCII.
FRAGMENTS = [
    "good", "GOOD", "bad", "terrible", "useless", "love", "hate", "very", "kind of", "not",
    "never", "don't", "isn't", "no", "but", "least", "without doubt", "the bomb", ":)", ":(",
    ":-(", "</3", "<3", "o.o", "8-d", "self-confident", "aug-00", "j/k", "(:", ":D", "x-d",
    "still", "not working", "waiting", "been waiting for days", "for the third time", "again",
    "and again", "over and over", "not what i asked", "how many times", "already told",
    "waste of time", "fed up", "had enough", "no one", "nobody helps", "thanks for nothing",
    "what a joke", "it's a joke", "such a farce", "an absolute shambles", "jokes",
    "thank you", "I'd like", "no thanks", "my card", "refund", "help", "please", "?", "!",
    "!!", ".", ",", ";", ":", "...", "'", "-", "(", ")", "/", "$5", "&amp;", "\\u2019",
    "café", "😁", "ok", "it's", "I", "d", "s", "o", "8", "lol",
    # tweets and tokenised text: handles, links, hashtags, stretched letters, emoji, clitics
    "@someone", "http://example.org/x", "www.example.org", "#fail", "sooooo", "NOOOO", "😡",
    "🙂", "☹", "do n't", "it 's", "I 'm", "don\u2019t",
    # declines and closings
    "nothing else", "that's all", "thats everything", "not right now", "not yet", "nope",
    "doesn't matter", "don't mind", "no preference", "don't care", "which", "as long as",
]  # fmt: skip
JOINERS = ["", " ", "  ", "\t", "\n"]
texts = st.lists(
    st.tuples(st.sampled_from(FRAGMENTS), st.sampled_from(JOINERS)), min_size=1, max_size=10
).map(lambda parts: "".join(f + j for f, j in parts))


@settings(max_examples=1500, deadline=None)
@given(texts)
def test_logits_equal_the_plain_computation(text: str) -> None:
    model = S.default_model()
    assert model.logits(text) == model.reference_logits(text)


@pytest.mark.parametrize("text", SENTIMENT_TEXTS)
def test_logits_equal_the_plain_computation_on_case_sentences(text: str) -> None:
    model = S.default_model()
    assert model.logits(text) == model.reference_logits(text)


@settings(max_examples=1500, deadline=None)
@given(texts)
def test_vader_word_prefilter_changes_nothing(text: str) -> None:
    prepared = S.prepare(text)
    assert ANALYZER.scores(prepared, words(fold(prepared))) == ANALYZER.scores(prepared)


@given(st.text(alphabet=st.characters(max_codepoint=127), max_size=60))
def test_vader_word_prefilter_changes_nothing_on_any_ascii(text: str) -> None:
    assert ANALYZER.scores(text, words(fold(text))) == ANALYZER.scores(text)


@pytest.mark.parametrize("around", ["{}", "({})", "{}!", "'{}'", "x {} y", "{}..."])
def test_every_lexicon_entry_opens_the_prefilter(around: str) -> None:
    missed = []
    for entry in ANALYZER.lexicon:
        text = around.format(entry)
        scores = ANALYZER.scores(text) if text.isascii() else (0.0, 0.0, 0.0)
        if scores != (0.0, 0.0, 0.0) and not ANALYZER.may_score(text, words(fold(text))):
            missed.append(entry)
    assert missed == []


def test_prefilter_is_taken_on_plain_requests() -> None:
    # the shortcut must actually be taken, or it only adds cost
    plain = ["where is my card", "how do I change my address?", "what is the fee for transfers"]
    assert not any(ANALYZER.may_score(t, words(fold(t))) for t in plain)


@settings(max_examples=800, deadline=None)
@given(texts)
def test_frustration_word_gate_changes_nothing(text: str) -> None:
    folded = fold(S.prepare(text))
    assert S._frustration_hits(folded, words(folded)) == len(S._FRUSTRATION.findall(folded))


PROBLEM_FRAGMENTS = [
    "fail", "FAILED", "failures", "Problem", "issue", "errors", "wrong", "broken", "declined",
    "declining", "denied", "stuck", "pending", "\u017f", "\u212a", "\u0130", "_", "é", " ", "?", ".", "s",
    "ing", "why did it ",
]  # fmt: skip


@settings(max_examples=1500, deadline=None)
@given(st.lists(st.sampled_from(PROBLEM_FRAGMENTS), max_size=8).map("".join))
def test_problem_word_prefilter_admits_every_problem_word(text: str) -> None:
    if S._PROBLEM.search(text):
        assert not S._PROBLEM_WORDS.isdisjoint(words(fold(text)))


DECLINE_FRAGMENTS = [
    "no", "No", "nope", "not", "NOT", "nothing", "anything", "else", "more", "further", "that",
    "that's", "thats", "is", "will be", "all", "everything", "right", "now", "today", "yet",
    "at the moment", "doesn't", "don't", "do not", "dont", "did", "matter", "mind",
    "preference", "care", "really", "which", "as long", "either", ",", ".", "!", " ", "  ",
    "\u017f", "\u212a",
]  # fmt: skip


@settings(max_examples=1500, deadline=None)
@given(st.lists(st.sampled_from(DECLINE_FRAGMENTS), max_size=10).map(" ".join))
def test_decline_word_prefilter_admits_every_decline(text: str) -> None:
    present = words(fold(text))
    for first, second, pattern in S._DECLINES:
        if pattern.search(text):
            assert not first.isdisjoint(present), pattern.pattern
            assert not second.isdisjoint(present), pattern.pattern
            assert not S._DECLINE_WORDS.isdisjoint(present)
