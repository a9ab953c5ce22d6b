"""VADER's scores, computed the same way with less work per word.

vaderSentiment 3.3.2 spends most of its time re-lowercasing the whole turn for every lexicon
word it looks at (negation, idiom and "but" checks each build a fresh list) and, before
anything, rebuilding the text character by character to spell out emoji. `FastAnalyzer`
lowercases once, visits only the words in the lexicon, and skips the emoji pass on ASCII text
(emoji are never ASCII). It follows VADER's rules line by line, reuses its constants and its
final scoring, and hands non-ASCII text to VADER itself; the tests compare the two on
generated and real text.

Most customer turns hold no lexicon word at all. Given the set of the turn's alphanumeric
words, which the detectors build once per turn anyway (`gate.words`), `scores` answers those
turns with a set intersection instead of tokenising (see `FastAnalyzer.may_score`).
"""

from __future__ import annotations

import math
import re
import string
from collections.abc import Set

from vaderSentiment.vaderSentiment import (
    BOOSTER_DICT,
    C_INCR,
    N_SCALAR,
    NEGATE,
    SPECIAL_CASES,
    SentimentIntensityAnalyzer,
)

_NEGATE = frozenset(NEGATE)
_PUNCTUATION = string.punctuation
_SO_THIS = ("so", "this")
_ALNUM = re.compile(r"[a-z0-9]+")
# Punctuation common in plain sentences; a lexicon entry made of words and these only
# ("self-confident", "o.o") is indexed by its longest word instead.
_COMMON_PUNCTUATION = frozenset(".,'-?!\"")
_ZERO = (0.0, 0.0, 0.0)


def _negated(word: str) -> bool:
    return word in _NEGATE or "n't" in word


def _score(sentiments: list[float], text: str) -> tuple[float, float, float]:
    """VADER's `score_valence` (with its rounding), as (compound, neg, pos)."""
    # Only lexicon words score: the other tokens are zeros, which add nothing to the sums
    # (a partial sum is never -0.0) and count as neutral.
    scored = [value for value in sentiments if value]
    total = float(sum(scored))
    exclamations = min(text.count("!"), 4) * 0.292
    questions = text.count("?")
    emphasis = exclamations + (
        0.0 if questions <= 1 else questions * 0.18 if questions <= 3 else 0.96
    )
    if total > 0:
        total += emphasis
    elif total < 0:
        total -= emphasis
    compound = max(-1.0, min(1.0, total / math.sqrt(total * total + 15)))
    positive = negative = 0.0
    neutral = len(sentiments) - len(scored)
    for value in scored:
        if value > 0:
            positive += value + 1
        else:
            negative += value - 1
    if positive > -negative:
        positive += emphasis
    elif positive < -negative:
        negative -= emphasis
    mass = positive - negative + neutral
    return round(compound, 4), round(-negative / mass, 3), round(positive / mass, 3)


class FastAnalyzer(SentimentIntensityAnalyzer):  # type: ignore[misc]
    """A `SentimentIntensityAnalyzer` with a fast `scores` method (same results)."""

    def __init__(self) -> None:
        super().__init__()
        self.reindex()

    def reindex(self) -> None:
        """Index the lexicon for `may_score`; call after editing `lexicon`."""
        keys: set[str] = set()
        rare: set[str] = set()
        for entry in self.lexicon:
            # A token is lowercased ASCII without whitespace: other entries never match.
            if not entry.isascii() or entry != entry.lower() or len(entry.split()) != 1:
                continue
            runs = _ALNUM.findall(entry)
            others = set(_ALNUM.sub("", entry))
            if others - _COMMON_PUNCTUATION or not runs:
                rare |= others
            else:
                keys.add(max(runs, key=len))
        self._keys = frozenset(keys)
        rare -= _COMMON_PUNCTUATION
        self._rare = re.compile(f"[{re.escape(''.join(sorted(rare)))}]") if rare else None

    def may_score(self, text: str, words: Set[str]) -> bool:
        """False only when ASCII `text` holds no lexicon word, so `scores` is (0, 0, 0).

        `words` is the set of `[a-z0-9]+` runs of the lowercased text. A token VADER looks up
        is a whitespace-separated chunk, stripped of punctuation when more than two
        characters remain, and lowercased, so its runs of letters and digits are runs of
        the text. A lexicon entry of one run is indexed by itself, one of runs and common
        punctuation by its longest run; any other holds a character (":", "(", "/", ...)
        the text must contain.
        """
        if not self._keys.isdisjoint(words):
            return True
        return self._rare is not None and self._rare.search(text) is not None

    def scores(self, text: str, present: Set[str] | None = None) -> tuple[float, float, float]:
        """VADER's (compound, neg, pos) for `text`.

        `present`, when given, must be the set of `[a-z0-9]+` runs of `text.lower()`; ASCII
        text with no lexicon word then costs a set intersection (see `may_score`).
        """
        if not text.isascii():
            found = self.polarity_scores(text)
            return found["compound"], found["neg"], found["pos"]
        if present is not None and not self.may_score(text, present):
            return _ZERO
        # Lowercasing ASCII moves no whitespace or punctuation: the lowered tokens are the
        # tokens lowered, and text without capitals needs no second list.
        lowered_text = text.lower()
        lowered = [
            token if len(stripped := token.strip(_PUNCTUATION)) <= 2 else stripped
            for token in lowered_text.split()
        ]
        lexicon = self.lexicon
        hits = [i for i, word in enumerate(lowered) if word in lexicon]
        if not hits:
            return 0.0, 0.0, 0.0
        if lowered_text == text:
            words = lowered
        else:
            words = [
                token if len(stripped := token.strip(_PUNCTUATION)) <= 2 else stripped
                for token in text.split()
            ]
        count = len(words)
        # Capitals matter only on a lexicon word or a booster up to three words before it.
        cap_diff = False
        if words is not lowered and any(
            words[j].isupper() for i in hits for j in range(max(0, i - 3), i + 1)
        ):
            capitals = sum(word.isupper() for word in words)
            cap_diff = 0 < count - capitals < count
        sentiments: list[float] = [0] * count
        for i in hits:
            word = lowered[i]
            if word in BOOSTER_DICT or (
                word == "kind" and i < count - 1 and lowered[i + 1] == "of"
            ):
                continue
            sentiments[i] = self._valence(words, lowered, i, cap_diff)
        if "but" in lowered:
            sentiments = self._but_check(words, sentiments)
        return _score(sentiments, text)

    def _valence(self, words: list[str], lowered: list[str], i: int, cap_diff: bool) -> float:
        """VADER's `sentiment_valence` for the lexicon word at `i`."""
        lexicon = self.lexicon
        word = lowered[i]
        valence: float = lexicon[word]
        if word == "no" and i != len(words) - 1 and lowered[i + 1] in lexicon:
            valence = 0.0
        if (
            (i > 0 and lowered[i - 1] == "no")
            or (i > 1 and lowered[i - 2] == "no")
            or (i > 2 and lowered[i - 3] == "no" and lowered[i - 1] in ("or", "nor"))
        ):
            valence = lexicon[word] * N_SCALAR
        if cap_diff and words[i].isupper():
            valence += C_INCR if valence > 0 else -C_INCR
        for start in range(3):
            if i <= start or lowered[i - start - 1] in lexicon:
                continue
            valence += self._booster(words[i - start - 1], valence, cap_diff, start)
            valence = self._negation(valence, lowered, start, i)
            if start == 2:
                valence = self._idioms(valence, lowered, i)
        if i > 1 and lowered[i - 1] == "least" and lowered[i - 1] not in lexicon:
            if lowered[i - 2] not in ("at", "very"):
                valence *= N_SCALAR
        elif i > 0 and lowered[i - 1] == "least" and lowered[i - 1] not in lexicon:
            valence *= N_SCALAR
        return valence

    @staticmethod
    def _booster(word: str, valence: float, cap_diff: bool, start: int) -> float:
        """VADER's `scalar_inc_dec`, damped by distance as in `sentiment_valence`."""
        scalar: float = BOOSTER_DICT.get(word.lower(), 0.0)
        if not scalar:
            return 0.0
        if valence < 0:
            scalar *= -1
        if cap_diff and word.isupper():
            scalar += C_INCR if valence > 0 else -C_INCR
        if start == 1 and scalar != 0:
            scalar *= 0.95
        elif start == 2 and scalar != 0:
            scalar *= 0.9
        return scalar

    @staticmethod
    def _negation(valence: float, lowered: list[str], start: int, i: int) -> float:
        """VADER's `_negation_check`."""
        if start == 0:
            if _negated(lowered[i - 1]):
                valence *= N_SCALAR
        elif start == 1:
            if lowered[i - 2] == "never" and lowered[i - 1] in _SO_THIS:
                valence *= 1.25
            elif lowered[i - 2] == "without" and lowered[i - 1] == "doubt":
                pass
            elif _negated(lowered[i - 2]):
                valence *= N_SCALAR
        else:
            if (lowered[i - 3] == "never" and lowered[i - 2] in _SO_THIS) or (
                lowered[i - 1] in _SO_THIS
            ):
                valence *= 1.25
            elif lowered[i - 3] == "without" and "doubt" in (lowered[i - 2], lowered[i - 1]):
                pass
            elif _negated(lowered[i - 3]):
                valence *= N_SCALAR
        return valence

    @staticmethod
    def _idioms(valence: float, lowered: list[str], i: int) -> float:
        """VADER's `_special_idioms_check`."""
        three, two, one, zero = lowered[i - 3], lowered[i - 2], lowered[i - 1], lowered[i]
        two_one = f"{two} {one}"
        three_two_one = f"{three} {two} {one}"
        three_two = f"{three} {two}"
        for sequence in (f"{one} {zero}", f"{two} {one} {zero}", two_one, three_two_one, three_two):
            if sequence in SPECIAL_CASES:
                valence = SPECIAL_CASES[sequence]
                break
        if len(lowered) - 1 > i:
            zero_one = f"{zero} {lowered[i + 1]}"
            if zero_one in SPECIAL_CASES:
                valence = SPECIAL_CASES[zero_one]
        if len(lowered) - 1 > i + 1:
            zero_one_two = f"{zero} {lowered[i + 1]} {lowered[i + 2]}"
            if zero_one_two in SPECIAL_CASES:
                valence = SPECIAL_CASES[zero_one_two]
        for n_gram in (three_two_one, three_two, two_one):
            if n_gram in BOOSTER_DICT:
                valence += BOOSTER_DICT[n_gram]
        return valence
