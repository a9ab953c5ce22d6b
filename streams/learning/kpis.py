"""Live KPIs from the learner's labelled examples, over the last `size` conversations.

`warmhandoff report` computes every KPI from recorded streams; the learner exports the ones
its examples carry, as Prometheus gauges, over a sliding window of labelled conversations:

- escalation rate and containment: escalated / all, and the rest;
- deflection quality: `good_containment` over contained conversations with a label;
- CSAT: mean of the answers;
- handle time: mean of resolved less accepted;
- speed of answer: mean of accepted less the escalating turn (the decision point);
- customer effort: mean customer turns up to the decision point;
- right-channel rate: escalations resolved by the human in the queue they were first sent to,
  over labelled escalations;
- first-contact resolution: conversations served at the first contact, over all labelled:
  contained ones labelled `good_containment` (no return within 24 h, no low rating) and
  escalations resolved by the human (a return after an escalation is not seen live:
  `warmhandoff report` counts it).
"""

from __future__ import annotations

from collections import deque
from statistics import fmean
from typing import Any

from ..models import LearningExample


class KpiWindow:
    """The last `size` labelled conversations and their KPIs."""

    def __init__(self, size: int = 10_000) -> None:
        self._rows: deque[tuple[str, dict[str, Any]]] = deque(maxlen=size)

    def add(self, example: LearningExample) -> None:
        """Count one labelled conversation."""
        self._rows.append((example.label, dict(example.outcome)))

    def values(self) -> dict[str, float | None]:
        """Each KPI, or None when the window has nothing to say about it."""
        rows = list(self._rows)
        n = len(rows)
        escalated = sum(1 for _, o in rows if o.get("escalated"))
        contained = [label for label, o in rows if not o.get("escalated")]
        escalations = [(label, o) for label, o in rows if o.get("escalated")]
        return {
            "escalation_rate": escalated / n if n else None,
            "containment": (n - escalated) / n if n else None,
            "deflection_quality": (
                sum(1 for label in contained if label == "good_containment") / len(contained)
                if contained
                else None
            ),
            "csat": _mean(o.get("csat") for _, o in rows),
            "handle_time_seconds": _mean(o.get("handle_seconds") for _, o in rows),
            "speed_of_answer_seconds": _mean(o.get("answer_seconds") for _, o in rows),
            "customer_effort_turns": _mean(o.get("customer_turns") for _, o in rows),
            "right_channel": (
                sum(1 for _, o in escalations if o.get("right_channel")) / len(escalations)
                if escalations
                else None
            ),
            "first_contact_resolution": (
                sum(
                    1
                    for label, o in rows
                    if (o.get("resolved") if o.get("escalated") else label == "good_containment")
                )
                / n
                if n
                else None
            ),
        }


def _mean(values: Any) -> float | None:
    found = [float(v) for v in values if isinstance(v, int | float) and not isinstance(v, bool)]
    return fmean(found) if found else None
