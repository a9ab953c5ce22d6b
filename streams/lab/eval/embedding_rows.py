"""`warmhandoff eval --embeddings`: the sentence-embedding blend measured, and its cost.

Needs the `embeddings` extra (the sentence encoder) and the `train` extra (retraining).

- Quality: for each labelled development set, embedding heads retrained without it (the
  shipped recipe, `detect/embedding_model.json`) are blended with the linear classifier
  retrained without it (`topics.fold_classifiers`), and `topics` scores the set left out with
  that blend (`detector+emb`, `classifier+emb`). Every text is encoded once (minutes).
- Cost: `speed.turn_cost` with the blend switched on, on an evenly spaced sample of unseen
  turns (encoding is some 40 times the rest of a turn: the sample keeps the run short), and,
  for comparison on the very same turns, without it.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from warmhandoff.streams.detect import text_classifier
from warmhandoff.streams.detect.embedding_heads import read_model, shipped_blend
from warmhandoff.streams.detect.normalize import fold
from warmhandoff.streams.detect.text_classifier import TextClassifier
from warmhandoff.streams.lab.eval.datasets import Dataset
from warmhandoff.streams.lab.eval.speed import DetectorClock, turn_cost
from warmhandoff.streams.lab.eval.topics import labelled_sets
from warmhandoff.streams.lab.training.embedding_heads import (
    EmbeddingRecipe,
    blended,
    embed_texts,
    fit_heads,
)
from warmhandoff.streams.lab.training.text_classifier import written_examples
from warmhandoff.streams.policy.model import Policy

#: Unseen turns the cost with the extra is measured on.
SPEED_SAMPLE = 300


def fold_blends(
    present: dict[str, Dataset], folds: dict[str, TextClassifier], cache: Path | None = None
) -> dict[str, TextClassifier]:
    """For each labelled set: the blend of `folds[set]` and embedding heads trained without it."""
    recipe = EmbeddingRecipe(**read_model()["recipe"])
    written = written_examples()
    sets = labelled_sets(present)
    texts = [fold(row.text) for key in sets for row in present[key].rows]
    vectors = embed_texts(texts + [fold(e.text) for e in written], cache)
    out: dict[str, TextClassifier] = {}
    for held in sets:
        train = [e for key, rows in sets.items() if key != held for e in rows] + written
        out[held] = blended(folds[held], fit_heads(train, vectors, recipe), recipe, vectors)
    return out


def embedding_cost(
    texts: Sequence[str], warm_up: Sequence[str], policy: Policy, sample: int = SPEED_SAMPLE
) -> dict[str, Any]:
    """CPU per unseen turn with the blend on, and without it, on `sample` of `texts`."""
    unique = list(dict.fromkeys(texts))
    chosen = unique[:: max(1, len(unique) // sample)][:sample]
    without = turn_cost(chosen, warm_up, policy)
    text_classifier.use_embeddings(True)
    try:
        cost = turn_cost(chosen, warm_up, policy)
        clock = DetectorClock()
        clock.run("text_classifier+emb", lambda text: shipped_blend().found(fold(text)), chosen)
    finally:
        text_classifier.use_embeddings(False)
    return cost | {
        "install": f"embeddings extra, an evenly spaced sample of {len(chosen):,} turns",
        "default_us_per_turn": without["us_per_turn"],
        "detectors": clock.report(),
    }
