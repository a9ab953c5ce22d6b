"""`warmhandoff eval`: the table and the JSON report on a tiny data folder, and its errors."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import orjson
import pytest

from warmhandoff.streams.cli import main
from warmhandoff.streams.lab.eval.detectors import evaluate

SHARED_DATA = Path(__file__).resolve().parents[2].parent / "shared" / "data"

TOP_KEYS = {
    "report_version",
    "data",
    "max_per_set",
    "policy_version",
    "datasets",
    "human_request",
    "risk",
    "negative_sentiment",
    "language",
    "ordinary",
    "conversations",
    "speed",
    "targets",
    "targets_met",
}


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    """A folder laid out as ../shared/data with a few rows of each format (VADER tweets only)."""
    root = tmp_path / "data"
    (root / "banking77").mkdir(parents=True)
    (root / "banking77" / "train.csv").write_text(
        "text,category\n"
        "someone used my card without my permission,compromised_card\n"
        "I want to close my account,terminate_account\n"
        "I was charged twice for the same coffee,transaction_charged_twice\n"
        "how do I verify my identity,verify_my_identity\n"
        "when will my card arrive,card_arrival\n"
        "what is the exchange rate for euros,exchange_rate\n"
        "I can't see my refund,Refund_not_showing_up\n",
        encoding="utf-8",
    )
    (root / "clinc150").mkdir()
    clinc = {
        "train": [
            ["report my card as stolen", "report_lost_card"],
            ["what's the weather", "weather"],
        ],
        "oos_val": [["how tall is mount everest", "oos"]],
    }
    (root / "clinc150" / "clinc150_dev.json").write_text(json.dumps(clinc), encoding="utf-8")
    (root / "nlupp" / "hotels").mkdir(parents=True)
    nlupp = [
        {"text": "can I talk to a real person please", "intents": ["handoff"]},
        {"text": "is breakfast included", "intents": ["breakfast"]},
        {"text": "for two nights"},
    ]
    (root / "nlupp" / "hotels" / "fold0.json").write_text(json.dumps(nlupp), encoding="utf-8")
    sentiment = root / "tweeteval" / "sentiment"
    sentiment.mkdir(parents=True)
    (sentiment / "val_text.txt").write_text(
        "this is awful, worst service ever\nthe train leaves at nine\nI love this so much\n",
        encoding="utf-8",
    )
    (sentiment / "val_labels.txt").write_text("0\n1\n2\n", encoding="utf-8")
    (root / "vader").mkdir()
    (root / "vader" / "tweets_GroundTruth.txt").write_text(
        "1\t-2.5\tthis is the worst day, everything broke\n"
        "2\t0.1\tthe meeting is at noon\n"
        "3\t2.8\twhat a lovely surprise, thank you\n"
        "4\t-1.9\tso angry at this awful service\n",
        encoding="utf-8",
    )
    (root / "multiwoz").mkdir()
    dialogues = [
        {
            "dialogue_id": f"D{i}.json",
            "domains": ["hotel"],
            "turns": [
                {"role": "customer", "text": "I need a cheap hotel in the north ."},
                {"role": "system", "text": "I have two options . Shall I book one ?"},
                {"role": "customer", "text": "No , thank you . That is all ."},
                {"role": "system", "text": "Goodbye ."},
            ],
        }
        for i in range(4)
    ]
    (root / "multiwoz" / "val_dialogues.jsonl").write_text(
        "".join(json.dumps(d) + "\n" for d in dialogues), encoding="utf-8"
    )
    return root


def run_json(capsys: pytest.CaptureFixture[str], *args: str) -> dict[str, Any]:
    assert main(["eval", *args, "--json"]) == 0
    report: dict[str, Any] = orjson.loads(capsys.readouterr().out)
    return report


def test_json_report_has_stable_keys(data_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    report = run_json(capsys, "--data", str(data_dir))
    assert set(report) == TOP_KEYS
    assert report["report_version"] == 2 and report["max_per_set"] is None
    assert report["datasets"]["banking77"] == {
        "present": True,
        "title": "Banking77 (PolyAI)",
        "licence": "CC-BY-4.0",
        "files": ["banking77/train.csv"],
        "rows": 7,
        "total": 7,
    }
    assert report["datasets"]["vader_amazon"] == {"present": False}
    human = report["human_request"]
    assert human["measured"] == "leave-one-dataset-out"
    for part in ("detector", "classifier"):
        nlupp = human[part]["sets"]["nlupp"]
        assert {"n", "positives", "tp", "fp", "fn", "tn", "precision", "recall", "f1"} == set(nlupp)
        assert nlupp["positives"] == 1 and nlupp["n"] == 3
        assert set(human[part]["flagged"]) == {"banking77", "clinc150", "combined"}

    banking = report["risk"]["detector"]["sets"]["banking77"]
    assert set(banking["families"]) == {"fraud", "payments", "cancellation"}
    assert set(banking["families"]["fraud"]) == {"n", "tp", "fp", "fn", "precision", "recall"}
    assert banking["plain"]["n"] == 2  # card_arrival, exchange_rate
    assert banking["adjacent"]["n"] == 2  # the missing refund; how to verify identity
    assert set(banking["plain"]) == {"n", "tagged", "rate", "by_family", "top_labels"}
    assert set(report["risk"]["classifier"]["sets"]["clinc150"]["families"]) == {"fraud"}

    sentiment = report["negative_sentiment"]
    assert sentiment["measured"] == "leave-one-dataset-out"
    assert isinstance(sentiment["threshold"], float)
    tweets = sentiment["sets"]["tweeteval_sentiment"]
    assert tweets["positives"] == 1 and 0.0 <= tweets["auc"] <= 1.0
    assert {"f1", "precision", "recall", "auc"} <= set(tweets)
    assert set(sentiment["groups"]) == {"tweeteval", "vader"}
    assert "tweeteval/sentiment" not in sentiment["groups"]["tweeteval"]["training"]

    language = report["language"]
    assert set(language["per_language"]) >= {"en", "es", "fr", "de", "pt", "it", "ar", "hi"}
    assert "hi-Latn" in language["per_language"]
    assert 0.0 <= language["macro_accuracy"] <= 1.0

    ordinary = report["ordinary"]["halves"]
    assert sum(half["dialogues"] for half in ordinary.values()) == 4

    speed = report["speed"]
    assert speed["turns"] == 7 + 3 + 3 + 3 + 4
    assert set(speed["detectors"]) == {
        "text_classifier",
        "human_request",
        "risk",
        "sentiment",
        "language",
    }
    assert speed["us_per_turn"] > 0 and speed["install"] == "default"

    for check in report["targets"]:
        assert set(check) == {"signal", "set", "metric", "value", "op", "target", "met"}
    assert {c["signal"] for c in report["targets"]} == {
        "human_request",
        "risk",
        "negative_sentiment",
        "language",
        "ordinary",
        "conversations",
        "speed",
    }
    simulated = report["conversations"]["sets"]["simulated"]
    assert simulated["benign"] > 0 and simulated["dissatisfied_turns"] > 0
    assert 0.0 <= simulated["benign_escalation_rate"] <= 1.0
    assert report["targets_met"] == all(c["met"] for c in report["targets"])


def test_table_has_a_section_per_signal_with_targets(
    data_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["eval", "--data", str(data_dir)]) == 0
    out = capsys.readouterr().out
    for title in (
        "Data sets",
        "Explicit request for a human",
        "Risk families",
        "Negative sentiment (negative when score <= ",
        "Language",
        "Ordinary conversations",
        "Speed",
    ):
        assert title in out
    assert "vader_amazon          absent" in out
    f1_row = next(
        line for line in out.splitlines() if line.strip().startswith("nlupp ") and " F1 " in line
    )
    assert ">= 0.95" in f1_row and (f1_row.rstrip().endswith("yes") or "NO" in f1_row)
    assert "<= 150" in out
    assert out.rstrip().splitlines()[-1].startswith("Targets: ")


def test_max_per_set_subsamples(data_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    report = run_json(capsys, "--data", str(data_dir), "--max-per-set", "2")
    assert report["max_per_set"] == 2
    assert report["datasets"]["banking77"]["rows"] == 2
    assert report["datasets"]["banking77"]["total"] == 7


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--data", "{missing}"], "not a directory"),
        (["--data", "{empty}"], "none of the known data sets"),
        (["--data", "{empty}", "--max-per-set", "0"], "--max-per-set: must be at least 1"),
    ],
)
def test_bad_data_is_a_one_line_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], args: list[str], message: str
) -> None:
    (tmp_path / "empty").mkdir()
    argv = [a.format(missing=tmp_path / "missing", empty=tmp_path / "empty") for a in args]
    assert main(["eval", *argv]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1 and message in lines[0] and "Traceback" not in captured.err


def test_malformed_file_is_a_one_line_error(
    data_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (data_dir / "clinc150" / "clinc150_dev.json").write_text("{broken", encoding="utf-8")
    assert main(["eval", "--data", str(data_dir)]) == 2
    err = capsys.readouterr().err
    assert "clinc150_dev.json: not valid JSON" in err and "Traceback" not in err


@pytest.mark.data
@pytest.mark.skipif(not SHARED_DATA.is_dir(), reason="../shared/data is not present")
def test_eval_on_shared_data(capsys: pytest.CaptureFixture[str]) -> None:
    report = run_json(capsys, "--data", str(SHARED_DATA), "--max-per-set", "200")
    assert set(report) == TOP_KEYS
    present = {key for key, info in report["datasets"].items() if info["present"]}
    assert {"banking77", "clinc150", "nlupp", "tweeteval_sentiment"} <= present
    assert all(report["datasets"][key]["rows"] <= 200 for key in present)
    assert set(report["risk"]["detector"]["sets"]) == {"banking77", "clinc150", "nlupp"}
    assert set(report["risk"]["detector"]["sets"]["banking77"]["families"]) == {
        "fraud",
        "identity",
        "payments",
        "cancellation",
    }
    assert report["negative_sentiment"]["sets"]["tweeteval_sentiment"]["auc"] is not None
    assert report["speed"]["turns"] <= sum(report["datasets"][key]["rows"] for key in present)
    assert len(report["targets"]) >= 10


def test_evaluate_is_importable_without_the_cli(data_dir: Path) -> None:
    report = evaluate(data_dir, max_per_set=1)
    assert report["datasets"]["nlupp"]["rows"] == 1


def test_without_the_train_extra_it_says_what_to_install(
    data_dir: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from warmhandoff.streams.lab.eval import topics

    monkeypatch.setattr(topics, "find_spec", lambda name: None)
    assert main(["eval", "--data", str(data_dir)]) == 2
    captured = capsys.readouterr()
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1 and "pip install 'warmhandoff[train]'" in lines[0]
    assert "Traceback" not in captured.err and captured.out == ""
