"""Prepare stage logic: the context bundle a human gets with the handoff.

The bundle is built from the conversation state only, which holds redacted text: the last N
turns of transcript, entities and ids, verified identity, the steps the bot tried and how
they ended, a short extractive summary (what the customer wants, what was tried, why it
escalated) and recommended next steps. Pure: no Faust, no Kafka.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from warmhandoff.streams.contract.models import (
    Bundle,
    Identity,
    Role,
    Step,
    SuggestedReply,
    Summary,
    TranscriptLine,
    TriggerHit,
)
from warmhandoff.streams.core.conversation import ConversationState

SUMMARY_CHARS = 240

TRIGGER_WORDS = {
    "human_request": "the customer asked for a human",
    "negative_sentiment": "strong negative sentiment",
    "frustration": "frustration building over the conversation",
    "low_confidence": "the bot did not understand with confidence",
    "repeated_fallback": "repeated bot fallbacks",
    "risk.payments": "a payment or dispute",
    "risk.cancellation": "a cancellation",
    "risk.identity": "identity or account access",
    "risk.fraud": "suspected fraud",
    "risk.compliance": "a compliance or legal matter",
    "vip": "a high-value customer",
    "churn_risk": "churn risk",
    "language_mismatch": "a language the bot does not serve",
    "accessibility": "an accessibility need",
    "system_boundary": "a bot action hit a system boundary",
    "revenue_opportunity": "a revenue moment",
    "learned": "the learned model's score",
}


def missing_fields(state: ConversationState, required: Iterable[str]) -> list[str]:
    """Required fields the conversation has not provided yet, in policy order."""
    return [name for name in required if not state.fields.get(name)]


def build_bundle(
    state: ConversationState,
    triggers: Sequence[TriggerHit],
    *,
    next_steps: Sequence[str],
    required_fields: Sequence[str],
    disclosure_shown: bool,
    suggested_replies: Sequence[SuggestedReply] = (),
) -> Bundle:
    """Assemble the context bundle for a handoff from the (redacted) conversation state and
    the first replies suggested for it (streams/core/replies.py)."""
    missing = missing_fields(state, required_fields)
    steps = [Step.model_validate(s) for s in state.steps]
    return Bundle(
        transcript=[TranscriptLine.model_validate(line) for line in state.transcript],
        entities={k: list(v) for k, v in state.entities.items()},
        identity=Identity(
            customer_id=state.customer.get("id"),
            verified=bool(state.customer.get("verified")),
            tier=state.customer.get("tier"),
        ),
        steps_tried=steps,
        intents=list(state.intents),
        summary=summarise(state, triggers, steps),
        next_steps=recommend(next_steps, missing, state),
        fields={k: v for k, v in state.fields.items() if k in required_fields or k.endswith("_id")},
        missing_fields=missing,
        disclosure_shown=disclosure_shown,
        attachments=list(state.attachments),
        accessibility=sorted(state.customer.get("accessibility", [])),
        redactions=state.redactions,
        suggested_replies=list(suggested_replies),
    )


def summarise(
    state: ConversationState, triggers: Sequence[TriggerHit], steps: Sequence[Step]
) -> Summary:
    """A short extractive summary: what the customer wants, what was tried, why it escalated."""
    wants = _clip(_customer_need(state.transcript)) or "not stated"
    if state.intents:
        wants = f"{wants} (intent: {', '.join(state.intents)})"
    if steps:
        tried = "; ".join(f"{s.action} ({s.status.value})" for s in steps[-5:])
    else:
        tried = "no bot actions"
    why = "; ".join(_describe(hit) for hit in triggers) or "policy decision"
    text = f"Customer wants: {wants}. Bot tried: {tried}. Escalated because: {why}."
    return Summary(wants=wants, tried=tried, why=why, text=text)


def recommend(
    playbook: Sequence[str], missing: Sequence[str], state: ConversationState
) -> list[str]:
    """Recommended next steps: the policy's playbook, then what the human must still collect."""
    steps = list(dict.fromkeys(playbook))
    if not state.customer.get("verified"):
        steps.append("Verify the customer's identity before account changes.")
    steps.extend(f"Ask for {name.replace('_', ' ')} (not provided to the bot)." for name in missing)
    failed = [s for s in state.steps if s.get("status") != "ok"]
    if failed:
        last = failed[-1]
        steps.append(f"Complete '{last['action']}' by hand: the bot got '{last['status']}'.")
    return steps


def _customer_need(transcript: Sequence[dict[str, Any]]) -> str:
    """The customer's statement of need: the first customer turn with some substance."""
    customer_lines = [t["text"] for t in transcript if t["role"] == Role.customer.value]
    for text in customer_lines:
        if len(text.split()) >= 4:
            return str(text)
    return str(customer_lines[0]) if customer_lines else ""


def _describe(hit: TriggerHit) -> str:
    """One trigger in words with its measured value and threshold."""
    words = TRIGGER_WORDS.get(hit.code, hit.code)
    if isinstance(hit.value, float) and hit.threshold is not None:
        return f"{words} ({hit.value:.2f}, threshold {hit.threshold})"
    return words


def _clip(text: str) -> str:
    """Shorten to the summary length on a word boundary."""
    text = " ".join(text.split())
    if len(text) <= SUMMARY_CHARS:
        return text
    return text[:SUMMARY_CHARS].rsplit(" ", 1)[0] + "…"
