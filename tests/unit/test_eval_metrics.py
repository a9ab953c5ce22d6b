"""Evaluation metrics on hand-computable examples, ties included."""

from __future__ import annotations

import random

import pytest

from warmhandoff.streams.lab.eval.metrics import BinaryCounts, best_f1_threshold, roc_auc


def test_binary_counts_precision_recall_f1() -> None:
    counts = BinaryCounts.of(
        [True, True, True, False, False, False],
        [True, True, False, True, False, False],
    )
    assert (counts.tp, counts.fp, counts.fn, counts.tn) == (2, 1, 1, 2)
    assert counts.precision == pytest.approx(2 / 3)
    assert counts.recall == pytest.approx(2 / 3)
    assert counts.f1 == pytest.approx(2 / 3)
    figures = counts.as_dict()
    assert figures["n"] == 6 and figures["positives"] == 3 and figures["f1"] == 0.6667


def test_binary_counts_undefined_ratios_are_zero() -> None:
    counts = BinaryCounts.of([False, False], [False, False])
    assert (counts.precision, counts.recall, counts.f1) == (0.0, 0.0, 0.0)


def test_f1_is_harmonic_mean() -> None:
    counts = BinaryCounts(tp=9, fp=1, fn=9)
    p, r = 0.9, 0.5
    assert counts.f1 == pytest.approx(2 * p * r / (p + r))


def test_auc_perfect_inverted_and_chance() -> None:
    assert roc_auc([0.1, 0.2, 0.8, 0.9], [False, False, True, True]) == 1.0
    assert roc_auc([0.9, 0.8, 0.2, 0.1], [False, False, True, True]) == 0.0
    assert roc_auc([0.5, 0.5, 0.5, 0.5], [False, True, False, True]) == 0.5


def test_auc_by_hand_with_ties() -> None:
    # Pairs (pos, neg): 0.8 beats 0.1 and 0.4, ties 0.8 (half); 0.4 beats 0.1, ties 0.4
    # (half), loses to 0.8. (2.5 + 1.5) / 6.
    scores = [0.8, 0.4, 0.8, 0.4, 0.1]
    positive = [True, True, False, False, False]
    assert roc_auc(scores, positive) == pytest.approx(4 / 6)


def test_auc_matches_pair_counting() -> None:
    rng = random.Random(3)
    scores = [rng.choice([0.0, 0.25, 0.5, 0.75, 1.0]) for _ in range(60)]
    positive = [rng.random() < 0.4 for _ in scores]
    pos = [s for s, p in zip(scores, positive, strict=True) if p]
    neg = [s for s, p in zip(scores, positive, strict=True) if not p]
    pairs = sum(1.0 if a > b else 0.5 if a == b else 0.0 for a in pos for b in neg)
    assert roc_auc(scores, positive) == pytest.approx(pairs / (len(pos) * len(neg)))


def test_auc_needs_both_classes() -> None:
    assert roc_auc([0.1, 0.2], [True, True]) is None
    assert roc_auc([], []) is None


def test_best_f1_threshold_keeps_ties_together() -> None:
    # "score <= t is positive": t = -0.5 catches both positives and the tied negative.
    scores = [-0.9, -0.5, -0.5, 0.2, 0.6]
    positive = [True, True, False, False, False]
    threshold, f1 = best_f1_threshold(scores, positive)
    # t = -0.9: tp 1, fp 0, fn 1 -> F1 2/3; t = -0.5: tp 2, fp 1, fn 0 -> F1 0.8.
    assert threshold == -0.5
    assert f1 == pytest.approx(0.8)
