"""The bot client's turn building and connection settings, without a broker."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from warmhandoff.agents import BotClient, InvalidTurnError
from warmhandoff.agents.turns import as_turn
from warmhandoff.streams.contract.errors import ConfigError
from warmhandoff.streams.contract.models import Role, Turn

NOW = datetime(2026, 11, 25, 16, 0, tzinfo=UTC)


def test_a_turn_from_keywords_a_dict_or_a_turn() -> None:
    by_keywords = as_turn(conversation_id="c-1", seq=1, role="customer", text="hi", ts=NOW)
    by_dict = as_turn(
        {"conversation_id": "c-1", "seq": 1, "role": "customer", "text": "hi"}, ts=NOW
    )
    assert by_keywords == by_dict
    assert as_turn(by_dict) is by_dict
    assert as_turn(by_dict, seq=2).seq == 2
    assert by_keywords.role is Role.customer


def test_ts_defaults_to_now_in_utc() -> None:
    before = datetime.now(UTC)
    made = as_turn(conversation_id="c-1", seq=1, role="bot", text="hello")
    assert isinstance(made, Turn) and before <= made.ts <= datetime.now(UTC)


@pytest.mark.parametrize(
    ("fields", "named"),
    [
        ({"seq": 1, "role": "customer", "text": "x"}, "conversation_id"),
        ({"conversation_id": "c", "seq": -1, "role": "customer", "text": "x"}, "seq"),
        ({"conversation_id": "c", "seq": 1, "role": "caller", "text": "x"}, "role"),
        (
            {"conversation_id": "c", "seq": 1, "role": "customer", "text": "x", "colour": 1},
            "colour",
        ),
    ],
)
def test_a_bad_turn_is_one_line_naming_the_field_never_the_text(
    fields: dict[str, object], named: str
) -> None:
    with pytest.raises(InvalidTurnError) as caught:
        as_turn(fields)
    message = str(caught.value)
    assert named in message and "\n" not in message


def test_the_client_takes_a_bootstrap_string_or_the_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("WARMHANDOFF_BOOTSTRAP_SERVERS", "k1:9093")
    monkeypatch.setenv("WARMHANDOFF_TOPIC_PREFIX", "tenant.")
    assert BotClient()._settings.bootstrap_servers == "k1:9093"
    client = BotClient("127.0.0.1:39092")
    assert client._settings.bootstrap_servers == "127.0.0.1:39092"
    assert client._turns_topic == "tenant.conversation.turns"
    with pytest.raises(ConfigError, match="WARMHANDOFF_BOOTSTRAP_SERVERS"):
        BotClient("not a host:port")
