"""Directives as a bot reads them from `bot.directives`."""

from __future__ import annotations

import orjson
from pydantic import ValidationError

from warmhandoff.streams.contract.models import Directive


def parse_directive(value: bytes | None) -> Directive:
    """A directive from its JSON, ignoring unknown fields; ValueError (no input) when invalid."""
    try:
        data = orjson.loads(value or b"")
        if isinstance(data, dict):
            # Ignore fields a newer pipeline added: published schemas only grow (models.py).
            data = {k: v for k, v in data.items() if k in Directive.model_fields}
        return Directive.model_validate(data)
    except orjson.JSONDecodeError:
        raise ValueError("not JSON") from None
    except ValidationError as exc:
        # The message names fields and error types only: the input may hold customer text.
        problems = [
            f"{'.'.join(str(p) for p in err['loc']) or 'value'}: {err['type']}"
            for err in exc.errors(include_input=False)[:5]
        ]
        raise ValueError("; ".join(problems)) from None
