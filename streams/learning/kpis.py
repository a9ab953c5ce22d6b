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
- first-contact resolution, report's rule (streams/offline/report.py): conversations whose customer
  did not start another within the return window (`LabelRules.return_window`) of their last
  turn and, when escalated, whose handoff the human resolved, over all labelled. A low
  rating alone does not count against it (report has no rating in the rule). The return can
  come after the example (a resolved handoff is labelled within the hour): the learner names
  the conversation (`Learner.take_returns`) and `returned` marks its row, found by
  conversation id. Where report and the window differ: conversations with no label (an
  abandoned, cancelled or failed handoff) are not in the window; report leaves out those
  whose turns carry no customer id, the window counts them (no return can be seen); and a
  return after a row left the window changes nothing.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from statistics import fmean
from typing import Any

from warmhandoff.streams.contract.models import LearningExample


@dataclass(slots=True)
class _Row:
    conversation_id: str
    label: str
    outcome: dict[str, Any]
    returned: bool = False  # the customer came back within the return window

    @property
    def first_contact(self) -> bool:
        """Resolved at the first contact: report's rule (module docstring)."""
        served = bool(self.outcome.get("resolved")) if self.outcome.get("escalated") else True
        return served and not self.returned


class KpiWindow:
    """The last `size` labelled conversations and their KPIs."""

    def __init__(self, size: int = 10_000) -> None:
        self._rows: deque[_Row] = deque(maxlen=size)
        # The rows by conversation id, pruned as rows leave the window: at most `size`.
        self._by_conversation: dict[str, _Row] = {}

    def add(self, example: LearningExample) -> None:
        """Count one labelled conversation."""
        if len(self._rows) == self._rows.maxlen:
            gone = self._rows.popleft()
            # A later episode of the same conversation may hold the id now: keep that one.
            if self._by_conversation.get(gone.conversation_id) is gone:
                del self._by_conversation[gone.conversation_id]
        row = _Row(example.conversation_id, example.label, dict(example.outcome))
        self._rows.append(row)
        self._by_conversation[example.conversation_id] = row

    def returned(self, conversation_id: str) -> None:
        """Its customer came back within the window: not resolved at the first contact."""
        row = self._by_conversation.get(conversation_id)
        if row is not None:
            row.returned = True

    def values(self) -> dict[str, float | None]:
        """Each KPI, or None when the window has nothing to say about it."""
        rows = list(self._rows)
        n = len(rows)
        escalations = [r.outcome for r in rows if r.outcome.get("escalated")]
        contained = [r.label for r in rows if not r.outcome.get("escalated")]
        return {
            "escalation_rate": len(escalations) / n if n else None,
            "containment": len(contained) / n if n else None,
            "deflection_quality": (
                sum(1 for label in contained if label == "good_containment") / len(contained)
                if contained
                else None
            ),
            "csat": _mean(r.outcome.get("csat") for r in rows),
            "handle_time_seconds": _mean(r.outcome.get("handle_seconds") for r in rows),
            "speed_of_answer_seconds": _mean(r.outcome.get("answer_seconds") for r in rows),
            "customer_effort_turns": _mean(r.outcome.get("customer_turns") for r in rows),
            "right_channel": (
                sum(1 for o in escalations if o.get("right_channel")) / len(escalations)
                if escalations
                else None
            ),
            "first_contact_resolution": (
                sum(1 for r in rows if r.first_contact) / n if n else None
            ),
        }


def _mean(values: Any) -> float | None:
    found = [float(v) for v in values if isinstance(v, int | float) and not isinstance(v, bool)]
    return fmean(found) if found else None
