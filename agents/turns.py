"""Turn events as a bot builds them: from a `Turn`, a dict or keyword arguments."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from pydantic import ValidationError

from warmhandoff.agents.exceptions import InvalidTurnError
from warmhandoff.streams.contract.models import Role, Turn


def as_turn(turn: Turn | Mapping[str, Any] | None = None, /, **fields: Any) -> Turn:
    """A `Turn` from a turn, a dict of its fields and/or keyword arguments; `ts` defaults to
    now. InvalidTurnError, in one line naming the fields, when it does not fit the contract."""
    if isinstance(turn, Turn) and not fields:
        return turn
    data: dict[str, Any] = turn.model_dump() if isinstance(turn, Turn) else dict(turn or {})
    data.update(fields)
    data.setdefault("ts", datetime.now(UTC))
    try:
        return Turn.model_validate(data)
    except ValidationError as exc:
        raise InvalidTurnError(f"not a turn: {describe(exc)}") from None


def describe(exc: ValidationError) -> str:
    """Field paths and error types, never the values (they may hold customer text)."""
    return "; ".join(
        f"{'.'.join(str(p) for p in err['loc']) or 'value'}: {err['msg']}"
        for err in exc.errors(include_input=False, include_url=False)[:5]
    )


def turn(
    conversation_id: str,
    seq: int,
    role: Role | str,
    text: str,
    *,
    now: datetime,
    **optional: Any,
) -> Turn:
    """A turn event; `optional` takes any other `Turn` field (channel, locale, nlu, ...)."""
    return Turn(
        conversation_id=conversation_id,
        seq=seq,
        ts=now,
        role=Role(role),
        text=text,
        **optional,
    )
