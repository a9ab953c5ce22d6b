"""Readers of the labelled data sets: each real format, absent files, malformed files."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from warmhandoff.streams.contract.errors import DatasetError
from warmhandoff.streams.lab.eval.datasets import (
    LabelledText,
    load_datasets,
    read_banking77,
    read_clinc150,
    read_nlupp,
    read_tweeteval_sentiment,
    subsample,
    vader_label,
    vader_reader,
)


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def test_banking77_reads_quoted_multiline_rows(tmp_path: Path) -> None:
    write(
        tmp_path / "banking77" / "train.csv",
        'text,category\nmy card was stolen,lost_or_stolen_card\n"two\nlines, one row",card_arrival\n',
    )
    rows, files = read_banking77(tmp_path) or ([], [])
    assert rows == [
        LabelledText("my card was stolen", ("lost_or_stolen_card",)),
        LabelledText("two\nlines, one row", ("card_arrival",)),
    ]
    assert files == [tmp_path / "banking77" / "train.csv"]


def test_banking77_wrong_header_is_a_clear_error(tmp_path: Path) -> None:
    path = write(tmp_path / "banking77" / "train.csv", "utterance,label\nhi,greeting\n")
    with pytest.raises(DatasetError, match=r"train\.csv: expected a CSV header with text,category"):
        read_banking77(tmp_path)
    path.write_text("text,category\nhi,\n", encoding="utf-8")
    with pytest.raises(DatasetError, match="line 2: missing text or category"):
        read_banking77(tmp_path)


def test_clinc150_reads_every_split(tmp_path: Path) -> None:
    data = {
        "train": [["freeze my account", "freeze_account"]],
        "val": [["what time is it", "time"]],
        "oos_val": [["a show on broadway", "oos"]],
    }
    write(tmp_path / "clinc150" / "clinc150_dev.json", json.dumps(data))
    rows, _ = read_clinc150(tmp_path) or ([], [])
    assert [(r.text, r.labels) for r in rows] == [
        ("freeze my account", ("freeze_account",)),
        ("what time is it", ("time",)),
        ("a show on broadway", ("oos",)),
    ]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("{not json", "not valid JSON"),
        ("[]", "expected an object of splits"),
        ('{"train": {"a": 1}}', "split 'train' is not a list"),
        ('{"train": [["only text"]]}', r"split 'train' item 0 is not \[text, intent\]"),
    ],
)
def test_clinc150_malformed(tmp_path: Path, content: str, message: str) -> None:
    write(tmp_path / "clinc150" / "clinc150_dev.json", content)
    with pytest.raises(DatasetError, match=message):
        read_clinc150(tmp_path)


def test_nlupp_rows_without_intents_have_none(tmp_path: Path) -> None:
    fold = [
        {"text": "can I speak to the manager", "intents": ["handoff"]},
        {"text": "we arrive at 7", "slots": {"time": {"text": "7"}}},
    ]
    write(tmp_path / "nlupp" / "hotels" / "fold0.json", json.dumps(fold))
    write(tmp_path / "nlupp" / "hotels" / "fold1.json", json.dumps(fold[:1]))
    rows, files = read_nlupp(tmp_path) or ([], [])
    assert [r.labels for r in rows] == [("handoff",), (), ("handoff",)]
    assert len(files) == 2


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ('{"text": "hi"}', "expected a list"),
        ('[{"intents": ["handoff"]}]', "item 0 has no text"),
        ('[{"text": "hi", "intents": "handoff"}]', "item 0: intents is not a list"),
    ],
)
def test_nlupp_malformed(tmp_path: Path, content: str, message: str) -> None:
    write(tmp_path / "nlupp" / "hotels" / "fold3.json", content)
    with pytest.raises(DatasetError, match=message):
        read_nlupp(tmp_path)


def test_tweeteval_uses_mapping_and_splits_on_newlines_only(tmp_path: Path) -> None:
    folder = tmp_path / "tweeteval" / "sentiment"
    write(folder / "val_text.txt", "awful day \u2028 really \nfine\ngreat stuff\n")
    write(folder / "val_labels.txt", "0\n1\n2\n")
    write(folder / "mapping.txt", "0\tnegative\n1\tneutral\n2\tpositive\n")
    rows, files = read_tweeteval_sentiment(tmp_path) or ([], [])
    assert [r.labels[0] for r in rows] == ["negative", "neutral", "positive"]
    assert rows[0].text == "awful day \u2028 really"
    assert len(files) == 3


def test_tweeteval_without_mapping_uses_documented_labels(tmp_path: Path) -> None:
    folder = tmp_path / "tweeteval" / "sentiment"
    write(folder / "val_text.txt", "bad\n")
    write(folder / "val_labels.txt", "0\n")
    rows, _ = read_tweeteval_sentiment(tmp_path) or ([], [])
    assert rows == [LabelledText("bad", ("negative",))]


def test_tweeteval_malformed(tmp_path: Path) -> None:
    folder = tmp_path / "tweeteval" / "sentiment"
    write(folder / "val_text.txt", "a\nb\n")
    write(folder / "val_labels.txt", "0\n")
    with pytest.raises(DatasetError, match="2 texts but 1 labels"):
        read_tweeteval_sentiment(tmp_path)
    write(folder / "val_labels.txt", "0\n7\n")
    with pytest.raises(DatasetError, match="line 2: unknown label '7'"):
        read_tweeteval_sentiment(tmp_path)


def test_vader_ground_truth(tmp_path: Path) -> None:
    write(
        tmp_path / "vader" / "tweets_GroundTruth.txt",
        "1\t-2.5\tterrible\tservice\n2\t0.1\tok\n3\t2.0\tlove it\n4\t-0.5\tmeh\n",
    )
    rows, _ = vader_reader("tweets_GroundTruth.txt")(tmp_path) or ([], [])
    assert [(r.text, r.labels[0]) for r in rows] == [
        ("terrible\tservice", "negative"),
        ("ok", "neutral"),
        ("love it", "positive"),
        ("meh", "negative"),
    ]
    assert vader_label(-0.49) == "neutral"


@pytest.mark.parametrize("line", ["1\tbad\ttext", "1\t-1.0", "just text"])
def test_vader_malformed(tmp_path: Path, line: str) -> None:
    write(tmp_path / "vader" / "tweets_GroundTruth.txt", f"0\t1.0\tfine\n{line}\n")
    with pytest.raises(DatasetError, match=r"line 2: expected id<TAB>mean<TAB>text"):
        vader_reader("tweets_GroundTruth.txt")(tmp_path)


def test_absent_files_read_as_none(tmp_path: Path) -> None:
    assert read_banking77(tmp_path) is None
    assert read_clinc150(tmp_path) is None
    assert read_nlupp(tmp_path) is None
    assert read_tweeteval_sentiment(tmp_path) is None
    assert vader_reader("tweets_GroundTruth.txt")(tmp_path) is None


def test_load_datasets_reports_absent_sets_and_subsamples(tmp_path: Path) -> None:
    lines = "".join(f"text {i},cat{i // 5}\n" for i in range(20))
    write(tmp_path / "banking77" / "train.csv", "text,category\n" + lines)
    found = load_datasets(tmp_path, max_per_set=4)
    banking = found["banking77"]
    assert banking is not None and banking.total == 20
    assert [r.labels[0] for r in banking.rows] == ["cat0", "cat1", "cat2", "cat3"]
    assert banking.files == ("banking77/train.csv",)
    assert found["clinc150"] is None and found["vader_tweets"] is None


def test_load_datasets_errors(tmp_path: Path) -> None:
    with pytest.raises(DatasetError, match="not a directory"):
        load_datasets(tmp_path / "missing")
    with pytest.raises(DatasetError, match="none of the known data sets"):
        load_datasets(tmp_path)


def test_subsample_is_even_and_deterministic() -> None:
    assert subsample(list(range(10)), 5) == [0, 2, 4, 6, 8]
    assert subsample(list(range(3)), 5) == [0, 1, 2]
    assert subsample(list(range(3)), None) == [0, 1, 2]
