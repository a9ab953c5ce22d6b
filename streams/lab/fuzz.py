"""A mutation fuzzer for the decoders: `python -m warmhandoff.streams.lab.fuzz --seconds N`.

Takes valid turn events, handoff events and agent presence records, mutates their bytes
(bit flips, truncation, splices between records, deep nesting, huge strings, invalid UTF-8,
control characters, field values swapped for other JSON types, numbers and timestamps at the
edges) and runs each through the decoder that reads it in production: `decode_turn`,
`decode` for handoff events and presence, and the HTTP intake's `parse_events`. Each input
must come back as a model or as `Rejected` with a reason (which then makes a dead letter).
Every tenth round also mutates the shipped policy file (bytes and lines, plus YAML tags,
aliases, deep nesting) through the policy loader: a `Policy` or a `PolicyError`. Anything else
is counted as unexpected, and the exit status is 1 when there is any.

The random generator is seeded, so a run is reproducible from `--seed` and its input count.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from importlib import resources
from typing import Any

import orjson
from pydantic import BaseModel

from warmhandoff.streams.contract.models import AgentPresence, HandoffEvent
from warmhandoff.streams.core.codec import Rejected, dead_letter, decode, decode_turn, encode
from warmhandoff.streams.policy.loader import PolicyError, parse_policy
from warmhandoff.streams.runtime.intake import parse_events

MAX_BYTES = 64_000  # the worker's default `max_turn_bytes`
_NOW = datetime(2026, 11, 25, 16, 0, tzinfo=UTC)

SEEDS: dict[str, list[dict[str, Any]]] = {
    "turn": [
        {
            "schema_version": 1,
            "event_id": "7d1c",
            "conversation_id": "c-1042",
            "seq": 3,
            "ts": "2026-11-25T16:00:00Z",
            "channel": "chat",
            "role": "customer",
            "text": "this is the third time I ask, where is my refund",
            "locale": "en-US",
            "customer": {"id": "u-77", "tier": "gold", "verified": True, "churn_risk": 0.7},
            "nlu": {"intent": "refund_status", "confidence": 0.41, "fallback": False},
            "bot": {"action": "lookup_refund", "status": "failed"},
            "attachments": [{"name": "receipt.pdf", "content_type": "application/pdf"}],
            "metadata": {"crm": "C-1", "n": 2},
        },
        {
            "conversation_id": "c-7",
            "seq": 0,
            "ts": "2026-11-25T16:00:00+01:00",
            "role": "bot",
            "text": "Hola, ¿en qué puedo ayudarte? 🙂",
        },
    ],
    "handoff_event": [
        {
            "event_id": "ev-1",
            "handoff_id": "h-1",
            "conversation_id": "c-1042",
            "type": "csat",
            "ts": "2026-11-25T16:10:00Z",
            "source": "survey",
            "csat": 4,
        }
    ],
    "agent_presence": [
        {
            "agent_id": "a-1",
            "ts": "2026-11-25T16:00:00Z",
            "state": "available",
            "skills": {"billing": 5},
            "languages": ["en", "es"],
            "capacity": 2,
        }
    ],
}

Decoder = Callable[[bytes], object]


def _decode_with(model: type[BaseModel]) -> Decoder:
    return lambda raw: decode(raw, model, max_bytes=MAX_BYTES)


DECODERS: dict[str, tuple[str, Decoder]] = {
    # decoder name: (the seeds it reads, the function)
    "turn": ("turn", lambda raw: decode_turn(raw, max_bytes=MAX_BYTES)),
    "handoff_event": ("handoff_event", _decode_with(HandoffEvent)),
    "agent_presence": ("agent_presence", _decode_with(AgentPresence)),
    "intake": ("handoff_event", parse_events),
}

_WEIRD_VALUES: list[Any] = [
    None,
    True,
    0,
    -1,
    2**64,
    -(2**63) - 1,
    1e308,
    -0.0,
    "",
    "\x00",
    "\u202e",
    "\ud7ff",
    [],
    {},
    [[[]]],
    {"a": {"b": {}}},
    "9999-12-31T23:59:59-23:59",
    "0001-01-01T00:00:00+23:59",
    "2026-11-25T16:00:00",
    "2026-02-30T00:00:00Z",
    "1e400",
]
_BAD_UTF8 = [b"\xff", b"\xc3", b"\xed\xa0\x80", b"\xf4\x90\x80\x80", b"\x80\x80", b"\xc0\xaf"]


def _mutate_bytes(rng: random.Random, data: bytes, others: list[bytes]) -> bytes:
    out = bytearray(data)
    how = rng.randrange(7)
    if how == 0 and out:  # bit flips
        for _ in range(rng.randint(1, 8)):
            i = rng.randrange(len(out))
            out[i] ^= 1 << rng.randrange(8)
    elif how == 1:  # truncation
        del out[rng.randint(0, len(out)) :]
    elif how == 2:  # splice: a slice of another record in the middle of this one
        other = rng.choice(others)
        a, b = sorted(rng.randint(0, len(other)) for _ in range(2))
        i = rng.randint(0, len(out))
        out[i:i] = other[a:b]
    elif how == 3:  # invalid UTF-8
        i = rng.randint(0, len(out))
        out[i:i] = rng.choice(_BAD_UTF8)
    elif how == 4:  # control characters and NULs
        i = rng.randint(0, len(out))
        out[i:i] = bytes(rng.randrange(32) for _ in range(rng.randint(1, 4)))
    elif how == 5 and out:  # a chunk repeated
        a, b = sorted(rng.randint(0, len(out)) for _ in range(2))
        out[b:b] = out[a:b] * rng.randint(1, 50)
    else:  # random bytes
        return rng.randbytes(rng.randint(0, 200))
    return bytes(out)


def _mutate_json(rng: random.Random, record: dict[str, Any]) -> bytes:
    value: dict[str, Any] = orjson.loads(orjson.dumps(record))
    keys = list(value)
    how = rng.randrange(6)
    if how == 0 and keys:  # a field dropped
        del value[rng.choice(keys)]
    elif how == 1:  # an unknown field
        value[rng.choice(["extra", "Text", "seq ", "schema_version2", ""])] = rng.choice(
            _WEIRD_VALUES
        )
    elif how == 2 and keys:  # a value swapped for another type or an edge value
        value[rng.choice([*keys, "schema_version"])] = rng.choice(_WEIRD_VALUES)
    elif how == 3:  # deep nesting
        nested: Any = "x"
        for _ in range(rng.randint(2, 400)):
            nested = [nested] if rng.random() < 0.5 else {"k": nested}
        value[rng.choice(keys or ["k"])] = nested
    elif how == 4:  # a huge string or list
        big: Any = "x" * rng.randint(1_000, 100_000)
        if rng.random() < 0.5:
            big = [{"name": "a"}] * rng.randint(10, 5_000)
        value[rng.choice([*keys, "text", "attachments"])] = big
    else:  # nesting past the JSON parser's limit, written by hand
        depth = rng.randint(1_000, 5_000)
        return b"[" * depth + _dumps(rng, value) + b"]" * depth
    return _dumps(rng, value)


def _dumps(rng: random.Random, value: Any) -> bytes:
    # The standard library's encoder: orjson refuses integers past 64 bits, which producers
    # in other languages do send.
    return json.dumps(value, ensure_ascii=rng.random() < 0.5).encode()


@dataclass
class Report:
    """What a run produced, per decoder."""

    seed: int
    inputs: int = 0
    seconds: float = 0.0
    outcomes: dict[str, Counter[str]] = field(default_factory=dict)
    unexpected: list[dict[str, str]] = field(default_factory=list)

    def as_json(self) -> dict[str, Any]:
        """A plain dict for printing."""
        return {
            "seed": self.seed,
            "inputs": self.inputs,
            "seconds": round(self.seconds, 2),
            "outcomes": {name: dict(sorted(c.items())) for name, c in self.outcomes.items()},
            "unexpected": len(self.unexpected),
            "unexpected_examples": self.unexpected[:5],
        }


def fuzz_one(rng: random.Random, decoder: str) -> tuple[bytes, str]:
    """One mutated input for `decoder` and its outcome: `accepted`, a reason, or
    `unexpected:<ExceptionType>`."""
    seeds_name, decode_fn = DECODERS[decoder]
    seeds = SEEDS[seeds_name]
    encoded = [orjson.dumps(s) for s in seeds]
    if rng.random() < 0.5:
        raw = _mutate_json(rng, rng.choice(seeds))
    else:
        raw = _mutate_bytes(rng, rng.choice(encoded), encoded)
    if rng.random() < 0.2:  # mutations stack
        raw = _mutate_bytes(rng, raw, encoded)
    try:
        decode_fn(raw)
    except Rejected as rejected:
        # The dead letter of every rejection must build and encode too.
        encode(
            dead_letter(
                rejected, stage="fuzz", topic="t", partition=0, offset=0, key=None, value=raw,
                now=_NOW,
            )
        )  # fmt: skip
        return raw, rejected.reason
    except Exception as exc:  # noqa: BLE001 - counting what escapes is the fuzzer's job
        return raw, f"unexpected:{type(exc).__name__}"
    return raw, "accepted"


POLICY_EVERY = 10  # rounds per policy input: loading a policy costs ~100 decodes
_POLICY_SNIPPETS = [
    "&a [*a]",
    "!!python/object/apply:os.system ['true']",
    "[" * 300,
    "*undefined",
    "{a: 1, a: 2}",
    "~",
    "1e999",
    "'" + "x" * 5_000 + "'",
    "yes",
    "0x1F",
    "2026-13-45",
    "\t- tab",
    "'\x00'",
]


def _default_policy() -> bytes:
    return resources.files("warmhandoff.streams.policy").joinpath("default.yaml").read_bytes()


def _mutate_lines(rng: random.Random, text: bytes) -> bytes:
    lines = text.split(b"\n")
    i = rng.randrange(len(lines))
    how = rng.randrange(5)
    if how == 0:
        del lines[i]
    elif how == 1:
        lines.insert(i, lines[rng.randrange(len(lines))])
    elif how == 2:
        j = rng.randrange(len(lines))
        lines[i], lines[j] = lines[j], lines[i]
    elif how == 3:
        lines[i] = b" " * rng.randint(0, 9) + lines[i].lstrip()
    else:
        key, sep, _ = lines[i].partition(b": ")
        lines[i] = (key if sep else lines[i]) + b": " + rng.choice(_POLICY_SNIPPETS).encode()
    return b"\n".join(lines)


def fuzz_policy(rng: random.Random) -> tuple[bytes, str]:
    """One mutated policy file and its outcome: `accepted`, `policy_error` or unexpected."""
    original = _default_policy()
    raw = original
    for _ in range(rng.randint(1, 3)):
        lines = rng.random() < 0.6
        raw = _mutate_lines(rng, raw) if lines else _mutate_bytes(rng, raw, [original])
    try:
        parse_policy(raw.decode("utf-8"), "fuzz.yaml")
    except (UnicodeDecodeError, PolicyError):  # load_policy reports the former as a PolicyError
        return raw, "policy_error"
    except Exception as exc:  # noqa: BLE001 - counting what escapes is the fuzzer's job
        return raw, f"unexpected:{type(exc).__name__}"
    return raw, "accepted"


def run(seconds: float, seed: int = 0, clock: Callable[[], float] = time.monotonic) -> Report:
    """Fuzz every decoder in turn until `seconds` have passed on `clock`."""
    rng = random.Random(seed)
    report = Report(seed=seed, outcomes={name: Counter() for name in [*DECODERS, "policy"]})
    started = clock()
    rounds = 0
    while clock() - started < seconds:
        names = [*DECODERS, "policy"] if rounds % POLICY_EVERY == 0 else list(DECODERS)
        rounds += 1
        for name in names:
            raw, outcome = fuzz_policy(rng) if name == "policy" else fuzz_one(rng, name)
            report.inputs += 1
            report.outcomes[name][outcome] += 1
            if outcome.startswith("unexpected:"):
                report.unexpected.append(
                    {"decoder": name, "error": outcome, "input_prefix": raw[:120].hex()}
                )
    report.seconds = clock() - started
    return report


def main(argv: list[str] | None = None) -> int:
    """Run the fuzzer and print the counts as JSON; exit 1 on any unexpected exception."""
    parser = argparse.ArgumentParser(prog="python -m warmhandoff.streams.lab.fuzz")
    parser.add_argument("--seconds", type=float, default=10.0, help="how long to fuzz")
    parser.add_argument("--seed", type=int, default=0, help="seed of the mutations")
    args = parser.parse_args(argv)
    report = run(args.seconds, args.seed)
    sys.stdout.buffer.write(orjson.dumps(report.as_json(), option=orjson.OPT_INDENT_2) + b"\n")
    return 1 if report.unexpected else 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
