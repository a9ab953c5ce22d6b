"""Requests for a human and risk families, measured leave-one-dataset-out.

For each development set with labels for them (Banking77, CLINC150, NLU++; mapping in
`lab.training.text_labels`), the text classifier is retrained, with the recipe recorded in
the shipped model file, on every other set plus the examples written for this project, and
the set left out is scored twice:

- `detector`: `is_human_request` and `risk_families` exactly as the pipeline calls them,
  with the retrained classifier in place of the shipped one. Their patterns were written
  with every development set in view, so on these sets this figure is optimistic for the
  patterns' share of the hits;
- `classifier`: the retrained classifier alone, a clean leave-one-dataset-out figure.

With the `embeddings` extra (`warmhandoff eval --embeddings`), each set is also scored as
`detector+emb` and `classifier+emb`: the same, with the blend of that retrained classifier and
embedding heads retrained without the set (`embedding_rows`) in place of the classifier.

The shipped classifier learned from every set, so its figures here would be in-sample and
are never reported. Retraining needs the `train` extra (scikit-learn).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from importlib.util import find_spec
from pathlib import Path
from typing import Any

from warmhandoff.streams.contract.errors import MissingExtraError
from warmhandoff.streams.detect.human_request import is_human_request
from warmhandoff.streams.detect.normalize import fold
from warmhandoff.streams.detect.risk import risk_families
from warmhandoff.streams.detect.text_classifier import TextClassifier
from warmhandoff.streams.lab.eval.datasets import Dataset
from warmhandoff.streams.lab.eval.metrics import BinaryCounts, share
from warmhandoff.streams.lab.training.text_classifier import (
    Example,
    Recipe,
    fit,
    shipped_recipe,
    written_examples,
)
from warmhandoff.streams.lab.training.text_labels import MAPPINGS, RISK_FAMILIES, heads_of

#: What one text is read as: (a request for a human?, risk families).
Reading = tuple[bool, tuple[str, ...]]


def fold_classifiers(present: dict[str, Dataset]) -> dict[str, TextClassifier]:
    """For each labelled set present: a classifier trained without it."""
    if find_spec("sklearn") is None or find_spec("scipy") is None:
        raise MissingExtraError("retraining the text classifier for each held-out set", "train")
    recipe = Recipe(**shipped_recipe())
    written = written_examples()
    sets = labelled_sets(present)
    return {
        held: TextClassifier(
            fit([e for key, rows in sets.items() if key != held for e in rows] + written, recipe)
        )
        for held in sets
    }


def labelled_sets(present: dict[str, Dataset]) -> dict[str, list[Example]]:
    """The rows of each labelled set present with their heads (adjacent rows left out)."""
    sets: dict[str, list[Example]] = {}
    for key in MAPPINGS:
        if key in present:
            rows = ((row, heads_of(key, row.labels)) for row in present[key].rows)
            sets[key] = [Example(row.text, heads, key) for row, heads in rows if heads is not None]
    return sets


def readers(classifier: TextClassifier) -> dict[str, Callable[[str], Reading]]:
    """The shipped detectors around `classifier`, and `classifier` alone."""

    def detector(text: str) -> Reading:
        return (
            is_human_request(text, classifier=classifier),
            risk_families(text, classifier=classifier),
        )

    def alone(text: str) -> Reading:
        found = classifier.found(fold(text))
        return "human_request" in found, tuple(f for f in found if f != "human_request")

    return {"detector": detector, "classifier": alone}


def topic_sections(
    present: dict[str, Dataset], *, embeddings: bool = False, cache: Path | None = None
) -> dict[str, Any]:
    """The `human_request` and `risk` report sections, each with `detector` and `classifier`.

    With `embeddings`, also `detector+emb` and `classifier+emb` (`cache`: where the
    embeddings are kept between runs).
    """
    readings: dict[str, dict[str, list[Reading]]] = {"detector": {}, "classifier": {}}
    folds = fold_classifiers(present)
    scored: list[tuple[str, dict[str, TextClassifier]]] = [("", folds)]
    if embeddings:
        from warmhandoff.streams.lab.eval.embedding_rows import fold_blends

        scored.append(("+emb", fold_blends(present, folds, cache)))
        readings |= {"detector+emb": {}, "classifier+emb": {}}
    for suffix, classifiers in scored:
        for key, classifier in classifiers.items():
            texts = [row.text for row in present[key].rows]
            for name, read in readers(classifier).items():
                readings[name + suffix][key] = [read(text) for text in texts]
    human: dict[str, Any] = {}
    risk: dict[str, Any] = {}
    for name, by_set in readings.items():
        human[name] = _human_request(present, by_set)
        risk[name] = {"sets": {key: _risk(present[key], by_set[key]) for key in by_set}}
    return {
        "human_request": {"measured": "leave-one-dataset-out", **human},
        "risk": {"measured": "leave-one-dataset-out", **risk},
    }


def _human_request(present: dict[str, Dataset], by_set: dict[str, list[Reading]]) -> dict[str, Any]:
    sets: dict[str, Any] = {}
    flagged: dict[str, Any] = {}
    for key, readings in by_set.items():
        labels = [heads_of(key, row.labels) or frozenset() for row in present[key].rows]
        truth = ["human_request" in heads for heads in labels]
        found = [request for request, _ in readings]
        if any(truth):
            sets[key] = BinaryCounts.of(truth, found).as_dict()
        else:
            flagged[key] = share(sum(found), len(found), "flagged", "share")
    if flagged:
        flagged["combined"] = share(
            sum(f["flagged"] for f in flagged.values()),
            sum(f["n"] for f in flagged.values()),
            "flagged",
            "share",
        )
    return {"sets": sets, "flagged": flagged}


def _risk(ds: Dataset, readings: Sequence[Reading]) -> dict[str, Any]:
    rows = [(row.labels, tags) for row, (_, tags) in zip(ds.rows, readings, strict=True)]
    scored = [(heads_of(ds.key, labels), tags) for labels, tags in rows]
    evaluated = [(heads, tags) for heads, tags in scored if heads is not None]
    families = {}
    for family in RISK_FAMILIES:
        counts = BinaryCounts.of(
            (family in heads for heads, _ in evaluated),
            (family in tags for _, tags in evaluated),
        )
        if counts.tp + counts.fn:
            figures = counts.as_dict()
            families[family] = {"n": figures["positives"]} | {
                k: figures[k] for k in ("tp", "fp", "fn", "precision", "recall")
            }
    plain = [
        (labels[0] if labels else "", tags)
        for (labels, tags), (heads, _) in zip(rows, scored, strict=True)
        if heads is not None and not (heads - {"human_request"})
    ]
    tagged_by_label = Counter(label for label, tags in plain if tags)
    sizes = Counter(label for label, _ in plain)
    near = [tags for (labels, tags), (heads, _) in zip(rows, scored, strict=True) if heads is None]
    return {
        "families": families,
        "plain": share(sum(bool(t) for _, t in plain), len(plain), "tagged", "rate")
        | {
            "by_family": dict(sorted(Counter(f for _, t in plain for f in t).items())),
            "top_labels": [
                [label, count, sizes[label]] for label, count in tagged_by_label.most_common(5)
            ],
        },
        "adjacent": share(sum(bool(t) for t in near), len(near), "tagged", "rate"),
    }
