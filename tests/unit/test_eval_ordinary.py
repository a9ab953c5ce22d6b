"""Ordinary conversations through the pipeline: the figures, the split and bad files."""

from __future__ import annotations

import json
import zlib
from pathlib import Path

import pytest

from warmhandoff.streams.contract.errors import DatasetError
from warmhandoff.streams.lab.eval.ordinary import (
    DIALOGUES_FILE,
    HALVES,
    half_of,
    ordinary_conversations,
)
from warmhandoff.streams.policy import load_policy

# Written for this test, in the data set's tokenised style.
POLITE = [
    ("customer", "I need a room for two nights from Friday ."),
    ("system", "The Grand has a room . Shall I book it ?"),
    ("customer", "Yes please , for 2 people ."),
    ("system", "Booked . Anything else ?"),
    ("customer", "No , that 's everything . Cheers !"),
]
ASKS_FOR_A_PERSON = [
    ("customer", "I want to speak to a real person please ."),
    ("system", "Of course ."),
]


def dialogue(dialogue_id: str, turns: list[tuple[str, str]]) -> str:
    rows = [{"role": role, "text": text} for role, text in turns]
    return json.dumps({"dialogue_id": dialogue_id, "domains": ["hotel"], "turns": rows})


def write(root: Path, lines: list[str]) -> Path:
    path = root / DIALOGUES_FILE
    path.parent.mkdir(parents=True)
    path.write_text("\n".join(lines) + "\n")
    return root


def ids_in(half: str, count: int) -> list[str]:
    return [i for i in (f"T{n:03d}" for n in range(100)) if half_of(i) == half][:count]


def test_halves_are_split_by_the_crc32_of_the_id() -> None:
    for dialogue_id in ("A1", "B22", "C333", "PMUL9999"):
        odd = zlib.crc32(dialogue_id.encode()) % 2 == 1
        assert half_of(dialogue_id) == ("development" if odd else "report")


def test_figures_per_half(tmp_path: Path) -> None:
    dev = ids_in("development", 3)
    rep = ids_in("report", 2)
    lines = [dialogue(i, POLITE) for i in dev] + [dialogue(rep[0], POLITE)]
    lines.append(dialogue(rep[1], ASKS_FOR_A_PERSON))
    section = ordinary_conversations(write(tmp_path, lines), load_policy())
    assert section is not None and tuple(section["halves"]) == HALVES
    development, report = section["halves"]["development"], section["halves"]["report"]
    assert (development["dialogues"], development["customer_turns"], development["turns"]) == (
        3,
        9,
        15,
    )
    assert development["escalated"] == development["acted"] == 0
    assert development["escalated_rate"] == 0.0 and development["escalated_by"] == {}
    assert report["dialogues"] == 2 and report["escalated"] == 1
    assert report["escalated_by"] == {"human_request": 1}
    assert report["acted_by"] == {"human_request": 1}
    assert report["escalated_revenue_only"] == 0 and report["escalated_other"] == 1
    assert report["escalated_rate"] == 0.5


def test_an_absent_file_is_none(tmp_path: Path) -> None:
    assert ordinary_conversations(tmp_path, load_policy()) is None


@pytest.mark.parametrize(
    "bad",
    [
        "{not json",
        json.dumps({"turns": []}),
        json.dumps({"dialogue_id": "X", "turns": [{"role": "agent", "text": "hi"}]}),
        json.dumps({"dialogue_id": "X", "turns": [{"role": "customer"}]}),
        json.dumps({"dialogue_id": "X", "turns": "hello"}),
        json.dumps(["a list"]),
    ],
)
def test_a_malformed_line_names_the_file_and_line(tmp_path: Path, bad: str) -> None:
    root = write(tmp_path, [dialogue("OK1", POLITE), bad])
    with pytest.raises(DatasetError, match=r"val_dialogues\.jsonl: line 2"):
        ordinary_conversations(root, load_policy())
