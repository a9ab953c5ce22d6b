"""Pure parts of the bot client (warmhandoff.agents.client): parsing directives, turns."""

from __future__ import annotations

from datetime import UTC, datetime

import orjson
import pytest

from warmhandoff.agents.directives import parse_directive
from warmhandoff.agents.turns import turn
from warmhandoff.streams.contract.models import DirectiveType, Nlu, Role

NOW = datetime(2026, 11, 25, 16, 0, tzinfo=UTC)

DIRECTIVE = {
    "directive_id": "d-1",
    "conversation_id": "c-1",
    "type": "gather",
    "ts": "2026-11-25T16:00:00Z",
    "seq": 3,
    "message": "Could you tell me your order number?",
    "fields": ["order_id"],
}


def test_parse_directive() -> None:
    directive = parse_directive(orjson.dumps(DIRECTIVE))
    assert directive.type is DirectiveType.gather
    assert directive.fields == ["order_id"]


def test_unknown_fields_are_ignored() -> None:
    # Published schemas only grow: an older bot must keep working with a newer pipeline.
    directive = parse_directive(orjson.dumps({**DIRECTIVE, "added_later": {"x": 1}}))
    assert directive.directive_id == "d-1"


@pytest.mark.parametrize(
    "raw",
    [
        None,
        b"",
        b"not json",
        b"\xff\xfe",
        b"[1, 2]",
        orjson.dumps({**DIRECTIVE, "type": "dance"}),
        orjson.dumps({k: v for k, v in DIRECTIVE.items() if k != "conversation_id"}),
    ],
)
def test_invalid_directive_raises_value_error(raw: bytes | None) -> None:
    with pytest.raises(ValueError):
        parse_directive(raw)


def test_error_message_never_contains_the_input() -> None:
    secret = "my card is 4111 1111 1111 1111"
    with pytest.raises(ValueError) as caught:
        parse_directive(orjson.dumps({**DIRECTIVE, "message": 42, "seq": secret}))
    assert "4111" not in str(caught.value)
    assert "seq" in str(caught.value)


def test_turn_helper() -> None:
    made = turn("c-1", 0, "customer", "hello", now=NOW, locale="en-US", nlu=Nlu(intent="greet"))
    assert made.role is Role.customer
    assert made.ts == NOW
    assert made.locale == "en-US"
    assert made.nlu is not None and made.nlu.intent == "greet"


def test_turn_helper_validates() -> None:
    with pytest.raises(ValueError):
        turn("c-1", -1, Role.bot, "hi", now=NOW)
    with pytest.raises(ValueError):
        turn("c-1", 0, Role.bot, "hi", now=datetime(2026, 1, 1))  # noqa: DTZ001 (naive on purpose)
