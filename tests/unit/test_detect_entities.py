"""Entities and IDs from redacted text."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from warmhandoff.streams.detect.entities import extract_entities
from warmhandoff.streams.detect.redact import redact


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("my order #A12345 hasn't arrived", {"order_id": ["A12345"]}),
        ("order number 998877", {"order_id": ["998877"]}),
        ("ORD-12345 is late", {"order_id": ["ORD-12345"]}),
        ("account 12345678", {"account_id": ["12345678"]}),
        ("case 00123", {"case_id": ["00123"]}),
        ("ticket #4567", {"case_id": ["4567"]}),
        ("invoice INV-2024-0042", {"invoice_id": ["INV-2024-0042"]}),
        ("tracking number 1Z999AA10123456784", {"tracking_id": ["1Z999AA10123456784"]}),
        ("pedido 12345", {"order_id": ["12345"]}),
        ("I paid $120.50", {"amount": ["$120.50"]}),
        ("it was 120 EUR", {"amount": ["120 EUR"]}),
        ("€45 and £1,250.00", {"amount": ["€45", "£1,250.00"]}),
        ("order 3 items", {}),
        ("I ordered 2 pizzas", {}),
        ("order from 2024", {}),
        ("no numbers here", {}),
    ],
)
def test_entities(text: str, expected: dict[str, list[str]]) -> None:
    assert extract_entities(text) == expected


def test_several_kinds_deduplicated_in_order() -> None:
    found = extract_entities(
        "order #A1 is wrong; order #A12345 and order #A12345 again, case number: 00123, "
        "account no. 5555, refund of $120.50"
    )
    assert found == {
        "order_id": ["A12345"],
        "account_id": ["5555"],
        "case_id": ["00123"],
        "amount": ["$120.50"],
    }


@pytest.mark.parametrize(
    "text",
    [
        "account [CARD]",
        "my account number is [CARD] and order [CARD]",
        "case [NATIONAL_ID], invoice [IBAN], call [PHONE]",
    ],
)
def test_placeholders_never_become_entities(text: str) -> None:
    assert extract_entities(text) == {}


@given(st.from_regex(r"[0-9]{16}", fullmatch=True))
def test_nothing_extracted_from_a_redacted_card(digits: str) -> None:
    redacted, _ = redact(f"account 4111111111111111 order {digits[:4]}")
    assert "4111111111111111" not in str(extract_entities(redacted))
