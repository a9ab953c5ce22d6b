"""What the learned text classifier reads from a turn: words, word pairs and letter groups.

Shared by the detector and its training script, so a model is always scored on exactly the
features it was trained on (`FEATURES_VERSION` is recorded in the model file and checked).

From the folded text (lowercase, no accents; see `normalize.fold`):

- every word (a space + the word), so "agent" and "refund" weigh on their own;
- every pair of neighbouring words (both, a space between), so "talk to" and "charged
  twice" do;
- the letter groups of four inside each word padded with `<` and `>` (`<age`, `agen`,
  `gent`, `ent>`; a word of two or three letters is one group, `<pin>`), so a misspelt word
  ("agnet", "refudn", "transfered") still shares most of its features with the word it
  means, and a long compound word shares them with its parts.

Chat contractions split by tokenisers ("does n't") and written joined ("doesn't") give the
same words. Features are strings so the model can keep only those it learned a weight for; the three
kinds cannot collide (a word starts with a space, a pair has one inside, a group none).
"""

from __future__ import annotations

import re
from itertools import pairwise

FEATURES_VERSION = 2

#: Only the first words of a very long message are read: the ask is nearly always there.
MAX_WORDS = 120

_WORD = re.compile(r"[^\W_]+(?:'[^\W_]+)?|n't")
_SPLIT_NOT = re.compile(r"(\w) n't\b")
# Every run of four characters without a space, found in one pass over "<w1> <w2> ...":
# the groups of all the words at once, none across two words. Four keeps a misspelling's
# neighbours close without matching unrelated words the way groups of three do.
_GROUPS = re.compile(r"(?=([^ ]{4}))")


def tokens(folded: str) -> list[str]:
    """The words of already folded text, "does n't" read as "doesn't"."""
    if " n't" in folded:
        folded = _SPLIT_NOT.sub(r"\1n't", folded)
    return _WORD.findall(folded)[:MAX_WORDS]


def features(folded: str) -> list[str]:
    """The feature strings of already folded text (repeats kept: a repeat counts once more)."""
    words = tokens(folded)
    out = [" " + w for w in words]
    out += map(" ".join, pairwise(words))
    out += _GROUPS.findall("<" + "> <".join(words) + ">")
    return out


def word_features(word: str) -> list[str]:
    """One word's own features (the word and its letter groups): `features` without pairs."""
    return [" " + word, *_GROUPS.findall(f"<{word}>")]
