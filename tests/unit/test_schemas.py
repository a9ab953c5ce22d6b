"""The exported JSON Schemas match the wire models and validate what the pipeline publishes."""

from __future__ import annotations

from datetime import UTC, datetime

import jsonschema
import orjson
import pytest

from warmhandoff.streams.contract.json_schemas import SCHEMA_DIR, render, schema_models
from warmhandoff.streams.contract.models import Turn
from warmhandoff.streams.core.pipeline import new_state, process_turn
from warmhandoff.streams.policy import load_policy

DESIGN_TURN = {
    "schema_version": 1,
    "event_id": "7d1c",
    "conversation_id": "c-1042",
    "seq": 3,
    "ts": "2026-11-25T16:00:00Z",
    "channel": "chat",
    "role": "customer",
    "text": "this is the third time I ask, where is my refund",
    "locale": "en-US",
    "customer": {
        "id": "u-77",
        "tier": "gold",
        "verified": True,
        "churn_risk": 0.7,
        "lifetime_value": 5400.0,
        "accessibility": ["captions"],
    },
    "nlu": {"intent": "refund_status", "confidence": 0.41, "fallback": False},
    "bot": {"action": "lookup_refund", "status": "failed"},
    "journey_stage": "billing",
    "attachments": [
        {
            "name": "receipt.pdf",
            "url": "https://example.com/r.pdf",
            "content_type": "application/pdf",
        }
    ],
}


def schema(stem: str) -> dict[str, object]:
    return orjson.loads((SCHEMA_DIR / f"{stem}.schema.json").read_bytes())


@pytest.mark.parametrize("stem", sorted(schema_models()))
def test_exported_schema_files_are_up_to_date(stem: str) -> None:
    model = schema_models()[stem]
    on_disk = (SCHEMA_DIR / f"{stem}.schema.json").read_text()
    assert on_disk == render(model, f"{stem}.schema.json"), (
        "regenerate with: python -m warmhandoff.streams.contract.json_schemas"
    )


def test_every_schema_has_a_schema_version() -> None:
    for stem in schema_models():
        if stem == "replay.line":
            continue
        assert "schema_version" in schema(stem)["properties"], stem  # type: ignore[operator]


def test_the_design_turn_event_validates_and_a_broken_one_does_not() -> None:
    jsonschema.validate(DESIGN_TURN, schema("conversation.turns"))
    Turn.model_validate(DESIGN_TURN)
    broken = {**DESIGN_TURN, "seq": "three"}
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(broken, schema("conversation.turns"))


def test_published_outputs_validate_against_their_schemas() -> None:
    policy = load_policy()
    state = new_state("c-1042")
    plain = {k: v for k, v in DESIGN_TURN.items() if k not in ("nlu", "bot")}
    turn = Turn.model_validate({**plain, "seq": 0, "text": "I want to speak to a human"})
    result = process_turn(state, turn, policy, now=datetime(2026, 11, 25, 16, 1, tzinfo=UTC))
    assert result is not None and result.handoff is not None
    outputs = {
        "conversation.signals": result.signals,
        "escalation.decisions": result.decision,
        "handoff.requests": result.handoff,
        "bot.directives": result.directives[-1],
    }
    for stem, model in outputs.items():
        assert model is not None
        jsonschema.validate(orjson.loads(model.model_dump_json(exclude_none=True)), schema(stem))
