"""Ordinary conversations: how often does the pipeline escalate a customer nobody needed to?

MultiWOZ 2.1's validation dialogues (`multiwoz/val_dialogues.jsonl` under the data folder,
MIT, Budzianowski et al. 2018): a customer books hotels, restaurants, trains, taxis or
attractions with a system and is served without a human. Every dialogue goes through
`pipeline.process_turn` with the given policy, as one chat: customer turns with role
`customer`, system turns with role `bot`, locale en-GB, `seq` 0, 1, ... and the customer
writing `CUSTOMER_GAP_SECONDS` after the bot's reply, which follows `BOT_GAP_SECONDS` after
the customer (a transfer waiting for fields goes ahead at its deadline, as it would live).
No NLU, customer record or bot action: the text alone decides.

The dialogues are split in two halves by `zlib.crc32` of the dialogue id: odd is the
`development` half (the one detectors may be looked at and tuned on), even the `report` half
(only run through the code for the figure reported). Every dialogue here should stay with
the bot, so each escalation is a false one.

Per half (`development`, `report`):
- `dialogues`, `turns`, `customer_turns`;
- `escalated` (dialogues with an `escalate` decision) and `escalated_rate`;
  `escalated_by` {trigger code: escalated dialogues whose handoff carried it};
  `escalated_revenue_only`: escalated dialogues whose handoff carried `revenue_opportunity`
  and nothing else (a booking read as a purchase), and `escalated_other` / its rate;
- `acted` (dialogues with any `escalate`, `gather` or `clarify`) and `acted_rate`;
  `acted_by` {trigger code: dialogues whose first such decision carried it};
- `gather_turns`, `clarify_turns`: turns decided `gather` or `clarify`, and each per turn.
"""

from __future__ import annotations

import json
import zlib
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from warmhandoff.streams.contract.errors import DatasetError
from warmhandoff.streams.contract.models import Action, Decision, Turn
from warmhandoff.streams.core.pipeline import new_state, process_turn
from warmhandoff.streams.policy.model import Policy

DIALOGUES_FILE = Path("multiwoz") / "val_dialogues.jsonl"
TITLE = "MultiWOZ 2.1 validation dialogues"
LICENCE = "MIT (MultiWOZ, Budzianowski et al. 2018)"
HALVES = ("development", "report")
ACTING = frozenset({Action.escalate, Action.gather, Action.clarify})
CUSTOMER_GAP_SECONDS = 20.0
BOT_GAP_SECONDS = 2.0
_ROLES = {"customer": "customer", "system": "bot"}
_START = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
_REVENUE = "revenue_opportunity"


def half_of(dialogue_id: str) -> str:
    """The half a dialogue belongs to: `development` (crc32 odd) or `report` (even)."""
    return "development" if zlib.crc32(dialogue_id.encode("utf-8")) % 2 else "report"


@dataclass(slots=True)
class _Tally:
    dialogues: int = 0
    turns: int = 0
    customer_turns: int = 0
    escalated: int = 0
    revenue_only: int = 0
    acted: int = 0
    gather_turns: int = 0
    clarify_turns: int = 0
    escalated_by: Counter[str] = field(default_factory=Counter)
    acted_by: Counter[str] = field(default_factory=Counter)

    def figures(self) -> dict[str, Any]:
        other = self.escalated - self.revenue_only
        return {
            "dialogues": self.dialogues,
            "turns": self.turns,
            "customer_turns": self.customer_turns,
            "escalated": self.escalated,
            "escalated_rate": _rate(self.escalated, self.dialogues),
            "escalated_by": dict(self.escalated_by.most_common()),
            "escalated_revenue_only": self.revenue_only,
            "escalated_other": other,
            "escalated_other_rate": _rate(other, self.dialogues),
            "acted": self.acted,
            "acted_rate": _rate(self.acted, self.dialogues),
            "acted_by": dict(self.acted_by.most_common()),
            "gather_turns": self.gather_turns,
            "gather_turns_per_turn": _rate(self.gather_turns, self.turns),
            "clarify_turns": self.clarify_turns,
            "clarify_turns_per_turn": _rate(self.clarify_turns, self.turns),
        }


def ordinary_conversations(data: Path, policy: Policy) -> dict[str, Any] | None:
    """Escalations of ordinary MultiWOZ dialogues per half; None when the file is absent."""
    path = data / DIALOGUES_FILE
    if not path.is_file():
        return None
    tallies = {half: _Tally() for half in HALVES}
    for dialogue_id, turns in read_dialogues(path):
        _run(dialogue_id, turns, policy, tallies[half_of(dialogue_id)])
    return {
        "title": TITLE,
        "licence": LICENCE,
        "file": str(DIALOGUES_FILE),
        "policy_version": policy.version,
        "halves": {half: tallies[half].figures() for half in HALVES},
    }


def read_dialogues(path: Path) -> Iterator[tuple[str, list[Turn]]]:
    """Each dialogue's id and its turns as pipeline input; DatasetError names file and line."""
    with path.open(encoding="utf-8") as handle:
        for number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            try:
                yield _dialogue(json.loads(line))
            except (ValueError, TypeError, KeyError, ValidationError) as error:
                # ValidationError is a ValueError; its text is long, so say what was wrong.
                what = type(error).__name__ if isinstance(error, ValidationError) else error
                raise DatasetError(f"{path}: line {number}: not a dialogue ({what})") from error


def _dialogue(row: Any) -> tuple[str, list[Turn]]:
    if not isinstance(row, dict):
        raise TypeError("expected a JSON object")
    dialogue_id, raw_turns = row["dialogue_id"], row["turns"]
    if not isinstance(dialogue_id, str) or not dialogue_id:
        raise TypeError("dialogue_id must be a non-empty string")
    if not isinstance(raw_turns, list):
        raise TypeError("turns must be a list")
    turns: list[Turn] = []
    ts = _START
    for seq, raw in enumerate(raw_turns):
        if not isinstance(raw, dict):
            raise TypeError(f"turn {seq} must be an object")
        role = _ROLES.get(raw["role"])
        if role is None:
            raise ValueError(f"turn {seq}: unknown role {raw['role']!r}")
        if seq:
            gap = CUSTOMER_GAP_SECONDS if role == "customer" else BOT_GAP_SECONDS
            ts += timedelta(seconds=gap)
        turns.append(
            Turn.model_validate(
                {
                    "conversation_id": f"multiwoz-{dialogue_id}",
                    "seq": seq,
                    "ts": ts,
                    "channel": "chat",
                    "role": role,
                    "text": raw["text"],
                    "locale": "en-GB",
                }
            )
        )
    return dialogue_id, turns


def _run(dialogue_id: str, turns: list[Turn], policy: Policy, tally: _Tally) -> None:
    state = new_state(f"multiwoz-{dialogue_id}")
    tally.dialogues += 1
    first: Decision | None = None
    escalation: Decision | None = None
    for turn in turns:
        tally.turns += 1
        tally.customer_turns += turn.role == "customer"
        result = process_turn(state, turn, policy, now=turn.ts)
        decision = result.decision if result is not None else None
        if decision is None or decision.action not in ACTING:
            continue
        first = first or decision
        tally.gather_turns += decision.action is Action.gather
        tally.clarify_turns += decision.action is Action.clarify
        if decision.action is Action.escalate and escalation is None:
            escalation = decision
    if first is not None:
        tally.acted += 1
        tally.acted_by.update({hit.code for hit in first.triggers})
    if escalation is not None:
        codes = {hit.code for hit in escalation.triggers}
        tally.escalated += 1
        tally.escalated_by.update(codes)
        tally.revenue_only += codes == {_REVENUE}


def _rate(count: int, n: int) -> float | None:
    return round(count / n, 4) if n else None
