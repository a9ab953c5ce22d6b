"""The sentiment training script, end to end on a tiny data folder written here."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

pytest.importorskip("sklearn")
pytest.importorskip("scipy")

from warmhandoff.streams.detect import sentiment as sentiment_module
from warmhandoff.streams.detect.sentiment import MODEL_FILE, load_model, probabilities
from warmhandoff.streams.lab.eval.sentiment_lodo import figures, leave_one_dataset_out
from warmhandoff.streams.lab.training.sentiment import (
    DEFAULT_OUT,
    OPERATING_POINTS,
    Source,
    build,
    main,
)

# The tiny folder has a handful of rows per source: keep every word.
TINY = ["--min-count", "1"]

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
    multiwoz = root / "multiwoz"
    multiwoz.mkdir()
    dialogue = {
        "dialogue_id": "D1",
        "domains": ["hotel"],
        "turns": [
            {"role": "customer", "text": "a cheap room in the centre please"},
            {"role": "system", "text": "booked, anything else?"},
            {"role": "customer", "text": "no , that is all"},
        ],
    }
    (multiwoz / "val_dialogues.jsonl").write_text(json.dumps(dialogue) + "\n", encoding="utf-8")
    return root


def test_trains_evaluates_and_writes_a_loadable_model(tmp_path: Path) -> None:
    data = write_data(tmp_path / "data")
    out = tmp_path / "model.json"
    document = build(["--data", str(data), "--out", str(out), "--cv", "2", "--lodo", *TINY])

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
    lodo = evaluation["leave_one_dataset_out"]
    assert lodo["groups"]["tweeteval"]["training"] == {"vader/tweets": 18, "clinc150": 6}
    assert "auc" in lodo["groups"]["tweeteval"]["sets"]["tweeteval_sentiment"]
    assert evaluation["held_out_support_turns"]["nlupp/hotels"]["rows"] == 1
    assert evaluation["held_out_support_turns"]["multiwoz"]["rows"] == 2
    point = document["calibration"]["operating_point"]
    assert point == evaluation["operating_point"]["operating_point"]
    assert point in OPERATING_POINTS

    model = load_model(str(out))
    angry, _ = probabilities("awful, I hate it", model)
    pleased, _ = probabilities("I love it, thanks", model)
    assert angry > pleased
    assert json.loads(out.read_text(encoding="utf-8"))["weights"] == document["weights"]


def test_several_l2_strengths_are_chosen_between_by_lodo(tmp_path: Path) -> None:
    data = write_data(tmp_path / "data")
    out = tmp_path / "model.json"
    document = build(["--data", str(data), "--out", str(out), "--c", "0.05,2.0", *TINY])
    by_strength = document["evaluation"]["l2_by_lodo"]
    assert set(by_strength) == {"0.05", "2.0"}
    best = max(by_strength, key=lambda c: (by_strength[c], -float(c)))
    assert document["evaluation"]["l2_chosen"] == float(best)
    assert "--c 0.05,2.0 " in document["trained_by"]


def test_a_fixed_operating_point_is_kept(tmp_path: Path) -> None:
    data = write_data(tmp_path / "data")
    out = tmp_path / "model.json"
    document = build(["--data", str(data), "--out", str(out), "--operating-point", "0.45", *TINY])
    assert document["calibration"]["operating_point"] == 0.45
    assert "--operating-point 0.45" in document["trained_by"]
    assert "operating_point" not in document["evaluation"]


def test_the_default_output_is_the_packaged_model() -> None:
    assert Path(sentiment_module.__file__).with_name(MODEL_FILE) == DEFAULT_OUT


def test_training_is_deterministic(tmp_path: Path) -> None:
    data = write_data(tmp_path / "data")
    first, second = tmp_path / "a.json", tmp_path / "b.json"
    build(["--data", str(data), "--out", str(first), "--lodo", *TINY])
    build(["--data", str(data), "--out", str(second), "--lodo", *TINY])
    assert first.read_bytes() == second.read_bytes()


def test_a_zero_weight_leaves_a_source_out(tmp_path: Path) -> None:
    data = write_data(tmp_path / "data")
    out = tmp_path / "model.json"
    document = build(["--data", str(data), "--out", str(out), "--weight", "clinc150=0", *TINY])
    assert "clinc150" not in {entry["source"] for entry in document["training_data"]}


def test_an_empty_folder_is_a_usage_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["--data", str(tmp_path), "--out", str(tmp_path / "m.json")])
    assert exit_info.value.code == 2
    assert "no training data" in capsys.readouterr().err


class RecordingRecipe:
    """A recipe that records what each fold trains on and scores by a fixed word list."""

    command = "recording"

    def __init__(self) -> None:
        self.trained_on: list[set[str]] = []

    def load(self, data: Path) -> list[Source]:
        from warmhandoff.streams.lab.training.sentiment import load_sources

        return load_sources(data)

    def train(self, sources: list[Source]) -> Callable[[str], float]:
        self.trained_on.append({source.name for source in sources})
        return lambda text: -1.0 if any(w in text for w in ("awful", "hate", "sad")) else 0.0


def test_lodo_keeps_each_held_out_group_out_of_its_training(tmp_path: Path) -> None:
    data = write_data(tmp_path / "data")
    emotion = data / "tweeteval" / "emotion"
    emotion.mkdir(parents=True)
    (emotion / "val_text.txt").write_text("so sad today\nwhat a joy\n", encoding="utf-8")
    (emotion / "val_labels.txt").write_text("3\n1\n", encoding="utf-8")
    recipe = RecordingRecipe()
    report = leave_one_dataset_out(data, -0.6, recipe)

    assert report is not None
    assert recipe.trained_on == [
        {"vader/tweets", "clinc150"},
        {"tweeteval/sentiment", "tweeteval/emotion", "clinc150"},
    ]
    assert report["always_trained"] == ["clinc150"]
    tweeteval = report["groups"]["tweeteval"]
    assert tweeteval["held_out"] == ["tweeteval/sentiment", "tweeteval/emotion"]
    assert tweeteval["training_rows"] == 18 + 6
    assert set(tweeteval["sets"]) == {"tweeteval_sentiment", "tweeteval_emotion"}
    assert tweeteval["sets"]["tweeteval_emotion"]["tp"] == 1
    assert tweeteval["unseen_support_turns"]["multiwoz"]["n"] == 2


def test_lodo_figures_are_taken_at_the_given_threshold(tmp_path: Path) -> None:
    data = write_data(tmp_path / "data")
    everything = leave_one_dataset_out(data, 1.0, RecordingRecipe())
    assert everything is not None
    flagged = everything["groups"]["vader"]["sets"]["vader_tweets"]
    assert flagged["recall"] == 1.0 and flagged["tp"] + flagged["fp"] == flagged["n"]
    nothing = leave_one_dataset_out(data, -1.5, RecordingRecipe())
    assert nothing is not None
    assert nothing["groups"]["vader"]["sets"]["vader_tweets"]["tp"] == 0


def test_lodo_without_data_is_none(tmp_path: Path) -> None:
    assert leave_one_dataset_out(tmp_path, -0.6, RecordingRecipe()) is None


def test_lodo_with_the_shipped_recipe_trains_real_models(tmp_path: Path) -> None:
    from warmhandoff.streams.lab.eval.sentiment_lodo import ShippedRecipe
    from warmhandoff.streams.lab.training.sentiment import Settings

    data = write_data(tmp_path / "data")
    recipe = ShippedRecipe(Settings(min_count=1))
    report = leave_one_dataset_out(data, -0.6, recipe)
    assert report is not None
    assert report["recipe"].startswith("python -m warmhandoff.streams.lab.training.sentiment")
    assert report["groups"]["vader"]["sets"]["vader_tweets"]["auc"] > 0.5


def test_figures_count_and_rank() -> None:
    result = figures([True, True, False, False], [-0.9, -0.1, -0.7, 0.5], -0.6)
    assert (result["tp"], result["fp"], result["fn"], result["tn"]) == (1, 1, 1, 1)
    assert result["precision"] == result["recall"] == result["f1"] == 0.5
    assert result["auc"] == 0.75
    assert figures([True], [-1.0], -0.6)["auc"] is None
