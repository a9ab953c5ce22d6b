"""Training the text classifier: the written examples, fitting, leave-one-dataset-out."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from warmhandoff.streams.contract.errors import DatasetError
from warmhandoff.streams.detect.normalize import fold
from warmhandoff.streams.detect.text_classifier import TextClassifier
from warmhandoff.streams.lab.training.text_classifier import (
    Example,
    Recipe,
    fit,
    leave_one_out,
    written_examples,
)
from warmhandoff.streams.lab.training.text_labels import HEADS, heads_of

pytest.importorskip("sklearn")


def test_the_written_examples_load_and_cover_every_head() -> None:
    examples = written_examples()
    assert {head for e in examples for head in e.heads} == set(HEADS)
    plain = sum(1 for e in examples if not e.heads)
    assert plain > 1000
    texts = [fold(e.text).strip() for e in examples]
    assert len(set(texts)) == len(texts)


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ('{"text": "hi", "labels": ["refunds"]}', "unknown labels"),
        ('{"text": "", "labels": []}', "non-empty"),
        ('{"labels": []}', "line 1"),
        ("not json", "line 1"),
    ],
)
def test_a_bad_written_line_is_named(tmp_path: Path, line: str, message: str) -> None:
    (tmp_path / "bad.jsonl").write_text(line + "\n", encoding="utf-8")
    with pytest.raises(DatasetError, match=message):
        written_examples(tmp_path)


def _examples(source: str) -> list[Example]:
    rows = [
        ("let me talk to a person", {"human_request"}),
        ("i want a human agent now", {"human_request"}),
        ("put me through to someone real", {"human_request"}),
        ("somebody stole my card", {"fraud"}),
        ("my wallet was stolen with my card", {"fraud"}),
        ("I can't get past the identity check", {"identity"}),
        ("my pin is blocked after three tries", {"identity"}),
        ("I was charged twice for one order", {"payments"}),
        ("the same payment left my account two times", {"payments"}),
        ("close my account please", {"cancellation"}),
        ("I want to end my membership for good", {"cancellation"}),
        ("what are your opening hours", set()),
        ("how much is a transfer abroad", set()),
        ("when will my new card arrive", set()),
        ("thanks, that's all", set()),
    ]
    return [Example(text, frozenset(heads), source) for text, heads in rows]


def test_fit_learns_each_head() -> None:
    model = fit(_examples("a") + _examples("b"), Recipe(min_count=1, threshold=0.5))
    classifier = TextClassifier(model)
    assert classifier.probabilities(fold("let me talk to a person"))["human_request"] > 0.5
    assert classifier.probabilities(fold("opening hours"))["human_request"] < 0.5
    assert json.loads(json.dumps(model)) == model


def test_leave_one_out_scores_each_set_with_a_model_that_never_saw_it() -> None:
    sets = {"a": _examples("a"), "b": _examples("b")}
    figures = leave_one_out(sets, [], Recipe(min_count=1, threshold=0.5))
    assert set(figures) == {"a", "b"}
    assert figures["a"]["n"] == len(sets["a"])
    assert figures["a"]["heads"]["payments"]["positives"] == 2


def test_adjacent_rows_are_left_out_and_mapped_rows_labelled() -> None:
    assert heads_of("banking77", ("transaction_charged_twice",)) == {"payments"}
    assert heads_of("banking77", ("extra_charge_on_statement",)) is None
    assert heads_of("banking77", ("exchange_rate",)) == frozenset()
    assert heads_of("nlupp", ("handoff", "booking")) == {"human_request"}


def test_the_set_left_out_teaches_its_model_nothing() -> None:
    # Only set "a" says how a payment dispute sounds in a made-up word; the model that
    # scores "a" never saw it, so it misses those rows, while a model trained on "a" finds them.
    private = [Example(f"zorblax {n} happened again", frozenset({"payments"}), "a") for n in "xyz"]
    sets = {"a": _examples("a") + private, "b": _examples("b")}
    recipe = Recipe(min_count=1, threshold=0.5)
    held_out = leave_one_out(sets, [], recipe)["a"]["heads"]["payments"]
    assert held_out["positives"] == 5 and held_out["fn"] >= 3
    trained = TextClassifier(fit(sets["a"] + sets["b"], recipe))
    assert all("payments" in trained.found(fold(e.text)) for e in private)
