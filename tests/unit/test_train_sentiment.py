"""The sentiment training script, end to end on a tiny data folder written here."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

pytest.importorskip("sklearn")
pytest.importorskip("scipy")

from warmhandoff.streams.detect.sentiment import load_model, probabilities
from warmhandoff.streams.lab.training.sentiment import build, main

NEGATIVE = [
    "this is awful and I hate it",
    "terrible service, so angry",
    "worst day ever, everything is broken",
    "I am sad and disappointed",
    "horrible, useless, awful",
    "never again, what a disaster",
]
POSITIVE = [
    "I love this, great job",
    "wonderful day, so happy",
    "thanks, that was amazing",
    "best service ever, love it",
    "great, happy and grateful",
    "awesome, thank you so much",
]
NEUTRAL = [
    "the meeting is on tuesday",
    "what time does the shop open",
    "my order number is 12345",
    "the train leaves at noon",
    "where is the nearest branch",
    "I moved to a new address",
]


def write_data(root: Path) -> Path:
    """A data folder in the shared layout, with a few rows per source."""
    vader = root / "vader"
    vader.mkdir(parents=True)
    rows = [(text, -2.5) for text in NEGATIVE] + [(text, 2.5) for text in POSITIVE]
    rows += [(text, 0.0) for text in NEUTRAL]
    lines = [f"{i}\t{rating}\t{text}" for i, (text, rating) in enumerate(rows)]
    (vader / "tweets_GroundTruth.txt").write_text("\n".join(lines) + "\n", encoding="utf-8")
    sentiment = root / "tweeteval" / "sentiment"
    sentiment.mkdir(parents=True)
    texts = NEGATIVE + NEUTRAL + POSITIVE
    labels = ["0"] * len(NEGATIVE) + ["1"] * len(NEUTRAL) + ["2"] * len(POSITIVE)
    (sentiment / "val_text.txt").write_text("\n".join(texts) + "\n", encoding="utf-8")
    (sentiment / "val_labels.txt").write_text("\n".join(labels) + "\n", encoding="utf-8")
    clinc = root / "clinc150"
    clinc.mkdir()
    queries = {"train": [[text, "intent"] for text in NEUTRAL]}
    (clinc / "clinc150_dev.json").write_text(json.dumps(queries), encoding="utf-8")
    hotels = root / "nlupp" / "hotels"
    hotels.mkdir(parents=True)
    held_out = [{"text": "can I book a room for two", "intents": ["booking"]}]
    (hotels / "fold0.json").write_text(json.dumps(held_out), encoding="utf-8")
    return root


def test_trains_evaluates_and_writes_a_loadable_model(tmp_path: Path) -> None:
    data = write_data(tmp_path / "data")
    out = tmp_path / "model.json"
    document = build(["--data", str(data), "--out", str(out), "--cv", "2", "--min-count", "1"])

    assert {entry["source"] for entry in document["training_data"]} == {
        "vader/tweets",
        "tweeteval/sentiment",
        "clinc150",
    }
    evaluation = document["evaluation"]
    assert set(evaluation["cross_validated"]["by_source"]) == {
        "vader/tweets",
        "tweeteval/sentiment",
        "clinc150",
    }
    assert "auc" in evaluation["held_out_tweeteval_sentiment"]
    assert evaluation["held_out_support_queries"]["nlupp/hotels"]["rows"] == 1

    model = load_model(str(out))
    angry, _ = probabilities("awful, I hate it", model)
    pleased, _ = probabilities("I love it, thanks", model)
    assert angry > pleased
    assert json.loads(out.read_text(encoding="utf-8"))["weights"] == document["weights"]


def test_training_is_deterministic(tmp_path: Path) -> None:
    data = write_data(tmp_path / "data")
    first, second = tmp_path / "a.json", tmp_path / "b.json"
    build(["--data", str(data), "--out", str(first), "--min-count", "1"])
    build(["--data", str(data), "--out", str(second), "--min-count", "1"])
    assert first.read_bytes() == second.read_bytes()


def test_a_zero_weight_leaves_a_source_out(tmp_path: Path) -> None:
    data = write_data(tmp_path / "data")
    out = tmp_path / "model.json"
    document = build(
        ["--data", str(data), "--out", str(out), "--weight", "clinc150=0", "--min-count", "1"]
    )
    assert "clinc150" not in {entry["source"] for entry in document["training_data"]}
    assert "clinc150" in document["evaluation"]["held_out_support_queries"]


def test_an_empty_folder_is_a_usage_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["--data", str(tmp_path), "--out", str(tmp_path / "m.json")])
    assert exit_info.value.code == 2
    assert "no training data" in capsys.readouterr().err
