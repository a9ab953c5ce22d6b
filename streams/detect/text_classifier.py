"""A learned linear classifier over a turn's words and letter groups.

One logistic regression per head (an explicit request for a human, and the risk families
fraud, identity, payments and cancellation), all over the same features
(`text_features.features`). The weights live in `text_model.json` (package data), written by
`python -m warmhandoff.streams.lab.training.text_classifier`, which records in the same file
the data it learned from, their licences, the command and the leave-one-dataset-out figures.

Only features with a weight are kept in the file. A word's own weight and its letter
groups' are summed once per word the process meets, so scoring a turn is one look-up per word
and per word pair and one sum over the rows found. Deterministic: no randomness, no download,
the same turn always gets the same scores.

`use_embeddings(True)` makes `shipped_heads` (what the detectors ask) score with the blend of
this classifier and heads over a sentence embedding (`embedding_heads`, the `embeddings`
extra); off by default, and then the encoder is never imported.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from functools import cache, lru_cache
from importlib.resources import files
from itertools import pairwise, repeat
from typing import Any

import numpy as np

from warmhandoff.streams.detect.text_features import FEATURES_VERSION, tokens, word_features

MODEL_FILE = "text_model.json"
MODEL_FORMAT = "warmhandoff.text_classifier"
#: How many distinct words keep their summed weights (8 bytes a head each) before all are
#: forgotten; a worker's customers use far fewer.
WORD_ROWS = 65_536


class ModelFileError(ValueError):
    """The model file is not one this code can read."""


class TextClassifier:
    """Scores folded text on each head; a head is found when its score reaches its threshold."""

    def __init__(self, model: Mapping[str, Any]) -> None:
        if model.get("format") != MODEL_FORMAT:
            raise ModelFileError(f"not a {MODEL_FORMAT} model")
        if model.get("features_version") != FEATURES_VERSION:
            raise ModelFileError(
                f"model reads features version {model.get('features_version')}, "
                f"this code makes version {FEATURES_VERSION}: retrain it"
            )
        self.heads: tuple[str, ...] = tuple(model["heads"])
        table: Mapping[str, Sequence[float]] = model["weights"]
        # Row 0 is all zeros and stands for every feature the model has no weight for, so a
        # turn's rows are gathered without filtering out the unknown ones in Python.
        self._index = {name: row for row, name in enumerate(table, 1)}
        # Word pairs by (first, second): the words' hashes are already known, the joined
        # string's would have to be computed.
        self._pair_row = {
            tuple(name.split(" ")): row
            for name, row in self._index.items()
            if name.count(" ") == 1 and not name.startswith(" ")
        }
        width = len(self.heads)
        rows = [[0.0] * width, *table.values()]
        weights = np.array(rows, dtype=np.float64).reshape(-1, width)
        # A word's own weight and its letter groups' always come together, so they are summed
        # once per word into a row after the features' rows: a turn then gathers one row per
        # word and one per word pair, not one per feature. The word rows are filled as words
        # arrive and all forgotten when full; a row holds the same sum whenever it is made.
        self._table = np.zeros((len(weights) + WORD_ROWS, width), dtype=np.float64)
        self._table[: len(weights)] = weights
        self._weights = self._table[: len(weights)]
        self._first_word_row = len(weights)
        self._word_row: dict[str, int] = {}
        self._bias = np.array(model["bias"], dtype=np.float64)
        # Thresholds are probabilities in the file, compared as log-odds (no exp per turn).
        self._cut = np.array([_logit(p) for p in model["thresholds"]], dtype=np.float64)

    def logits(self, folded: str) -> np.ndarray:
        """Each head's log-odds for already folded text."""
        found = tokens(folded)
        if not found:
            return self._bias.copy()
        word_row = self._word_row
        if len(word_row) + len(found) > WORD_ROWS:
            word_row.clear()  # (before the turn: its rows are never reused within it)
        rows = [word_row.get(word) or self._add_word(word) for word in found]
        rows += map(self._pair_row.get, pairwise(found), repeat(0))
        scores: np.ndarray = np.add.reduce(self._table.take(rows, axis=0)) + self._bias
        return scores

    def _add_word(self, word: str) -> int:
        """Sum a word's own and its letter groups' weights into a free word row."""
        row = self._first_word_row + len(self._word_row)
        index = self._index
        own = [index.get(name, 0) for name in word_features(word)]
        self._table[row] = self._weights.take(own, axis=0).sum(axis=0)
        self._word_row[word] = row
        return row

    def probabilities(self, folded: str) -> dict[str, float]:
        """Each head's probability (for reports and tests; the detector compares log-odds)."""
        return {
            head: 1.0 / (1.0 + math.exp(-float(x)))
            for head, x in zip(self.heads, self.logits(folded), strict=True)
        }

    def found(self, folded: str) -> tuple[str, ...]:
        """The heads whose score reaches their threshold, in head order."""
        hits = self.logits(folded) >= self._cut
        return tuple(head for head, hit in zip(self.heads, hits.tolist(), strict=True) if hit)


def _logit(p: float) -> float:
    p = min(max(p, 1e-9), 1 - 1e-9)
    return math.log(p / (1 - p))


@cache
def shipped() -> TextClassifier:
    """The classifier in the package's model file (read once)."""
    raw = files("warmhandoff.streams.detect").joinpath(MODEL_FILE).read_text(encoding="utf-8")
    return TextClassifier(json.loads(raw))


#: The blend `shipped_heads` scores with when embeddings are on; None: the linear classifier.
_blend: TextClassifier | None = None


def use_embeddings(on: bool) -> None:
    """Score the detectors' heads with the sentence-embedding blend (True) or without it.

    Turning it on loads the encoder now (a `MissingExtraError` without the `embeddings`
    extra), so a process fails at start-up, not on its first turn.
    """
    global _blend
    if on:
        from warmhandoff.streams.detect.embedding_heads import shipped_blend

        _blend = shipped_blend()
    else:
        _blend = None
    shipped_heads.cache_clear()


def embeddings_used() -> bool:
    """Whether `shipped_heads` scores with the sentence-embedding blend."""
    return _blend is not None


@lru_cache(maxsize=1024)
def shipped_heads(folded: str) -> tuple[str, ...]:
    """The shipped classifier's heads found in already folded text.

    Cached: the human-request and risk detectors both ask for the same turn.
    """
    return (shipped() if _blend is None else _blend).found(folded)
