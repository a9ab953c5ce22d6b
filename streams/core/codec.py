"""Bytes in, models out: decoding turn events, encoding outputs, dead letters.

Every rejected input becomes a `DeadLetter` with a short reason code, a precise error (field
paths, never customer text), the source topic/partition/offset and the original bytes in
base64, with card numbers and other PII redacted so the dead-letter topic never leaks them.
Outbound JSON is the model's own fields only: no Faust envelope or metadata.
"""

from __future__ import annotations

import base64
from datetime import UTC, datetime
from typing import TypeVar

import orjson
from pydantic import BaseModel, ValidationError

from warmhandoff.streams.contract.models import DeadLetter, Turn
from warmhandoff.streams.detect.redact import redact

M = TypeVar("M", bound=BaseModel)

# A tuple, not a set: `in` must answer False, not raise, for an unhashable value such as
# `"schema_version": []` (a set lookup hashes it; found by tests/unit/test_hostile_codec.py).
SUPPORTED_SCHEMA_VERSIONS: tuple[int, ...] = (1,)

# Timestamps a stage accepts. Past the ends of `datetime` the pipeline's own arithmetic (a
# gather deadline is `ts` + seconds) overflows and would stop the partition; a clock that far
# off is a broken producer, so the event is a dead letter with the reason.
EARLIEST_TS = datetime(2000, 1, 1, tzinfo=UTC)
LATEST_TS = datetime(2100, 1, 1, tzinfo=UTC)


class Rejected(Exception):
    """An input that cannot be processed: `reason` is a short code, `error` the detail."""

    def __init__(self, reason: str, error: str) -> None:
        super().__init__(f"{reason}: {error}")
        self.reason = reason
        self.error = error


def decode(raw: bytes | None, model: type[M], *, max_bytes: int) -> M:
    """Parse and validate one JSON value; raise `Rejected` with the reason when it is bad."""
    if raw is None:
        raise Rejected("empty", "message has no value")
    if len(raw) > max_bytes:
        raise Rejected("too_large", f"{len(raw)} bytes exceeds the limit of {max_bytes}")
    try:
        raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise Rejected("not_utf8", f"invalid UTF-8 at byte {exc.start}") from None
    try:
        data = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise Rejected("not_json", _first_line(str(exc))) from None
    if not isinstance(data, dict):
        raise Rejected("invalid", f"expected a JSON object, got {type(data).__name__}")
    version = data.get("schema_version", 1)
    if version not in SUPPORTED_SCHEMA_VERSIONS:
        supported = sorted(SUPPORTED_SCHEMA_VERSIONS)
        # Only a number is echoed: the error must never carry text the producer sent.
        shown = repr(version) if type(version) in (int, float) else type(version).__name__
        raise Rejected("unsupported_version", f"schema_version {shown} is not one of {supported}")
    try:
        decoded = model.model_validate(data)
    except ValidationError as exc:
        raise Rejected("invalid", describe_errors(exc)) from None
    check_ts(decoded)
    return decoded


def check_ts(decoded: BaseModel, where: str = "") -> None:
    """`Rejected` when a record's `ts` is outside the window every stage accepts."""
    ts = getattr(decoded, "ts", None)
    if isinstance(ts, datetime) and not EARLIEST_TS <= ts < LATEST_TS:
        window = f"{EARLIEST_TS:%Y-%m-%d} to {LATEST_TS:%Y-%m-%d}"
        raise Rejected("invalid", f"{where}ts: must be from {window} (UTC)")


def decode_turn(raw: bytes | None, *, max_bytes: int) -> Turn:
    """Decode a turn event from `conversation.turns`."""
    return decode(raw, Turn, max_bytes=max_bytes)


def describe_errors(exc: ValidationError, limit: int = 5) -> str:
    """Field paths and messages of a validation error, without the offending values."""
    parts = []
    for err in exc.errors(include_url=False, include_input=False)[:limit]:
        # Keys come from the producer (an unknown field's name): bounded, and redacted below.
        path = ".".join(_bounded(str(p)) for p in err["loc"]) or "(root)"
        parts.append(f"{path}: {err['msg']}")
    more = exc.error_count() - limit
    if more > 0:
        parts.append(f"and {more} more")
    return redact("; ".join(parts))[0]


def redact_bytes(raw: bytes) -> bytes:
    """The original bytes with PII spans replaced and every other byte left as it was."""
    # latin-1 maps each byte to one code point and back, so bytes that are not UTF-8 and
    # multi-byte characters survive the round trip unchanged; PII is ASCII digits and text.
    return redact(raw.decode("latin-1"))[0].encode("latin-1", errors="replace")


def dead_letter(
    rejected: Rejected,
    *,
    stage: str,
    topic: str,
    partition: int,
    offset: int,
    key: bytes | None,
    value: bytes | None,
    now: datetime,
) -> DeadLetter:
    """The dead letter for an input a stage could not process."""
    return DeadLetter(
        reason=rejected.reason,
        error=rejected.error,
        stage=stage,
        source_topic=topic,
        partition=partition,
        offset=offset,
        key_b64=base64.b64encode(key).decode() if key is not None else None,
        value_b64=base64.b64encode(redact_bytes(value or b"")).decode(),
        received_at=now,
    )


def encode(model: BaseModel) -> bytes:
    """The JSON bytes of an outbound model (None fields dropped to keep records small)."""
    return model.model_dump_json(exclude_none=True).encode()


def _first_line(text: str) -> str:
    """The first line of a message, bounded."""
    return text.splitlines()[0][:200] if text else "unparseable"


def _bounded(text: str, limit: int = 60) -> str:
    """`text`, cut to `limit` characters."""
    return text if len(text) <= limit else text[: limit - 3] + "..."
