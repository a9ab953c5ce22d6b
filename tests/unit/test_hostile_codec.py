"""Hostile input to the decoders: every input is a model or a `Rejected` with a known reason.

Property tests over `decode_turn` and `decode` of the other inputs the project owns (handoff
events, agent presence): random bytes, mutations of valid events (bit flips, truncation,
splices, invalid UTF-8) and valid events broken in one way each (missing and extra fields,
wrong types, unknown schema versions, huge texts and attachment lists, deep nesting,
timestamps far in the past or future). Nothing else may be raised, the dead letter of a
rejection always encodes, and neither the error nor the dead letter echoes what was sent.
"""

from __future__ import annotations

import base64
from datetime import UTC, datetime

import orjson
import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import BaseModel

from warmhandoff.streams.contract.models import AgentPresence, DeadLetter, HandoffEvent, Turn
from warmhandoff.streams.core.codec import Rejected, dead_letter, decode, decode_turn, encode

from .hostile_strategies import (
    HOSTILE,
    MARKER,
    REASONS,
    broken_turns,
    instants,
    json_values,
    mangled_bytes,
    turn_dicts,
)

MAX_BYTES = 64_000
NOW = datetime(2026, 11, 25, 16, 0, tzinfo=UTC)
VALID_TURN = orjson.dumps(
    {
        "conversation_id": "c-1",
        "seq": 3,
        "ts": "2026-11-25T16:00:00Z",
        "role": "customer",
        "text": "where is my refund",
        "nlu": {"intent": "refund", "confidence": 0.4},
    }
)


def outcome(raw: bytes | None, model: type[BaseModel] = Turn) -> BaseModel | Rejected:
    """The decoded model or the rejection; anything else propagates and fails the test."""
    try:
        return decode(raw, model, max_bytes=MAX_BYTES)
    except Rejected as rejected:
        return rejected


def assert_clean_rejection(rejected: Rejected, raw: bytes | None) -> DeadLetter:
    assert rejected.reason in REASONS
    assert rejected.error and "\n" not in rejected.error
    assert MARKER not in rejected.error
    letter = dead_letter(
        rejected, stage="detect", topic="t", partition=0, offset=1, key=b"k", value=raw, now=NOW
    )
    parsed = orjson.loads(encode(letter))
    assert parsed["reason"] == rejected.reason
    base64.b64decode(parsed["value_b64"], validate=True)
    return letter


@HOSTILE
@given(st.binary(max_size=300) | st.none())
def test_random_bytes_never_raise_anything_but_rejected(raw: bytes | None) -> None:
    result = outcome(raw)
    if isinstance(result, Rejected):
        assert_clean_rejection(result, raw)


@HOSTILE
@given(st.data())
def test_mangled_valid_turns_decode_or_are_rejected(data: st.DataObject) -> None:
    raw = data.draw(mangled_bytes(VALID_TURN))
    result = outcome(raw)
    if isinstance(result, Rejected):
        assert_clean_rejection(result, raw)
    else:
        assert isinstance(result, Turn)


@HOSTILE
@given(json_values)
def test_any_json_value_is_a_turn_or_rejected(value: object) -> None:
    raw = orjson.dumps(value)
    result = outcome(raw)
    if isinstance(result, Rejected):
        assert_clean_rejection(result, raw)


@HOSTILE
@given(turn_dicts())
def test_valid_turns_are_accepted_and_round_trip(turn: dict[str, object]) -> None:
    raw = orjson.dumps(turn)
    decoded = decode_turn(raw, max_bytes=MAX_BYTES)
    assert decode_turn(encode(decoded), max_bytes=MAX_BYTES) == decoded


@HOSTILE
@given(broken_turns())
def test_each_way_of_breaking_a_turn_is_rejected_with_its_reason(
    case: tuple[bytes, frozenset[str]],
) -> None:
    raw, reasons = case
    with pytest.raises(Rejected) as caught:
        decode_turn(raw, max_bytes=MAX_BYTES)
    assert caught.value.reason in reasons, caught.value
    letter = assert_clean_rejection(caught.value, raw)
    assert MARKER not in letter.error


@pytest.mark.parametrize(
    ("ts", "accepted"),
    [
        ("1999-12-31T23:59:59Z", False),
        ("2000-01-01T00:00:00Z", True),
        ("2099-12-31T23:59:59Z", True),
        ("2100-01-01T00:00:00Z", False),
        ("9999-12-31T23:59:59Z", False),  # ts + a gather timeout overflowed: a worker crash
        ("0001-01-01T00:00:00+23:59", False),
        ("2026-11-25T16:00:00", False),  # naive: no time zone
    ],
)
def test_timestamps_far_in_the_past_or_future_are_dead_letters(ts: str, accepted: bool) -> None:
    raw = orjson.dumps(
        {"conversation_id": "c", "seq": 0, "ts": ts, "role": "customer", "text": "hi"}
    )
    result = outcome(raw)
    assert isinstance(result, Turn) is accepted
    if not accepted:
        assert isinstance(result, Rejected) and result.reason == "invalid"
        assert result.error.startswith("ts")


@pytest.mark.parametrize("version", [[], {}, [1], "1", None, 2, 0, -1, 1.5])
def test_unknown_or_malformed_schema_versions_are_rejected_not_crashes(version: object) -> None:
    raw = orjson.dumps({"schema_version": version, "conversation_id": "c", "text": MARKER})
    result = outcome(raw)
    assert isinstance(result, Rejected) and result.reason == "unsupported_version"
    assert MARKER not in result.error


def test_an_unknown_field_named_like_a_card_number_is_not_echoed_in_the_error() -> None:
    raw = orjson.dumps({"card 4111 1111 1111 1111": 1, "conversation_id": "c"})
    result = outcome(raw)
    assert isinstance(result, Rejected)
    letter = assert_clean_rejection(result, raw)
    assert "4111" not in letter.error
    assert b"4111" not in base64.b64decode(letter.value_b64)


def test_a_huge_unknown_field_name_is_bounded_in_the_error() -> None:
    raw = orjson.dumps({"k" * 10_000: 1})
    result = outcome(raw)
    assert isinstance(result, Rejected)
    assert len(result.error) < 1_000


# --- the other inputs the project owns ----------------------------------------------------


@st.composite
def handoff_event_dicts(draw: st.DrawFn) -> dict[str, object]:
    event: dict[str, object] = {
        "event_id": draw(st.text(min_size=1, max_size=20)),
        "handoff_id": draw(st.text(min_size=1, max_size=20)),
        "conversation_id": draw(st.text(min_size=1, max_size=20)),
        "type": draw(st.sampled_from(["delivered", "accepted", "resolved", "csat", "failed"])),
        "ts": draw(instants).isoformat(),
        "source": draw(st.text(max_size=20)),
    }
    if draw(st.booleans()):
        event["csat"] = draw(st.integers(1, 5))
    return event


@st.composite
def presence_dicts(draw: st.DrawFn) -> dict[str, object]:
    return {
        "agent_id": draw(st.text(min_size=1, max_size=20)),
        "ts": draw(instants).isoformat(),
        "state": draw(st.sampled_from(["available", "busy", "away", "offline"])),
        "skills": draw(st.dictionaries(st.text(max_size=10), st.integers(1, 10), max_size=5)),
        "capacity": draw(st.integers(0, 100)),
    }


@st.composite
def mutated(draw: st.DrawFn, base: st.SearchStrategy[dict[str, object]]) -> dict[str, object]:
    """A valid dict with one key dropped, replaced by any JSON value, or added."""
    value = dict(draw(base))
    key = draw(st.sampled_from(sorted(value)) | st.text(max_size=10))
    if draw(st.booleans()):
        value.pop(key, None)
    else:
        value[key] = draw(json_values)
    return value


@pytest.mark.parametrize(
    ("model", "strategy"),
    [(HandoffEvent, handoff_event_dicts()), (AgentPresence, presence_dicts())],
    ids=["handoff_event", "agent_presence"],
)
def test_other_inputs_decode_or_are_rejected(
    model: type[BaseModel], strategy: st.SearchStrategy[dict[str, object]]
) -> None:
    @HOSTILE
    @given(valid=strategy, broken=mutated(strategy), data=st.data())
    def check(valid: dict[str, object], broken: dict[str, object], data: st.DataObject) -> None:
        assert isinstance(outcome(orjson.dumps(valid), model), model)
        for raw in (orjson.dumps(broken), data.draw(mangled_bytes(orjson.dumps(valid)))):
            result = outcome(raw, model)
            if isinstance(result, Rejected):
                assert_clean_rejection(result, raw)
            else:
                assert isinstance(result, model)

    check()
