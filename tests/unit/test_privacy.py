"""The redaction measurement: a deterministic, valid corpus, and figures that move with the
redactor.

The floors below are what the redactor meets today on this corpus (a regression guard, not
a target): national-format phone numbers of another country than the bot's locale are not
redacted yet and have no floor (docs/privacy.md).
"""

from __future__ import annotations

import re

import orjson
import phonenumbers
import pytest

from warmhandoff.streams.cli import main
from warmhandoff.streams.lab.eval.privacy import (
    LOOKALIKES,
    SENSITIVE,
    Sample,
    corpus,
    leaked,
    measure,
)

SMALL = corpus(20, seed=0)


def luhn_ok(digits: str) -> bool:
    total = 0
    for i, c in enumerate(reversed(digits)):
        d = int(c) * (2 if i % 2 else 1)
        total += d - 9 if d > 9 else d
    return total % 10 == 0


def test_the_corpus_is_deterministic_and_covers_every_kind() -> None:
    assert corpus(5, seed=1) == corpus(5, seed=1)
    assert corpus(5, seed=1) != corpus(5, seed=2)
    kinds = {s.kind for s in SMALL}
    assert kinds == set(SENSITIVE) | set(LOOKALIKES)
    assert all(s.value in s.text for s in SMALL)


def test_generated_values_are_valid_by_their_own_check_digits() -> None:
    for s in SMALL:
        compact = re.sub(r"[ -]", "", s.value)
        if s.kind == "card":
            assert luhn_ok(compact), s
        elif s.kind.startswith("iban_"):
            rotated = compact[4:] + compact[:4]
            assert int("".join(str(int(c, 36)) for c in rotated)) % 97 == 1, s
        elif s.kind == "dni":
            assert "TRWAGMYFPDXBNJZSQVHLCKE"[int(compact[:8]) % 23] == compact[8], s
        elif s.kind == "insee":
            assert 97 - int(compact[:13]) % 97 == int(compact[13:]), s
        elif s.kind.startswith("phone_") and s.kind != "phone_foreign_national":
            assert phonenumbers.is_valid_number(phonenumbers.parse(s.value, s.region)), s


def test_a_value_partly_left_or_read_out_in_words_counts_as_leaked() -> None:
    card = Sample("card", "card 4111 1111 1111 1111", "4111 1111 1111 1111", "US", True)
    assert leaked(card, "card 4111111111111111")
    assert leaked(card, "card four one one one, one one one one, double one one one 1111")
    assert not leaked(card, "card [CARD]")


def test_the_measure_tells_a_redactor_that_does_nothing_from_one_that_redacts_everything() -> None:
    nothing = measure(SMALL, lambda text, region: (text, 0))
    everything = measure(SMALL, lambda text, region: ("[REDACTED]", 1))
    assert nothing["overall_recall"] == 0.0 and nothing["overall_false_positive_rate"] == 0.0
    assert everything["overall_recall"] == 1.0
    assert everything["overall_false_positive_rate"] == 1.0


# What the redactor meets today (measured: `warmhandoff privacy`); raise these as it improves.
FLOORS = {
    **dict.fromkeys(
        [
            "card", "card_spoken", "ssn", "nino", "dni", "nie", "email",
            "iban_de", "iban_fr", "iban_es", "iban_gb",
            "phone_us", "phone_gb", "phone_es", "phone_fr", "phone_de", "phone_br",
            "phone_in", "phone_mx", "cvv", "expiry", "insee",
        ],
        1.0,
    ),
}  # fmt: skip


def test_todays_redactor_keeps_its_recall_and_false_positive_floors() -> None:
    report = measure(SMALL)
    for kind, floor in FLOORS.items():
        assert report["recall"][kind]["rate"] >= floor, (kind, report["examples"].get(kind))
    assert report["false_positives"]["amount"]["rate"] == 0.0
    assert report["false_positives"]["date"]["rate"] == 0.0
    assert report["false_positives"]["time"]["rate"] == 0.0
    assert report["false_positives"]["order_number"]["rate"] == 0.0  # grouped unlike cards
    assert report["overall_false_positive_rate"] <= 0.1


def test_the_cli_prints_the_report(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["privacy", "--json", "--per-kind", "3", "--seed", "4"]) == 0
    report = orjson.loads(capsys.readouterr().out)
    assert report["samples"] == 3 * (len(SENSITIVE) + len(LOOKALIKES))
    assert report["seed"] == 4
    assert main(["privacy", "--per-kind", "2"]) == 0
    assert "recall" in capsys.readouterr().out
