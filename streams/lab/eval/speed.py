"""What judging a turn costs: CPU per unseen customer turn, and per detector.

Every loaded text becomes the first customer turn of its own chat, with realistic metadata
(customer record, NLU intent and confidence, bot action), and `new_state` + `process_turn`
are timed with `time.process_time()` after a warm-up on other texts (lazy loading,
first-call costs): a worker runs for hours. The detectors' caches are emptied first and
the texts are distinct, so every turn is one the detectors have not seen: a repeated quick
reply ("yes", "agent") costs a cache look-up in a worker and is not what this measures.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any, TypeVar

from warmhandoff.streams.contract.models import Turn
from warmhandoff.streams.core import detection
from warmhandoff.streams.core.pipeline import new_state, process_turn
from warmhandoff.streams.detect import normalize, text_classifier
from warmhandoff.streams.lab.eval.metrics import us
from warmhandoff.streams.policy.model import Policy

R = TypeVar("R")

_EVAL_TS = datetime(2026, 1, 1, tzinfo=UTC)
_TIERS = ("standard", "silver", "standard", "gold", "bronze")


class DetectorClock:
    """Runs each detector over lists of texts and keeps its CPU time per call."""

    def __init__(self) -> None:
        self.cpu: dict[str, float] = {}
        self.calls: dict[str, int] = {}

    def run(self, name: str, detector: Callable[[str], R], texts: Sequence[str]) -> list[R]:
        """`detector` over `texts`, timed under `name`."""
        forget_texts()
        started = time.process_time()
        out = [detector(text) for text in texts]
        self.cpu[name] = self.cpu.get(name, 0.0) + time.process_time() - started
        self.calls[name] = self.calls.get(name, 0) + len(texts)
        return out

    def report(self) -> dict[str, Any]:
        """`{name: {"calls", "us_per_call"}}`."""
        return {
            name: {"calls": self.calls[name], "us_per_call": us(self.cpu[name], self.calls[name])}
            for name in self.calls
        }


def forget_texts() -> None:
    """Empty the caches keyed by text, so the next texts are unseen ones."""
    detection.forget_texts()
    normalize.fold.cache_clear()
    text_classifier.shipped_heads.cache_clear()


def speed_turns(texts: Sequence[str]) -> list[Turn]:
    """Each text as the first customer turn of its own chat, with realistic metadata."""
    return [
        Turn.model_validate(
            {
                "event_id": f"e-{i}",
                "conversation_id": f"speed-{i}",
                "seq": 0,
                "ts": _EVAL_TS,
                "role": "customer",
                "channel": "chat",
                "locale": "en-US",
                "text": text,
                "customer": {
                    "id": f"u-{i % 4099}",
                    "tier": _TIERS[i % len(_TIERS)],
                    "verified": i % 3 == 0,
                    "churn_risk": (i % 10) / 10,
                    "lifetime_value": float(40 * (i % 97)),
                },
                "nlu": {"intent": "faq", "confidence": 0.5 + (i % 50) / 100, "fallback": False},
                "bot": {"action": "answer", "status": "ok"},
                "journey_stage": "support",
            }
        )
        for i, text in enumerate(texts)
    ]


def turn_cost(texts: Sequence[str], warm_up: Sequence[str], policy: Policy) -> dict[str, Any]:
    """CPU per unseen customer turn over `texts` (distinct), after a warm-up on `warm_up`."""
    for turn in speed_turns(warm_up):
        process_turn(new_state(turn.conversation_id), turn, policy, now=turn.ts)
    unique = list(dict.fromkeys(texts))
    turns = speed_turns(unique)
    forget_texts()
    started = time.process_time()
    for turn in turns:
        process_turn(new_state(turn.conversation_id), turn, policy, now=turn.ts)
    cpu = time.process_time() - started
    return {
        "turns": len(turns),
        "cpu_seconds": round(cpu, 3),
        "us_per_turn": us(cpu, len(turns)),
        "turns_per_second": round(len(turns) / cpu) if cpu > 0 else None,
        "install": "default",
    }
