"""The one-question CSAT survey: after a resolved handoff, and after a
conversation the bot kept.

When a human resolves a handoff, the worker directs the bot to ask the customer one question
(`survey` directive, after the `resume`). When a conversation the bot kept goes quiet for
`ContainedSurvey.idle` (no turn from anyone, no handoff), the learner sends the same directive
with the conversation id as its `handoff_id`: no handoff exists, and the bot answers both the
same way. The bot publishes the answer, 1 to 5, as a `HandoffEvent` of type `csat` echoing the
directive's `handoff_id` (on `handoff.events` or through the HTTP intake); the learner joins it
to the conversation's example (a low answer makes a contained conversation bad containment).
"""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from warmhandoff.streams.contract.models import Directive, DirectiveType

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


def contained_survey_directive(conversation_id: str, seq: int, now: datetime) -> Directive:
    """The survey directive for a conversation the bot kept: the answer echoes the conversation
    id as its `handoff_id` (stable directive id: one survey per conversation)."""
    return survey_directive(conversation_id, conversation_id, seq, now)


@dataclass(frozen=True, slots=True)
class ContainedSurvey:
    """When the learner asks the survey after a conversation the bot kept."""

    # No turn for this long and no handoff: the conversation is over, the bot kept it.
    idle: timedelta = timedelta(minutes=30)
    # Share of contained conversations asked, chosen by a hash of the conversation id (the
    # same answer on every run); 0 asks none.
    sample: float = 1.0
    # A conversation idle for longer than `idle + late` when the learner first sees it idle
    # (it was behind: a restart, a backlog) is not asked: the customer has long gone.
    late: timedelta = timedelta(hours=1)

    def asks(self, conversation_id: str) -> bool:
        """True when this conversation is in the sample."""
        if self.sample <= 0.0 or self.sample >= 1.0:
            return self.sample > 0.0
        digest = hashlib.blake2b(conversation_id.encode(), digest_size=8).digest()
        return int.from_bytes(digest) / 2**64 < self.sample


NO_CONTAINED_SURVEY = ContainedSurvey(sample=0.0)
