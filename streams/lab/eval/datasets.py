"""Readers for the public labelled data sets `warmhandoff eval` measures detection on.

Each reader takes the data folder (laid out as ../shared/data: one sub-folder per data set)
and returns the rows as `LabelledText`, or None when the data set's files are not there: a
missing data set is reported as absent, never a crash. A file that is there but not in the
expected shape raises `DatasetError` naming the file and the line or item.

Data sets (key: files and shape → labels):
- `banking77`: `banking77/train.csv` (and `test.csv` when present), CSV with a `text,category`
  header → the category;
- `clinc150`: `clinc150/clinc150_dev.json` (or `data_full.json`),
  `{split: [[text, intent], ...]}`, every split present → the intent (`oos`: out of scope);
- `nlupp`: `nlupp/<domain>/fold*.json`, every domain present, a list of
  `{"text", "intents"?, "slots"?}` → the intents (none when `intents` is absent);
- `tweeteval_sentiment`: `tweeteval/sentiment/val_text.txt` + `val_labels.txt` (one per
  line; `mapping.txt` names the ids, 0 negative, 1 neutral, 2 positive when it is absent)
  → negative, neutral or positive;
- `vader_tweets`, `vader_amazon`, `vader_movies`, `vader_nyt`: `vader/*_GroundTruth.txt`,
  `id<TAB>mean<TAB>text` → negative, neutral or positive from the mean rating.

VADER's ground truth is the mean of ten human ratings on -4..4. A text is `negative` when its
mean is <= `VADER_NEGATIVE_MEAN` (-0.5: leaning clearly negative, an eighth of the scale past
neutral), `positive` when >= `VADER_POSITIVE_MEAN` (+0.5), else `neutral`.

The ABCD sample (three dialogues) is not read: it has no per-turn labels for these signals.
Nothing here imports a detector; the data folder is never needed at run time.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from warmhandoff.streams.contract.errors import DatasetError

VADER_NEGATIVE_MEAN = -0.5
VADER_POSITIVE_MEAN = 0.5

#: TweetEval's documented sentiment labels, used when `mapping.txt` is absent.
TWEETEVAL_MAPPING = {0: "negative", 1: "neutral", 2: "positive"}


@dataclass(frozen=True, slots=True)
class LabelledText:
    """One utterance and its labels in the data set's own vocabulary."""

    text: str
    labels: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Dataset:
    """The rows of one data set, where they came from and under which licence."""

    key: str
    title: str
    licence: str
    files: tuple[str, ...]  # relative to the data folder
    rows: tuple[LabelledText, ...]
    total: int  # rows in the files, before any subsampling


T = TypeVar("T")

Reader = Callable[[Path], tuple[list[LabelledText], list[Path]] | None]


def read_banking77(root: Path) -> tuple[list[LabelledText], list[Path]] | None:
    """Banking77 CSV files (`text,category`); None when `banking77/train.csv` is absent."""
    folder = root / "banking77"
    if not (folder / "train.csv").is_file():
        return None
    files = [p for p in (folder / "train.csv", folder / "test.csv") if p.is_file()]
    rows: list[LabelledText] = []
    for path in files:
        with path.open(encoding="utf-8", newline="") as handle:
            reader = csv.DictReader(handle)
            if not reader.fieldnames or not {"text", "category"} <= set(reader.fieldnames):
                raise DatasetError(f"{path}: expected a CSV header with text,category")
            for row in reader:
                text, category = row.get("text"), row.get("category")
                if not isinstance(text, str) or not category:
                    raise DatasetError(f"{path}: line {reader.line_num}: missing text or category")
                rows.append(LabelledText(text, (category,)))
    return rows, files


def read_clinc150(root: Path) -> tuple[list[LabelledText], list[Path]] | None:
    """CLINC150 JSON (`{split: [[text, intent], ...]}`), every split; None when absent."""
    folder = root / "clinc150"
    path = next(
        (p for p in (folder / "clinc150_dev.json", folder / "data_full.json") if p.is_file()),
        None,
    )
    if path is None:
        return None
    data = _load_json(path)
    if not isinstance(data, dict) or not data:
        raise DatasetError(f"{path}: expected an object of splits, each a list of [text, intent]")
    rows: list[LabelledText] = []
    for split, items in data.items():
        if not isinstance(items, list):
            raise DatasetError(f"{path}: split {split!r} is not a list")
        for number, item in enumerate(items):
            if not (
                isinstance(item, list)
                and len(item) == 2
                and isinstance(item[0], str)
                and isinstance(item[1], str)
            ):
                raise DatasetError(f"{path}: split {split!r} item {number} is not [text, intent]")
            rows.append(LabelledText(item[0], (item[1],)))
    return rows, [path]


def read_nlupp(root: Path) -> tuple[list[LabelledText], list[Path]] | None:
    """NLU++ folds of every domain present (`nlupp/<domain>/fold*.json`); None when none."""
    files = sorted((root / "nlupp").glob("*/fold*.json"))
    if not files:
        return None
    rows: list[LabelledText] = []
    for path in files:
        data = _load_json(path)
        if not isinstance(data, list):
            raise DatasetError(f"{path}: expected a list of {{text, intents}} objects")
        for number, item in enumerate(data):
            if not isinstance(item, dict) or not isinstance(item.get("text"), str):
                raise DatasetError(f"{path}: item {number} has no text")
            # Rows with slots only carry no "intents" key: they have no intent.
            intents = item.get("intents", [])
            if not isinstance(intents, list) or not all(isinstance(i, str) for i in intents):
                raise DatasetError(f"{path}: item {number}: intents is not a list of names")
            rows.append(LabelledText(item["text"], tuple(intents)))
    return rows, files


def read_tweeteval_sentiment(root: Path) -> tuple[list[LabelledText], list[Path]] | None:
    """TweetEval sentiment validation split; None when its text or label file is absent."""
    folder = root / "tweeteval" / "sentiment"
    text_path, label_path = folder / "val_text.txt", folder / "val_labels.txt"
    if not (text_path.is_file() and label_path.is_file()):
        return None
    files = [text_path, label_path]
    mapping = dict(TWEETEVAL_MAPPING)
    mapping_path = folder / "mapping.txt"
    if mapping_path.is_file():
        files.append(mapping_path)
        mapping = {}
        for number, line in enumerate(_lines(mapping_path), start=1):
            parts = line.split("\t")
            if len(parts) != 2 or not parts[0].strip().isdigit():
                raise DatasetError(f"{mapping_path}: line {number}: expected <id><TAB><name>")
            mapping[int(parts[0])] = parts[1].strip()
    texts, labels = _lines(text_path), _lines(label_path)
    if len(texts) != len(labels):
        raise DatasetError(
            f"{text_path}: {len(texts)} texts but {len(labels)} labels in {label_path.name}"
        )
    rows = []
    for number, (text, label) in enumerate(zip(texts, labels, strict=True), start=1):
        value = label.strip()
        if not value.isdigit() or int(value) not in mapping:
            raise DatasetError(f"{label_path}: line {number}: unknown label {value!r}")
        rows.append(LabelledText(text.strip(), (mapping[int(value)],)))
    return rows, files


def vader_reader(file_name: str) -> Reader:
    """A reader for one VADER ground-truth file (`id<TAB>mean<TAB>text`)."""

    def read(root: Path) -> tuple[list[LabelledText], list[Path]] | None:
        path = root / "vader" / file_name
        if not path.is_file():
            return None
        rows = []
        for number, line in enumerate(_lines(path), start=1):
            parts = line.split("\t", 2)
            mean = _float(parts[1]) if len(parts) == 3 else None
            if mean is None:
                raise DatasetError(f"{path}: line {number}: expected id<TAB>mean<TAB>text")
            rows.append(LabelledText(parts[2].strip(), (vader_label(mean),)))
        return rows, [path]

    return read


def _float(text: str) -> float | None:
    try:
        return float(text)
    except ValueError:
        return None


def vader_label(mean: float) -> str:
    """The sentiment class of a VADER mean human rating (-4..4)."""
    if mean <= VADER_NEGATIVE_MEAN:
        return "negative"
    if mean >= VADER_POSITIVE_MEAN:
        return "positive"
    return "neutral"


@dataclass(frozen=True, slots=True)
class Source:
    """A data set the evaluation knows: its key, title, licence and reader."""

    key: str
    title: str
    licence: str
    read: Reader


SOURCES: tuple[Source, ...] = (
    Source("banking77", "Banking77 (PolyAI)", "CC-BY-4.0", read_banking77),
    Source("clinc150", "CLINC150 (Clinc)", "CC-BY-3.0", read_clinc150),
    Source("nlupp", "NLU++ (PolyAI)", "CC-BY-4.0", read_nlupp),
    Source(
        "tweeteval_sentiment",
        "TweetEval sentiment, validation (Cardiff NLP)",
        "TweetEval terms; Twitter terms apply",
        read_tweeteval_sentiment,
    ),
    Source(
        "vader_tweets",
        "VADER ground truth, tweets (Hutto & Gilbert)",
        "MIT",
        vader_reader("tweets_GroundTruth.txt"),
    ),
    Source(
        "vader_amazon",
        "VADER ground truth, Amazon review snippets (Hutto & Gilbert)",
        "MIT",
        vader_reader("amazonReviewSnippets_GroundTruth.txt"),
    ),
    Source(
        "vader_movies",
        "VADER ground truth, movie review snippets (Hutto & Gilbert)",
        "MIT",
        vader_reader("movieReviewSnippets_GroundTruth.txt"),
    ),
    Source(
        "vader_nyt",
        "VADER ground truth, NYT editorial snippets (Hutto & Gilbert)",
        "MIT",
        vader_reader("nytEditorialSnippets_GroundTruth.txt"),
    ),
)


def load_datasets(root: Path, *, max_per_set: int | None = None) -> dict[str, Dataset | None]:
    """Every known data set under `root` (None when absent), subsampled to `max_per_set`."""
    if not root.is_dir():
        raise DatasetError(f"--data {root}: not a directory")
    found: dict[str, Dataset | None] = {}
    for source in SOURCES:
        read = source.read(root)
        if read is None:
            found[source.key] = None
            continue
        rows, files = read
        found[source.key] = Dataset(
            key=source.key,
            title=source.title,
            licence=source.licence,
            files=_describe(files, root),
            rows=tuple(subsample(rows, max_per_set)),
            total=len(rows),
        )
    if not any(found.values()):
        raise DatasetError(
            f"--data {root}: none of the known data sets is there (expected banking77/, "
            "clinc150/, nlupp/, tweeteval/sentiment/ or vader/ as in ../shared/data)"
        )
    return found


def subsample(rows: Sequence[T], limit: int | None) -> list[T]:
    """At most `limit` rows, evenly spaced, so grouped files keep every group (deterministic)."""
    if limit is None or len(rows) <= limit:
        return list(rows)
    return [rows[i * len(rows) // limit] for i in range(limit)]


def _describe(files: list[Path], root: Path) -> tuple[str, ...]:
    """Relative file names, numbered folds collapsed ("nlupp/hotels/fold*.json")."""
    names: list[str] = []
    for path in files:
        name = str(path.relative_to(root))
        if path.stem.startswith("fold") and path.stem[4:].isdigit():
            name = str(path.parent.relative_to(root) / f"fold*{path.suffix}")
        if name not in names:
            names.append(name)
    return tuple(names)


def _load_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise DatasetError(f"{path}: not valid JSON: {exc}") from None
    except UnicodeDecodeError:
        raise DatasetError(f"{path}: not UTF-8 text") from None


def _lines(path: Path) -> list[str]:
    """The file's lines, split on newlines only (tweets can hold U+2028 and other breaks)."""
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise DatasetError(f"{path}: not UTF-8 text") from None
    lines = [line.removesuffix("\r") for line in text.split("\n")]
    if lines and lines[-1] == "":
        lines.pop()
    return lines
