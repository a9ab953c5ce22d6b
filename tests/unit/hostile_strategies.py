"""Hypothesis strategies for hostile input: valid wire events, and ways to break them.

Shared by the tests/unit/test_hostile_*.py modules. `HOSTILE` is the settings every property
uses: derandomized (the same examples on every run, so CI is stable) and bounded.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import orjson
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

HOSTILE = settings(
    max_examples=150,
    derandomize=True,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)

# A value the producer sent that must never be echoed in an error or a log line.
MARKER = "QZXJ-MARKER"

REASONS = frozenset(
    {"empty", "too_large", "not_utf8", "not_json", "invalid", "unsupported_version"}
)

json_scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**63), max_value=2**63),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=30),
)
json_values = st.recursive(
    json_scalars,
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=12,
)

# tz-aware instants in the accepted window, with offsets as producers write them.
offsets = st.sampled_from(
    [UTC, timezone(timedelta(hours=2)), timezone(timedelta(hours=-7, minutes=-30))]
)
instants = st.datetimes(
    min_value=datetime(2000, 1, 2),  # noqa: DTZ001 - hypothesis takes naive bounds
    max_value=datetime(2099, 12, 30),  # noqa: DTZ001
    timezones=offsets,
)
# Control characters, emoji, right-to-left text and combining marks: all legal in a turn.
texts = st.text(st.characters(blacklist_categories=("Cs",)), max_size=120) | st.sampled_from(
    ["\x00\x01\x1b[31m", "\u202egnp.exe", "e\u0301" * 20, "🙂" * 30, ""]
)
ids = st.text(st.characters(blacklist_categories=("Cs",)), min_size=1, max_size=40)


@st.composite
def turn_dicts(draw: st.DrawFn) -> dict[str, Any]:
    """A valid turn event as a producer would publish it (optional parts present or not)."""
    turn: dict[str, Any] = {
        "conversation_id": draw(ids),
        "seq": draw(st.integers(min_value=0, max_value=2**53)),
        "ts": draw(instants).isoformat(),
        "role": draw(st.sampled_from(["customer", "bot", "agent", "system"])),
        "text": draw(texts),
    }
    optional = {
        "schema_version": st.just(1),
        "event_id": ids,
        "channel": st.sampled_from(["chat", "voice", "email", "sms", "social"]),
        "locale": st.sampled_from(["en-US", "es-ES", "fr", "de-DE", "pt-BR"]),
        "customer": st.fixed_dictionaries(
            {},
            optional={
                "id": st.text(max_size=20),
                "tier": st.sampled_from(["gold", "silver", "vip"]),
                "verified": st.booleans(),
                "churn_risk": st.floats(0, 1),
                "lifetime_value": st.floats(0, 1e9),
            },
        ),
        "nlu": st.fixed_dictionaries(
            {},
            optional={
                "intent": st.text(max_size=20),
                "confidence": st.floats(0, 1),
                "fallback": st.booleans(),
            },
        ),
        "bot": st.fixed_dictionaries(
            {"action": st.text(max_size=20)},
            optional={"status": st.sampled_from(["ok", "failed", "not_permitted", "unavailable"])},
        ),
        "journey_stage": st.text(max_size=20),
        "attachments": st.lists(
            st.fixed_dictionaries(
                {"name": st.text(max_size=20)}, optional={"size_bytes": st.integers(0, 10**9)}
            ),
            max_size=3,
        ),
        "metadata": st.dictionaries(st.text(max_size=10), json_scalars, max_size=5),
    }
    for name, strategy in optional.items():
        if draw(st.booleans()):
            turn[name] = draw(strategy)
    return turn


REQUIRED_TURN_FIELDS = ("conversation_id", "seq", "ts", "role", "text")


@st.composite
def broken_turns(draw: st.DrawFn) -> tuple[bytes, frozenset[str]]:
    """A turn broken in one way, and the reasons that may reject it (value-level breakage)."""
    turn = draw(turn_dicts())
    how = draw(
        st.sampled_from(
            [
                "missing",
                "extra",
                "wrong_type",
                "version",
                "bad_version",
                "huge_text",
                "many_attachments",
                "deep",
                "ts_far",
                "naive_ts",
                "negative_seq",
                "not_object",
            ]
        )
    )
    invalid = frozenset({"invalid"})
    if how == "missing":
        del turn[draw(st.sampled_from(REQUIRED_TURN_FIELDS))]
    elif how == "extra":
        turn[
            draw(st.text(min_size=1, max_size=20).filter(lambda k: k not in KNOWN_TURN_FIELDS))
        ] = MARKER
    elif how == "wrong_type":
        field = draw(st.sampled_from((*REQUIRED_TURN_FIELDS, "customer", "nlu", "attachments")))
        wrong = {
            "conversation_id": [MARKER],
            "seq": MARKER,
            "ts": MARKER,
            "role": MARKER,
            "text": {"t": MARKER},
            "customer": MARKER,
            "nlu": [MARKER],
            "attachments": MARKER,
        }
        turn[field] = wrong[field]
    elif how == "version":
        turn["schema_version"] = draw(st.integers().filter(lambda v: v != 1))
        return orjson.dumps(turn), frozenset({"unsupported_version"})
    elif how == "bad_version":
        turn["schema_version"] = draw(st.sampled_from([[], {}, [1], {"v": 1}, "1", None, MARKER]))
        return orjson.dumps(turn), frozenset({"unsupported_version"})
    elif how == "huge_text":
        turn["text"] = MARKER + "x" * draw(st.integers(20_001, 25_000))
        return orjson.dumps(turn), frozenset({"invalid", "too_large"})
    elif how == "many_attachments":
        turn["attachments"] = [{"name": MARKER}] * draw(st.integers(21, 300))
        return orjson.dumps(turn), frozenset({"invalid", "too_large"})
    elif how == "deep":
        depth = draw(st.integers(2, 1_500))
        nested: Any = MARKER
        for _ in range(depth):
            nested = [nested]
        turn["metadata"] = {"k": nested}
        # orjson parses at most 1,024 levels: deeper is not JSON to it, never a crash.
        return orjson.dumps(turn) if depth < 1_000 else _dumps_deep(turn, depth), frozenset(
            {"invalid", "not_json"}
        )
    elif how == "ts_far":
        far = draw(
            st.datetimes(max_value=datetime(1999, 12, 30), timezones=offsets)  # noqa: DTZ001
            | st.datetimes(min_value=datetime(2100, 1, 2), timezones=offsets)  # noqa: DTZ001
        )
        turn["ts"] = far.isoformat()
    elif how == "naive_ts":
        turn["ts"] = draw(instants).replace(tzinfo=None).isoformat()
    elif how == "negative_seq":
        turn["seq"] = draw(st.integers(max_value=-1) | st.integers(min_value=2**53 + 1))
    elif how == "not_object":
        return orjson.dumps(draw(st.lists(json_values, max_size=3) | json_scalars)), invalid
    return orjson.dumps(turn), invalid


KNOWN_TURN_FIELDS = frozenset(
    {
        "schema_version",
        "event_id",
        "conversation_id",
        "seq",
        "ts",
        "channel",
        "role",
        "text",
        "locale",
        "customer",
        "nlu",
        "bot",
        "journey_stage",
        "attachments",
        "metadata",
    }
)


@st.composite
def mangled_bytes(draw: st.DrawFn, valid: bytes) -> bytes:
    """`valid` with bytes flipped, cut, spliced or made invalid UTF-8."""
    how = draw(st.sampled_from(["flip", "truncate", "splice", "bad_utf8", "random"]))
    data = bytearray(valid)
    if how == "flip" and data:
        for _ in range(draw(st.integers(1, 8))):
            i = draw(st.integers(0, len(data) - 1))
            data[i] ^= 1 << draw(st.integers(0, 7))
    elif how == "truncate":
        data = data[: draw(st.integers(0, len(data)))]
    elif how == "splice" and data:
        i = draw(st.integers(0, len(data)))
        data[i:i] = draw(st.binary(max_size=30))
    elif how == "bad_utf8":
        i = draw(st.integers(0, len(data)))
        data[i:i] = draw(
            st.sampled_from([b"\xff", b"\xc3", b"\xed\xa0\x80", b"\xf8\x88\x80\x80\x80", b"\x80"])
        )
    else:
        return draw(st.binary(max_size=200))
    return bytes(data)


def _dumps_deep(turn: dict[str, Any], depth: int) -> bytes:
    """orjson will not write past its own depth limit: build the nesting by hand."""
    rest = {k: v for k, v in turn.items() if k != "metadata"}
    head = orjson.dumps(rest)[:-1]
    return head + b', "metadata": {"k": ' + b"[" * depth + b'"x"' + b"]" * depth + b"}}"
