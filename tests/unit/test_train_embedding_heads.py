"""Training the sentence-embedding heads: fitting, the embeddings cache, and the choice of blend.

Made-up embeddings stand in for the encoder, so these run without the `embeddings` extra.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

from warmhandoff.streams.detect.embedding_heads import EmbeddingHeads
from warmhandoff.streams.detect.normalize import fold
from warmhandoff.streams.detect.sentence_encoder import DIMENSIONS
from warmhandoff.streams.lab.training.embedding_heads import (
    GRID,
    EmbeddingRecipe,
    choose,
    embed_texts,
    fit_heads,
)
from warmhandoff.streams.lab.training.text_classifier import Example
from warmhandoff.streams.lab.training.text_labels import HEADS

pytest.importorskip("sklearn")


def _direction(i: int) -> np.ndarray:
    vector = np.zeros(DIMENSIONS)
    vector[i] = 1.0
    return vector


def test_fitted_heads_read_the_direction_of_their_examples() -> None:
    examples = [
        Example(f"text {i} {head}", frozenset({head}), "written/x.jsonl")
        for i in range(20)
        for head in HEADS
    ] + [Example(f"plain {i}", frozenset(), "banking77") for i in range(40)]
    vectors = {
        fold(e.text): _direction(HEADS.index(next(iter(e.heads))) if e.heads else 10)
        for e in examples
    }
    model = fit_heads(examples, vectors, EmbeddingRecipe(c=10.0))
    heads = EmbeddingHeads(model)
    assert heads.thresholds == tuple(EmbeddingRecipe().thresholds())
    for i, head in enumerate(HEADS):
        logits = heads.logits(_direction(i))
        assert logits.argmax() == i, head
        assert logits[i] > 0
    assert (heads.logits(_direction(10)) < 0).all()


def test_embeddings_are_computed_once_and_kept_in_the_cache(tmp_path: Path) -> None:
    asked: list[list[str]] = []

    def encode(texts: list[str]) -> np.ndarray:
        asked.append(texts)
        return np.stack([_direction(len(text)) for text in texts])

    first = embed_texts(["ab", "abc", "ab"], tmp_path, encode)
    again = embed_texts(["abc", "abcd"], tmp_path, encode)
    assert asked == [["ab", "abc"], ["abcd"]]
    assert np.array_equal(first["abc"], again["abc"])
    assert set(again) == {"abc", "abcd"}


def _figures(recall: float, plain: float, human_f1: float, flagged: int) -> dict[str, Any]:
    def head(positives: int, recall: float | None, f1: float | None, fp: int = 0) -> Any:
        return {"positives": positives, "recall": recall, "f1": f1, "fp": fp}

    risky = {family: head(10, recall, None) for family in HEADS[1:]}
    return {
        "banking77": {
            "n": 1000,
            "heads": {"human_request": head(0, None, None, flagged), **risky},
            "plain": {"rate": plain},
        },
        "nlupp": {
            "n": 100,
            "heads": {
                "human_request": head(5, 1.0, human_f1),
                **{f: head(0, None, None) for f in HEADS[1:]},
            },
            "plain": {"rate": 0.0},
        },
    }


def test_the_choice_is_the_best_candidate_within_the_false_tag_limits() -> None:
    lodo = {
        "candidates": [
            {"sets": _figures(recall=0.5, plain=0.01, human_f1=0.8, flagged=0)},
            {"sets": _figures(recall=0.9, plain=0.05, human_f1=0.8, flagged=0)},  # tags too many
            {"sets": _figures(recall=0.9, plain=0.01, human_f1=0.8, flagged=50)},  # flags too many
            {"sets": _figures(recall=0.7, plain=0.015, human_f1=0.8, flagged=1)},
            {"sets": _figures(recall=0.7, plain=0.01, human_f1=0.8, flagged=0)},  # a tie: later
        ]
    }
    assert choose(lodo) == 3


def test_no_candidate_within_the_limits_is_no_choice() -> None:
    lodo = {"candidates": [{"sets": _figures(recall=0.9, plain=0.3, human_f1=0.9, flagged=0)}]}
    assert choose(lodo) == -1


def test_the_grid_tries_each_rule_and_the_linear_thresholds() -> None:
    assert {r.rule for r in GRID} == {"mean_probability", "mean_log_odds", "embedding_only"}
    assert any(r.threshold == 0.8 and r.human_threshold == 0.9 for r in GRID)
