"""An old producer's events keep working: schema v1 lines recorded as JSON still decode.

tests/fixtures/*_v1.jsonl are events as a v1 producer wrote them (with and without
`schema_version`, with every optional part and with none). They are never regenerated: if a
change to streams/contract/models.py breaks one, the change is not additive (docs/operations.md, "Schema
evolution") and needs a new `schema_version` instead.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import jsonschema
import orjson
import pytest

from warmhandoff.streams.contract.json_schemas import SCHEMA_DIR
from warmhandoff.streams.contract.models import HandoffEvent, Turn
from warmhandoff.streams.core.codec import decode, decode_turn
from warmhandoff.streams.core.pipeline import new_state, process_turn
from warmhandoff.streams.policy import load_policy

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"


def lines(name: str) -> list[bytes]:
    return [line for line in (FIXTURES / name).read_bytes().splitlines() if line.strip()]


def contains(decoded: object, recorded: object) -> bool:
    """True when every key and value of `recorded` is in `decoded` (defaults may be added)."""
    if isinstance(recorded, dict):
        return isinstance(decoded, dict) and all(
            k in decoded and contains(decoded[k], v) for k, v in recorded.items()
        )
    if isinstance(recorded, list):
        return (
            isinstance(decoded, list)
            and len(decoded) == len(recorded)
            and all(contains(d, r) for d, r in zip(decoded, recorded, strict=True))
        )
    return decoded == recorded


@pytest.mark.parametrize("raw", lines("turns_v1.jsonl"))
def test_recorded_v1_turns_decode_and_validate_against_the_published_schema(raw: bytes) -> None:
    turn = decode_turn(raw, max_bytes=64_000)
    assert turn.schema_version == 1
    recorded = orjson.loads(raw)
    # Every recorded field survives decoding with its value (nothing renamed or dropped).
    dumped = orjson.loads(turn.model_dump_json())
    assert contains(dumped, {k: v for k, v in recorded.items() if k != "ts"})
    assert turn.ts == datetime.fromisoformat(recorded["ts"])
    schema = orjson.loads((SCHEMA_DIR / "conversation.turns.schema.json").read_bytes())
    jsonschema.validate(recorded, schema)


def test_recorded_v1_conversation_still_runs_through_the_pipeline() -> None:
    policy = load_policy()
    states: dict[str, object] = {}
    actions = []
    for raw in lines("turns_v1.jsonl"):
        turn: Turn = decode_turn(raw, max_bytes=64_000)
        state = states.setdefault(turn.conversation_id, new_state(turn.conversation_id))
        result = process_turn(state, turn, policy, now=datetime(2026, 6, 1, 16, tzinfo=UTC))  # type: ignore[arg-type]
        assert result is not None and result.decision is not None
        actions.append(result.decision.action.value)
    assert len(actions) == 5
    # "I want to talk to a human" after a failed look-up: the v1 conversation still escalates.
    assert actions[2] in {"escalate", "gather"}


@pytest.mark.parametrize("raw", lines("handoff_events_v1.jsonl"))
def test_recorded_v1_handoff_events_decode(raw: bytes) -> None:
    event = decode(raw, HandoffEvent, max_bytes=64_000)
    recorded = orjson.loads(raw)
    assert event.event_id == recorded["event_id"]
    assert event.type.value == recorded["type"]
