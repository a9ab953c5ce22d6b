"""Logistic heads over a sentence embedding, blended with the linear text classifier.

The optional second opinion on the text classifier's heads (a request for a human; the risk
families fraud, identity, payments, cancellation). One logistic regression per head reads
the turn's sentence embedding (`sentence_encoder`, the `embeddings` extra), so paraphrases
the word features never saw still score; the blend combines each head's log-odds with the
linear classifier's (`text_classifier`) by the model file's rule (`RULES`; the shipped one
takes their mean) and compares the result with the head's threshold.

Weights, blend rule and thresholds live in `embedding_model.json` (package data), written by
`python -m warmhandoff.streams.lab.training.embedding_heads`, which records there the encoder
it reads, the data and their licences, the command, the blends it tried and their
leave-one-dataset-out figures. Off by default: `text_classifier.use_embeddings(True)` turns
the blend on for the detectors (a worker's `text_embeddings` setting).
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Mapping
from functools import cache
from importlib.resources import files
from typing import Any

import numpy as np

from warmhandoff.streams.detect.sentence_encoder import DIMENSIONS, ENCODER, shared_encoder
from warmhandoff.streams.detect.text_classifier import ModelFileError, TextClassifier, shipped

MODEL_FILE = "embedding_model.json"
MODEL_FORMAT = "warmhandoff.embedding_heads"
MODEL_VERSION = 1
#: How the two opinions combine, per head, before the threshold.
RULES = ("mean_probability", "mean_log_odds", "embedding_only")

#: The sentence embedding of already folded text.
Embed = Callable[[str], np.ndarray]


class EmbeddingHeads:
    """Each head's log-odds from a sentence embedding, and how they blend with the linear ones."""

    def __init__(self, model: Mapping[str, Any]) -> None:
        if model.get("format") != MODEL_FORMAT or model.get("version") != MODEL_VERSION:
            raise ModelFileError(f"not a {MODEL_FORMAT} model of version {MODEL_VERSION}")
        encoder = model.get("encoder", {})
        if encoder.get("name") != ENCODER or encoder.get("dimensions") != DIMENSIONS:
            raise ModelFileError(f"the model reads {encoder.get('name')}, not {ENCODER}")
        self.heads: tuple[str, ...] = tuple(model["heads"])
        self.rule: str = model["blend"]["rule"]
        if self.rule not in RULES:
            raise ModelFileError(f"unknown blend rule {self.rule!r}")
        self.thresholds: tuple[float, ...] = tuple(model["blend"]["thresholds"])
        self._weights = np.array(model["weights"], dtype=np.float64).reshape(
            len(self.heads), DIMENSIONS
        )
        self._bias = np.array(model["bias"], dtype=np.float64)

    def logits(self, vector: np.ndarray) -> np.ndarray:
        """Each head's log-odds for one embedding."""
        scores: np.ndarray = self._weights @ vector.astype(np.float64) + self._bias
        return scores


class BlendedClassifier(TextClassifier):
    """The linear classifier and the embedding heads as one classifier with the same heads.

    A `TextClassifier` to the detectors (they call `found`); `logits` are the blend's.
    """

    # Not calling TextClassifier.__init__: this reads no feature weights of its own; the
    # linear classifier it wraps does.
    def __init__(self, linear: TextClassifier, heads: EmbeddingHeads, embed: Embed) -> None:
        if linear.heads != heads.heads:
            raise ModelFileError(f"heads differ: {linear.heads} and {heads.heads}")
        self.heads = linear.heads
        self.linear = linear
        self.embedding = heads
        self._embed = embed
        self._cut = np.array([_logit(p) for p in heads.thresholds], dtype=np.float64)

    def logits(self, folded: str) -> np.ndarray:
        """Each head's blended log-odds for already folded text."""
        return blend(self.embedding.rule, self.linear.logits(folded), self._embedded(folded))

    def _embedded(self, folded: str) -> np.ndarray:
        return self.embedding.logits(self._embed(folded))


def blend(rule: str, linear: np.ndarray, embedded: np.ndarray) -> np.ndarray:
    """Per head, the log-odds `rule` makes of the linear and the embedding heads' log-odds."""
    if rule == "mean_log_odds":
        mean: np.ndarray = (linear + embedded) / 2
        return mean
    if rule == "embedding_only":
        return embedded
    p = (_sigmoid(linear) + _sigmoid(embedded)) / 2
    p = np.clip(p, 1e-12, 1 - 1e-12)
    out: np.ndarray = np.log(p / (1 - p))
    return out


def _sigmoid(x: np.ndarray) -> np.ndarray:
    out: np.ndarray = 1 / (1 + np.exp(-x))
    return out


def _logit(p: float) -> float:
    p = min(max(p, 1e-9), 1 - 1e-9)
    return math.log(p / (1 - p))


def read_model() -> dict[str, Any]:
    """The shipped model file as a dict."""
    raw = files("warmhandoff.streams.detect").joinpath(MODEL_FILE).read_text(encoding="utf-8")
    model: dict[str, Any] = json.loads(raw)
    return model


@cache
def shipped_blend() -> BlendedClassifier:
    """The shipped blend: loads the encoder (needs the `embeddings` extra) and both models."""
    encoder = shared_encoder()

    def embed(folded: str) -> np.ndarray:
        vector: np.ndarray = encoder.encode([folded])[0]
        return vector

    return BlendedClassifier(shipped(), EmbeddingHeads(read_model()), embed)
