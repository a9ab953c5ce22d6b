"""The post-resolution survey (issue 8, item 1): one question, answered as a `csat` event.

When a human resolves a handoff, the worker directs the bot to ask the customer one question
(`survey` directive, after the `resume`). The bot publishes the answer, 1 to 5, as a
`HandoffEvent` of type `csat` with the directive's `handoff_id` (on `handoff.events` or
through the HTTP intake); the learner joins it to the conversation's example.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from ..models import Directive, DirectiveType

SURVEY_MESSAGE = (
    "One quick question before you go: how satisfied are you with the help you got today, "
    "from 1 (not at all) to 5 (very)?"
)
_NAMESPACE = uuid.UUID("2c0e3d5e-8f5b-5a0b-9a55-6c8f9d1e7a21")


def survey_directive(conversation_id: str, handoff_id: str, seq: int, now: datetime) -> Directive:
    """The survey directive for a resolved handoff (its id is stable per handoff)."""
    return Directive(
        directive_id=str(uuid.uuid5(_NAMESPACE, f"survey/{conversation_id}/{handoff_id}")),
        conversation_id=conversation_id,
        type=DirectiveType.survey,
        ts=now,
        seq=seq,
        handoff_id=handoff_id,
        message=SURVEY_MESSAGE,
    )
