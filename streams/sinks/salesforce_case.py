"""How a handoff becomes a Salesforce Case and its CaseComment. Pure: no HTTP.

Case fields: Subject (what the customer wants, at most 255 characters), Description (the
summary and the recommended next steps), Priority (from the routing priority through a
mapping), Origin (from the channel through a mapping), and ContactId, SuppliedEmail and
SuppliedPhone only when the bundle carries them. Status is left out: the org's default
applies when the Case is created (New in a standard org), and an update after a re-route must
not reset the status an agent has set. The external-id field is the upsert's key, in the URL.

The CaseComment carries the routing, triggers, identity, entities and the redacted transcript.
It starts with a marker naming the handoff and a digest of the comment, so a retry finds the
comment it already wrote and a re-routed handoff adds one with the new routing. A handoff
attached to a Case another handoff opened leads its comment with its own summary.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from warmhandoff.streams.contract.models import HandoffRequest

SUBJECT_CHARS = 255
DESCRIPTION_CHARS = 32_000
COMMENT_CHARS = 4_000
#: The summary at the top of an attached handoff's comment leaves most of it to the context.
ATTACHED_HEAD_CHARS = 1_200
#: A Long Text Area holds up to 131,072 characters; the context stays well inside it.
CONTEXT_FIELD_CHARS = 32_000

DEFAULT_PRIORITIES: dict[int, str] = {1: "High", 2: "High", 3: "Medium", 4: "Low", 5: "Low"}
DEFAULT_ORIGINS: dict[str, str] = {
    "chat": "Chat",
    "voice": "Phone",
    "email": "Email",
    "sms": "SMS",
    "social": "Social",
}

_CONTACT_ID = re.compile(r"^003[A-Za-z0-9]{12}(?:[A-Za-z0-9]{3})?$")
_EMAIL = re.compile(r"^[^@\s]{1,64}@[^@\s]{1,255}\.[A-Za-z]{2,}$")
_PHONE = re.compile(r"^\+?[0-9 ().-]{6,40}$")


@dataclass(frozen=True)
class CaseMapping:
    """The org-specific parts of the mapping (picklist values)."""

    priorities: Mapping[int, str] = field(default_factory=lambda: dict(DEFAULT_PRIORITIES))
    origins: Mapping[str, str] = field(default_factory=lambda: dict(DEFAULT_ORIGINS))
    default_priority: str = "Medium"
    # A Long Text Area field on Case for the context: written with the upsert itself, so two
    # concurrent deliveries of one handoff write one value (a CaseComment could be doubled).
    context_field: str | None = None


def case_fields(request: HandoffRequest, mapping: CaseMapping) -> dict[str, Any]:
    """The Case's fields for an upsert (the external id is not among them: it is the key)."""
    bundle = request.bundle
    steps = "\n".join(f"- {step}" for step in bundle.next_steps)
    description = bundle.summary.text + (f"\n\nRecommended next steps:\n{steps}" if steps else "")
    fields: dict[str, Any] = {
        "Subject": _clip(bundle.summary.wants, SUBJECT_CHARS),
        "Description": _clip(description, DESCRIPTION_CHARS),
        "Priority": mapping.priorities.get(request.routing.priority, mapping.default_priority),
    }
    channel = request.channel or request.routing.channel
    if channel is not None and channel.value in mapping.origins:
        fields["Origin"] = mapping.origins[channel.value]
    contact = _first(request, ("salesforce_contact_id", "contact_id"), _CONTACT_ID)
    if contact:
        fields["ContactId"] = contact
    email = _first(request, ("email",), _EMAIL)
    if email:
        fields["SuppliedEmail"] = email
    phone = _first(request, ("phone",), _PHONE)
    if phone:
        fields["SuppliedPhone"] = phone
    if mapping.context_field:
        fields[mapping.context_field] = case_comment(request, CONTEXT_FIELD_CHARS)
    return fields


def comment_marker(request: HandoffRequest) -> str:
    """The first line of the handoff's comment: handoff id and a digest of the content."""
    digest = hashlib.sha256(_comment_body(request, COMMENT_CHARS).encode()).hexdigest()[:12]
    return f"[warmhandoff handoff {request.handoff_id} rev {digest}]"


def case_comment(request: HandoffRequest, limit: int = COMMENT_CHARS) -> str:
    """The CaseComment body (or context field): marker, routing, context, redacted transcript."""
    marker = comment_marker(request)
    return marker + "\n" + _comment_body(request, limit - len(marker) - 1)


def attached_comment(request: HandoffRequest) -> str:
    """The comment of a handoff on a Case another handoff opened: the same marker, then this
    handoff's own summary and next steps (the Case's Subject and Description are the other's),
    then the context."""
    marker = comment_marker(request)
    bundle = request.bundle
    steps = "".join(f"\n- {step}" for step in bundle.next_steps)
    head = _clip(
        f"Another handoff on this case (conversation {request.conversation_id}, "
        f"escalation {request.escalation_number}): {bundle.summary.wants}\n"
        f"{bundle.summary.text}" + (f"\nRecommended next steps:{steps}" if steps else ""),
        ATTACHED_HEAD_CHARS,
    )
    return f"{marker}\n{head}\n" + _comment_body(
        request, COMMENT_CHARS - len(marker) - len(head) - 2
    )


def _comment_body(request: HandoffRequest, limit: int) -> str:
    routing, bundle = request.routing, request.bundle
    skills = ", ".join(routing.skills) or "none"
    identity = bundle.identity
    head = [
        f"Queue: {routing.queue} (priority {routing.priority}, skills: {skills}, "
        f"SLA {routing.sla_seconds} s, deadline {routing.sla_deadline.isoformat()})",
        "Triggers: " + (", ".join(hit.code for hit in request.triggers) or "none"),
        f"Identity: customer {identity.customer_id or 'unknown'}, "
        f"{'verified' if identity.verified else 'not verified'}, tier {identity.tier or 'none'}",
        "Steps tried: "
        + ("; ".join(f"{s.action} ({s.status.value})" for s in bundle.steps_tried) or "none"),
    ]
    known = {**bundle.entities, **{k: [v] for k, v in bundle.fields.items()}}
    if known:
        head.append(
            "Entities: " + "; ".join(f"{k}: {', '.join(v)}" for k, v in sorted(known.items()))
        )
    if bundle.missing_fields:
        head.append("Not collected: " + ", ".join(bundle.missing_fields))
    head.append("Transcript (redacted):")
    text = "\n".join(head)
    lines = [f"{line.role.value}: {line.text}" for line in bundle.transcript]
    # The newest turns matter most: drop the oldest until the comment fits.
    kept: list[str] = []
    budget = limit - len(text)
    for line in reversed(lines):
        if len(line) + 1 > budget:
            break
        kept.append(line)
        budget -= len(line) + 1
    if len(kept) < len(lines):
        omitted = f"({len(lines) - len(kept)} earlier turns omitted)"
        if len(omitted) + 1 <= budget:
            kept.append(omitted)
    return _clip(text + "".join("\n" + line for line in reversed(kept)), limit)


def _first(request: HandoffRequest, keys: tuple[str, ...], pattern: re.Pattern[str]) -> str | None:
    """The first value under one of `keys` in the bundle's fields or entities that fits."""
    bundle = request.bundle
    for key in keys:
        values = ([bundle.fields[key]] if key in bundle.fields else []) + bundle.entities.get(
            key, []
        )
        for value in values:
            if pattern.match(value.strip()):
                return value.strip()
    return None


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"
