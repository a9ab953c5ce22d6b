"""Redaction: cards (digits and digit words), CVV, national IDs, e-mail, phones, IBAN."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from warmhandoff.streams.detect.redact import redact


def _luhn_complete(prefix: str) -> str:
    """Append the check digit that makes `prefix` Luhn-valid."""
    for check in "0123456789":
        number = prefix + check
        total = 0
        for position, char in enumerate(reversed(number)):
            value = int(char) * (2 if position % 2 else 1)
            total += value - 9 if value > 9 else value
        if total % 10 == 0:
            return number
    raise AssertionError("unreachable")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("my card is 4111 1111 1111 1111", "my card is [CARD]"),
        ("card 4111-1111-1111-1111 please", "card [CARD] please"),
        ("4111111111111111", "[CARD]"),
        ("amex 3782 822463 10005", "amex [CARD]"),
        ("number 4111111111111112 is not Luhn-valid", "number 4111111111111112 is not Luhn-valid"),
        ("four one one one one one one one one one one one one one one one", "[CARD]"),
        ("it's 4111 one one one one one one one one one one one one thanks", "it's [CARD] thanks"),
        ("four oh oh oh, oh oh oh oh, oh oh oh oh, oh oh oh two", "[CARD]"),
        (
            "four four double zero zero zero zero zero zero zero zero zero zero zero zero eight",
            "[CARD]",
        ),
        ("cuatro uno uno uno uno uno uno uno uno uno uno uno uno uno uno uno", "[CARD]"),
        ("quatre un un un un un un un un un un un un un un un", "[CARD]"),
        (
            "vier eins eins eins eins eins eins eins eins eins eins eins eins eins eins eins",
            "[CARD]",
        ),
    ],
)
def test_cards(text: str, expected: str) -> None:
    assert redact(text)[0] == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("cvv 123", "cvv [CVV]"),
        ("the security code: 4321", "the security code: [CVV]"),
        ("123 is my cvv", "[CVV] is my cvv"),
        ("my ssn is 123-45-6789", "my ssn is [NATIONAL_ID]"),
        ("SSN 123 45 6789", "SSN [NATIONAL_ID]"),
        ("NINO AB123456C", "NINO [NATIONAL_ID]"),
        ("mi DNI es 12345678Z", "mi DNI es [NATIONAL_ID]"),
        ("NIE X1234567L", "NIE [NATIONAL_ID]"),
        ("CPF 529.982.247-25", "CPF [NATIONAL_ID]"),
        ("email me at john.doe+x@example.co.uk", "email me at [EMAIL]"),
        ("call me at (415) 555-2671", "call me at [PHONE]"),
        ("my number is +44 20 7946 0958", "my number is [PHONE]"),
        ("IBAN DE89 3704 0044 0532 0130 00 please", "IBAN [IBAN] please"),
        ("iban GB82WEST12345698765432", "iban [IBAN]"),
    ],
)
def test_other_personal_data(text: str, expected: str) -> None:
    assert redact(text)[0] == expected


@pytest.mark.parametrize(
    "text",
    [
        "order ORD-12345 for $1,250.00 on 2024-01-15",
        "case 00123 account 12345678",
        "the meeting is at 10:30 on 12/05/2024",
        "DNI 12345678A has a wrong check letter",
        "CPF 529.982.247-26 has wrong check digits",
        "tracking 1Z999AA10123456784",
        "one two three, here we go",
        "I'd like one of those, maybe two",
        "hello there",
        "",
    ],
)
def test_look_alikes_are_left_alone(text: str) -> None:
    assert redact(text) == (text, 0)


def test_an_iban_with_a_wrong_checksum_is_not_an_iban() -> None:
    assert "[IBAN]" not in redact("IBAN DE89 3704 0044 0532 0130 01 is wrong")[0]


def test_counts_every_redaction() -> None:
    text, count = redact("card 4111 1111 1111 1111 cvv 123, mail a@b.com, ssn 123-45-6789")
    assert text == "card [CARD] cvv [CVV], mail [EMAIL], ssn [NATIONAL_ID]"
    assert count == 4


def test_region_selects_national_phone_formats() -> None:
    assert redact("ring 020 7946 0958", region="GB")[0] == "ring [PHONE]"


_card = st.builds(
    lambda prefix, style: _format(_luhn_complete(prefix), style),
    st.from_regex(r"[3-6][0-9]{11,17}", fullmatch=True),
    st.sampled_from(["", " ", "-"]),
)


def _format(number: str, separator: str) -> str:
    return separator.join(number[i : i + 4] for i in range(0, len(number), 4))


@given(before=st.text(max_size=40), card=_card, after=st.text(max_size=40))
def test_a_luhn_valid_card_never_survives(before: str, card: str, after: str) -> None:
    redacted, count = redact(f"{before} {card} {after}")
    assert card not in redacted
    assert count >= 1


_WORDS = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"]


@given(number=st.from_regex(r"[3-6][0-9]{14}", fullmatch=True).map(_luhn_complete))
def test_a_card_read_out_in_words_never_survives(number: str) -> None:
    spoken = " ".join(_WORDS[int(digit)] for digit in number)
    redacted, _ = redact(f"sure, it's {spoken}, thanks")
    assert redacted == "sure, it's [CARD], thanks"


@given(st.text(alphabet=st.characters(exclude_categories=["Nd"]), max_size=80))
def test_text_without_digits_or_at_sign_is_unchanged(text: str) -> None:
    if "@" not in text:
        assert redact(text) == (text, 0)


def test_bot_details_and_attachment_names_are_redacted_before_the_state_keeps_them() -> None:
    from datetime import UTC, datetime

    from warmhandoff.streams.contract.models import Turn
    from warmhandoff.streams.core.detection import detect
    from warmhandoff.streams.core.pipeline import new_state

    turn = Turn.model_validate(
        {
            "conversation_id": "c-1",
            "seq": 0,
            "ts": datetime(2026, 11, 25, 16, tzinfo=UTC).isoformat(),
            "role": "bot",
            "text": "Let me check that payment.",
            "locale": "en-GB",
            "bot": {"action": "charge_card", "status": "failed",
                    "detail": "gateway refused card 5555 5555 5555 4444"},
            "attachments": [{"name": "statement for jane.doe@example.org.pdf",
                             "url": "https://files.example.com/u/jane.doe@example.org/s.pdf"}],
        }
    )  # fmt: skip
    state = new_state("c-1")
    detect(state, turn, transcript_turns=20)
    kept = state.dumps().decode()
    assert "5555" not in kept and "jane.doe@example.org" not in kept
    assert state.steps[0]["detail"].startswith("gateway refused card ")
    assert state.redactions >= 3


def test_a_long_run_before_an_at_sign_is_scanned_once() -> None:
    # Unanchored, the e-mail pattern restarted at every letter: quadratic in the run length.
    # Counted in regex steps rather than timed: the anchored pattern starts once per run.
    from warmhandoff.streams.detect import redact as module

    starts = [m.start() for m in module._EMAIL.finditer("a" * 2000 + "@ and b@example.org")]
    assert starts == [2006]  # only the real address, "b@example.org"
    assert module._EMAIL.pattern.startswith("(?<![")
