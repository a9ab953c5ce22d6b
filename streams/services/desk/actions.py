"""What a person at the desk may do to a handoff, as the `handoff.events` record it publishes.

accept: take a waiting handoff (an agent whom routing lets take it, or the one it was offered
to; a supervisor always). The worker pauses the bot.
reply: the first reply the holder sends, typed (redacted before it is published) or a
suggested reply's macro; recorded for learning which replies work.
resolve (with the outcome), hand back to the bot, transfer to another queue: by the person who
holds it, or a supervisor. The worker resumes the bot or re-queues the handoff.

Event ids are derived from the handoff, the action and the person, so a double click publishes
one event twice and the lifecycle absorbs the second.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from warmhandoff.streams.contract.models import HandoffEvent, HandoffEventType
from warmhandoff.streams.core.transfer import NAMESPACE
from warmhandoff.streams.detect.redact import redact
from warmhandoff.streams.routing.desk import Agent, QueueSpec
from warmhandoff.streams.services.desk.auth import Person
from warmhandoff.streams.services.desk.board import Board, Item
from warmhandoff.streams.services.desk.views import may_take

SOURCE = "desk"
ACTIONS = ("accept", "reply", "resolve", "hand_back", "transfer")
#: How a resolved handoff ended, as the agent records it (the event's `reason`).
OUTCOMES = ("solved", "solved_with_follow_up", "not_solved", "customer_left")
MAX_REPLY = 4000


class ActionRefused(Exception):
    """Why this person may not do this now (shown to them as is; HTTP 409 or 403)."""

    def __init__(self, message: str, *, status: int = 409) -> None:
        super().__init__(message)
        self.status = status


def act(
    board: Board,
    person: Person,
    handoff_id: str,
    action: str,
    form: Mapping[str, Any],
    queues: Mapping[str, QueueSpec],
    now: datetime,
) -> HandoffEvent:
    """The event `action` publishes, or ActionRefused with the reason."""
    item = board.items.get(handoff_id)
    if item is None:
        raise ActionRefused("no such handoff on this desk", status=404)
    if action not in ACTIONS:
        raise ActionRefused(f"unknown action {action!r}: one of {', '.join(ACTIONS)}", status=400)
    fields: dict[str, Any] = {}
    if action == "accept":
        _may_accept(board, person, item, queues, now)
        kind, fields["queue"] = HandoffEventType.accepted, item.queue
    else:
        _holds(person, item, action)
        if action == "reply":
            kind, fields = HandoffEventType.replied, _reply(item, form)
        elif action == "resolve":
            outcome = str(form.get("outcome", ""))
            if outcome not in OUTCOMES:
                raise ActionRefused(f"outcome must be one of {', '.join(OUTCOMES)}", status=400)
            kind, fields["reason"] = HandoffEventType.resolved, outcome
        elif action == "hand_back":
            kind, fields["reason"] = HandoffEventType.handed_back, "agent_handed_back"
        else:
            target = str(form.get("queue", ""))
            if target not in queues:
                raise ActionRefused(f"no queue named {target!r} in the policy", status=400)
            if target == item.queue:
                raise ActionRefused(f"the handoff is already in {target}")
            kind, fields["queue"] = HandoffEventType.transferred, target
    name = f"desk/{handoff_id}/{kind.value}/{person.person_id}/{fields.get('queue')}"
    if kind is HandoffEventType.transferred:
        name += f"/{len(item.history)}"  # a later transfer back is news, not a repeat
    return HandoffEvent(
        event_id=str(uuid.uuid5(NAMESPACE, name)),
        handoff_id=handoff_id,
        conversation_id=item.request.conversation_id,
        type=kind,
        ts=now,
        source=SOURCE,
        agent_id=person.person_id,
        **fields,
    )


def _may_accept(
    board: Board, person: Person, item: Item, queues: Mapping[str, QueueSpec], now: datetime
) -> None:
    if not item.waiting:
        raise ActionRefused(f"the handoff is {item.status.value}, not waiting")
    if person.supervisor or item.agent_id == person.person_id:
        return
    presence = board.presence.get(person.person_id)
    if presence is None:
        raise ActionRefused(
            "no presence published for you: log in to your queues first", status=403
        )
    if not may_take(Agent.from_presence(presence), item, queues, now):
        raise ActionRefused("routing does not let you take this handoff", status=403)


def _holds(person: Person, item: Item, action: str) -> None:
    if item.status.value != "accepted":
        raise ActionRefused(f"{action.replace('_', ' ')}: the handoff is {item.status.value}")
    if item.agent_id != person.person_id and not person.supervisor:
        raise ActionRefused(f"{item.agent_id} holds this handoff", status=403)


def _reply(item: Item, form: Mapping[str, Any]) -> dict[str, Any]:
    if item.reply is not None or item.macro_id is not None:
        raise ActionRefused("the first reply was already recorded")
    text = str(form.get("reply") or "").strip()
    macro = str(form.get("macro_id") or "").strip() or None
    if not text and macro is None:
        raise ActionRefused("type a reply or pick a suggestion", status=400)
    if len(text) > MAX_REPLY:
        raise ActionRefused(f"a reply is at most {MAX_REPLY} characters", status=400)
    suggested = {s.macro_id: s.text for s in item.request.bundle.suggested_replies if s.macro_id}
    if macro is not None and not text:
        text = suggested.get(macro, "")
    redacted = redact(text)[0] if text else None
    return {"reply": redacted, "macro_id": macro}
