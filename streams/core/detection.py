"""Detect stage logic: one turn plus the conversation's state → `Signals`.

Text-level detectors live in `detect/` (sentiment, explicit human request, risk, language,
cues, repetition, redaction, entities); this module combines them with what the conversation
remembers (trend, streaks, repeats) and updates the state. It is pure: no Faust, no Kafka;
the stream and `warmhandoff replay` call exactly this.

Risk and revenue topics count on the turn that raises them: the customer's words and the
bot's intent for them, not an intent the bot keeps on a reply that only thanks or agrees, nor
one it repeats on its own turns; a failed bot action keeps the customer's last ask open.

The raw text is redacted here, first thing; only the redacted text is kept in the state.
What the detectors read from a short text alone is cached by text (quick replies and
templates repeat); everything that depends on the conversation is computed per turn.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any, NamedTuple

from warmhandoff.streams.contract.models import BotStatus, Role, Signals, SystemBoundary, Turn
from warmhandoff.streams.core.conversation import (
    MAX_FINGERPRINTS,
    MAX_INTENTS,
    MAX_STEPS,
    ConversationState,
    merge_entities,
    remember,
)
from warmhandoff.streams.core.dissatisfaction import (
    breaks_off,
    is_sharp,
    update_dissatisfaction,
)
from warmhandoff.streams.detect.cues import accessibility_needs, dissatisfied, revenue_moments
from warmhandoff.streams.detect.dialogue_acts import dialogue_act
from warmhandoff.streams.detect.entities import extract_entities
from warmhandoff.streams.detect.human_request import is_human_request
from warmhandoff.streams.detect.intensity import intensity_cues
from warmhandoff.streams.detect.language import identify_language, locale_language
from warmhandoff.streams.detect.redact import DEFAULT_REGION, redact
from warmhandoff.streams.detect.repetition import fingerprint, is_repeat
from warmhandoff.streams.detect.risk import risk_families
from warmhandoff.streams.detect.sentiment import sentiment

#: Tiers treated as VIP in the signal itself; the policy's `vip` trigger has its own list.
VIP_TIERS = frozenset({"gold", "platinum", "vip", "premier", "enterprise"})

#: Smoothing of the sentiment trend (weight of the newest customer turn).
TREND_WEIGHT = 0.4

# `frustration`, the conversation's dissatisfaction, is estimated in core/dissatisfaction.py.

#: Below this share of certainty the language is not trusted for a mismatch.
LANGUAGE_MIN_CONFIDENCE = 0.8
LANGUAGE_MIN_CHARS = 12

#: Texts up to this long have their detector results cached (see `_text_signals`).
CACHED_TEXT_CHARS = 300

#: A customer fields value is taken from NLU slots or from entities the detectors found.
ENTITY_FIELDS = ("order_id", "account_id", "case_id", "invoice_id", "tracking_id")


def detect(state: ConversationState, turn: Turn, *, transcript_turns: int) -> Signals:
    """Update `state` with `turn` and return the turn's signals."""
    if turn.locale:
        state.locale = turn.locale
    region = locale_region(state.locale)
    text, redactions = redact(turn.text, region) if turn.text else ("", 0)
    state.redactions += redactions
    state.last_seq = turn.seq
    state.turns += 1
    if turn.channel:
        state.channel = turn.channel.value
    if turn.customer is not None:
        # `model_dump(exclude_none=True)` of a flat model, without its per-call set-up.
        state.customer = {
            key: list(value) if isinstance(value, list) else value
            for key, value in turn.customer.__dict__.items()
            if value is not None
        }
    remember(
        state.transcript,
        {"seq": turn.seq, "ts": turn.ts.isoformat(), "role": turn.role.value, "text": text},
        transcript_turns,
    )
    # Attachment names and links, and the bot's failure details, are free text written by
    # customers and back ends: redacted like the turn's text before anything keeps them.
    for att in turn.attachments:
        name, in_name = redact(att.name, region)
        url, in_url = redact(att.url, region) if att.url else (None, 0)
        state.redactions += in_name + in_url
        remember(
            state.attachments, {"name": name, "content_type": att.content_type, "url": url}, 10
        )

    intent = turn.nlu.intent if turn.nlu else None
    confidence = turn.nlu.confidence if turn.nlu else None
    raised_before = bool(intent) and intent in state.intents
    if intent and intent not in state.intents:
        remember(state.intents, intent, MAX_INTENTS)
    _update_fields(state, turn, text)
    boundary = _update_steps(state, turn)
    # The bot's fallbacks and unsure turns the customer is answering, before this turn's own.
    answering = (state.fallback_streak, state.low_confidence_streak)
    _update_streaks(state, turn, confidence)

    bot_language = locale_language(state.locale)
    tier = state.customer.get("tier")
    if turn.role is Role.customer and text:
        found = _customer_text_signals(state, text, intent, answering, bot_language)
        if raised_before and dialogue_act(text) is not None:
            _answered_topics(found, text)
    else:
        # A customer's turn without text (a button) raises its intent's topics; the bot's own
        # turns raise none, even when its NLU repeats the customer's intent on them.
        raises = bool(intent) and (turn.role is Role.customer or boundary is not None)
        found = {
            "sentiment_trend": state.sentiment_trend,
            "frustration": state.frustration,
            "repeat_count": state.repeat_count,
            "risk": list(risk_families("", intent)) if raises else [],
        }
        if boundary is not None:
            _open_topics(found, state)
    customer_needs = sorted(state.customer.get("accessibility", []))
    if "text_needs" in found:
        customer_needs = sorted({*found["text_needs"], *customer_needs})
    # Built once from values already of the declared types (see `_Out.trusted`).
    return Signals.trusted(
        schema_version=1,
        conversation_id=turn.conversation_id,
        seq=turn.seq,
        ts=turn.ts,
        role=turn.role,
        channel=turn.channel,
        sentiment=found.get("sentiment", 0.0),
        sentiment_trend=found["sentiment_trend"],
        frustration=found["frustration"],
        human_request=found.get("human_request", False),
        confidence=confidence,
        low_confidence_streak=state.low_confidence_streak,
        fallback_streak=state.fallback_streak,
        repeat=found.get("repeat", False),
        repeat_count=found["repeat_count"],
        dissatisfied=found.get("dissatisfied", False),
        sharp=found.get("sharp", False),
        risk=found["risk"],
        vip=bool(tier and str(tier).lower() in VIP_TIERS),
        tier=tier,
        churn_risk=state.customer.get("churn_risk"),
        lifetime_value=state.customer.get("lifetime_value"),
        language=found.get("language", "und"),
        language_confidence=found.get("language_confidence", 0.0),
        language_hint=found.get("language_hint"),
        bot_language=bot_language,
        language_mismatch=found.get("language_mismatch", False),
        accessibility=customer_needs,
        system_boundary=boundary,
        revenue=found.get("revenue", []),
        intent=intent,
        customer_id=state.customer.get("id"),
    )


@lru_cache(maxsize=64)
def locale_region(locale: str | None) -> str:
    """The phone-number region of a locale ("en-GB" → "GB"); national numbers are read in it."""
    if locale:
        parts = locale.replace("_", "-").split("-")
        if len(parts) > 1 and len(parts[1]) == 2 and parts[1].isalpha():
            return parts[1].upper()
    return DEFAULT_REGION


class _TextSignals(NamedTuple):
    """What the detectors read from a (redacted) text alone, before the conversation.

    A named tuple: immutable like a frozen dataclass, and built in a third of the time
    (a frozen dataclass sets each field through `object.__setattr__`), on every unseen text.
    """

    sentiment: float  # in context: a turn that only declines, closes or thanks is not negative
    fingerprint: tuple[str, ...]
    dissatisfied: bool
    intensity: tuple[str, ...]
    human_request: bool
    risk: tuple[str, ...]  # from the text, without the intent's
    language: str
    language_confidence: float
    language_hint: str | None
    needs: tuple[str, ...]
    revenue: tuple[str, ...]  # from the text, without the intent's


def _read_text(text: str) -> _TextSignals:
    language, confidence, hint = identify_language(text)
    score = sentiment(text)
    # "No, thank you" and "nope, that's all" are how conversations end, not complaints.
    if score < 0.0 and dialogue_act(text) is not None:
        score = 0.0
    return _TextSignals(
        sentiment=score,
        fingerprint=fingerprint(text),
        dissatisfied=dissatisfied(text),
        intensity=intensity_cues(text),
        human_request=is_human_request(text),
        risk=risk_families(text),
        language=language,
        language_confidence=confidence,
        language_hint=hint,
        needs=accessibility_needs(text),
        revenue=revenue_moments(text),
    )


_read_short_text = lru_cache(maxsize=1024)(_read_text)


def forget_texts() -> None:
    """Empty the cache of detector results by text (the evaluation times unseen turns)."""
    _read_short_text.cache_clear()


def _text_signals(text: str) -> _TextSignals:
    """The text's detector results; short texts are cached.

    Quick replies ("yes", "talk to an agent", a button's label) and templated messages repeat
    across conversations: a repeat costs a look-up instead of 40-100 µs of detectors. Long
    texts are rarely repeated and would make the cache hold a lot of memory.
    """
    if len(text) <= CACHED_TEXT_CHARS:
        return _read_short_text(text)
    return _read_text(text)


def _customer_text_signals(
    state: ConversationState,
    text: str,
    intent: str | None,
    answering: tuple[int, int],
    bot_language: str | None,
) -> dict[str, Any]:
    """The text-derived signals of a customer turn; updates trend and frustration.

    `answering` is the bot's fallback and low-confidence streaks before this turn.
    """
    read = _text_signals(text)
    score = read.sentiment
    state.customer_turns += 1
    # The trend starts from neutral, so one unhappy message moves it only part of the way:
    # it is the conversation's mood.
    state.sentiment_trend += TREND_WEIGHT * (score - state.sentiment_trend)

    fp = read.fingerprint
    repeat = is_repeat(fp, [tuple(p) for p in state.fingerprints])
    if fp:
        remember(state.fingerprints, list(fp), MAX_FINGERPRINTS)
    if repeat:
        state.repeat_count += 1
    cue = read.dissatisfied
    sharp = is_sharp(score, cue, read.intensity)
    state.frustration = update_dissatisfaction(
        state.frustration,
        state.sentiment_trend,
        sentiment=score,
        cue=cue,
        repeat=repeat,
        breaking_off=breaks_off(read.intensity),
        fallbacks=answering[0],
        unsure=answering[1],
        failures=state.recent_failures,
    )
    state.recent_failures = 0

    language, lang_conf = read.language, read.language_confidence
    return {
        "sentiment": score,
        "sentiment_trend": state.sentiment_trend,
        "frustration": state.frustration,
        "repeat": repeat,
        "repeat_count": state.repeat_count,
        "dissatisfied": cue,
        "sharp": sharp,
        "human_request": read.human_request,
        "risk": _with_intent(read.risk, risk_families("", intent) if intent else ()),
        "language": language,
        "language_confidence": lang_conf,
        "language_hint": read.language_hint,
        "language_mismatch": bool(
            bot_language
            and language not in ("und", bot_language)
            and lang_conf >= LANGUAGE_MIN_CONFIDENCE
            and len(text) >= LANGUAGE_MIN_CHARS
        ),
        "text_needs": read.needs,
        "revenue": _with_intent(read.revenue, revenue_moments("", intent) if intent else ()),
    }


def _answered_topics(found: dict[str, Any], text: str) -> None:
    """A reply that only thanks, agrees or closes raises no topic of its own.

    Bots often keep the NLU intent of the topic on such a reply ("ok thanks" still labelled
    `refund_status`): that topic was raised on an earlier turn and answered (or is waiting for
    its handoff), so only what the words themselves say counts here. An intent the
    conversation has not seen before is the customer's answer to the bot's question ("yes"
    to "is this about a charge you don't recognise?") and still counts.
    """
    read = _text_signals(text)
    found["risk"] = list(read.risk)
    found["revenue"] = list(read.revenue)


def _open_topics(found: dict[str, Any], state: ConversationState) -> None:
    """A bot action that failed leaves the customer's last ask open: its topics count.

    The handoff then goes to the desk for what the bot could not finish (a sale to sales, a
    refund to payments) rather than to a desk for the failure alone.
    """
    for entry in reversed(state.transcript):
        if entry["role"] == Role.customer.value:
            if entry["text"]:
                read = _text_signals(entry["text"])
                found["risk"] = _with_intent(read.risk, tuple(found["risk"]))
                found["revenue"] = list(read.revenue)
            return


def _with_intent(from_text: tuple[str, ...], from_intent: tuple[str, ...]) -> list[str]:
    """Sorted labels found in the text or named by the intent (each input is sorted)."""
    if not from_intent:
        return list(from_text)
    return sorted({*from_text, *from_intent})


def _update_fields(state: ConversationState, turn: Turn, text: str) -> None:
    """Collect ids and fields the human will need (from redacted text and NLU slots)."""
    found = extract_entities(text) if text else {}
    if found:
        merge_entities(state.entities, found)
        if turn.role is Role.customer:
            for name in ENTITY_FIELDS:
                values = found.get(name)
                if values:
                    state.fields.setdefault(name, values[0])
    if turn.nlu is not None:
        for name, value in turn.nlu.slots.items():
            state.fields[name] = redact(value, locale_region(state.locale))[0]
    customer = state.customer
    if customer.get("verified"):
        state.fields["verified_identity"] = "yes"
    if customer.get("id"):
        state.fields.setdefault("customer_id", str(customer["id"]))


def _update_steps(state: ConversationState, turn: Turn) -> SystemBoundary | None:
    """Record what the bot tried; return the system boundary hit on this turn, if any."""
    if turn.bot is None:
        return None
    detail = turn.bot.detail
    if detail:
        detail, found = redact(detail, locale_region(state.locale))
        state.redactions += found
    step = {
        "seq": turn.seq,
        "action": turn.bot.action,
        "status": turn.bot.status.value,
        "detail": detail,
    }
    remember(state.steps, step, MAX_STEPS)
    if turn.bot.status is BotStatus.ok:
        return None
    state.failed_actions += 1
    state.recent_failures += 1
    return SystemBoundary(action=turn.bot.action, status=turn.bot.status)


def _update_streaks(state: ConversationState, turn: Turn, confidence: float | None) -> None:
    """Consecutive low-confidence and fallback turns (a confident turn ends the streak)."""
    nlu = turn.nlu
    if nlu is None:
        return
    if nlu.fallback:
        state.fallback_streak += 1
    elif nlu.intent is not None:
        state.fallback_streak = 0
    if confidence is not None:
        # The policy owns the threshold; the streak counts turns below a neutral 0.5 so the
        # signal is meaningful on its own, and the policy also sees the raw confidence.
        if confidence < LOW_CONFIDENCE:
            state.low_confidence_streak += 1
        else:
            state.low_confidence_streak = 0


LOW_CONFIDENCE = 0.5
