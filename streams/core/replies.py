"""Suggested first replies for the human who picks up a handoff.

Two sources, in this order: first replies that ended well before for this kind of escalation
(`ReplyRanking`, learned by streams/learning/replies.py from outcomes and published by the
learner on `learning.model` under `REPLIES_KEY`), then the policy's starting set
(`Policy.replies`) to fill up to `n`. A learned reply is offered once it was sent in at least
`MIN_USES` handoffs, unless its score is below `MIN_SCORE`; a reply appears once, whether two
sources hold the same macro id or the same text. Pure: the worker calls `suggest` only when
it produces a handoff.

The ranking is keyed by (trigger code, topic) with `ANY_TRIGGER` for the topic as a whole,
and holds plain JSON strings and numbers only, bounded in size (`MAX_PER_PAIR` replies per key,
texts capped at `TEXT_CHARS`), so a snapshot read from a topic is data, never code.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import orjson

from warmhandoff.streams.contract.models import SuggestedReply
from warmhandoff.streams.policy.model import Policy, ReplyTemplate

RANKING_FORMAT = "warmhandoff.replies/1"
REPLIES_KEY = b"replies"  # the ranking's key on `learning.model`
ANY_TRIGGER = "*"  # a topic's replies whatever the trigger
MIN_USES = 5  # handoffs a learned reply must have been sent in before it is suggested
MIN_SCORE = 0.5  # nor is one that ended well less often than not: the starting set is better
MAX_PER_PAIR = 8  # replies kept per (trigger, topic)
MAX_PAIRS = 400  # (trigger, topic) keys read from a snapshot
TEXT_CHARS = 400  # a reply's text as kept and shown
# A snapshot stays well under Kafka's default 1 MB record: fewer replies per key beyond this.
MAX_RANKING_BYTES = 500_000
PRIOR_GOOD, PRIOR_BAD = 1.0, 1.0  # the Beta prior of the score: an unused reply scores 0.5


class RankingError(ValueError):
    """A snapshot that is not a reply ranking this version can read."""


def normalise(text: str) -> str:
    """A reply's text for comparison: case, spacing and closing punctuation ignored."""
    return " ".join(text.casefold().split()).rstrip(" .!")


def reply_key(macro_id: str | None, text: str | None) -> str | None:
    """What identifies a reply: its macro id, else a digest of its normalised text."""
    if macro_id:
        return f"macro:{macro_id}"
    plain = normalise(text or "")
    if not plain:
        return None
    return "text:" + hashlib.sha256(plain.encode()).hexdigest()[:20]


def score(good: float, uses: float) -> float:
    """The smoothed share of uses that ended well (the Beta prior's posterior mean)."""
    return (good + PRIOR_GOOD) / (uses + PRIOR_GOOD + PRIOR_BAD)


@dataclass(frozen=True, slots=True)
class RankedReply:
    """One first reply and how the handoffs it was sent in ended."""

    key: str
    text: str  # redacted, at most TEXT_CHARS; empty for a macro seen without its text
    macro_id: str  # empty for a typed reply
    uses: int  # handoffs it was the first reply of, with a settled outcome
    good: int  # of them: resolved, no return, and a CSAT of 4 or 5 when answered
    clean: int  # of them: resolved with no return, whatever the CSAT
    csat_sum: int
    csat_n: int

    @property
    def score(self) -> float:
        """The smoothed share of good outcomes (see `score`)."""
        return score(self.good, self.uses)

    def to_doc(self) -> dict[str, Any]:
        """The reply as plain JSON strings and numbers."""
        return {
            "key": self.key,
            "text": self.text,
            "macro_id": self.macro_id,
            "uses": self.uses,
            "good": self.good,
            "clean": self.clean,
            "csat_sum": self.csat_sum,
            "csat_n": self.csat_n,
            "score": round(self.score, 4),
        }

    @classmethod
    def from_doc(cls, doc: object) -> RankedReply:
        """Read one reply of a snapshot (RankingError when it has the wrong shape)."""
        if not isinstance(doc, dict):
            raise RankingError("a reply: expected an object")
        key = _string(doc, "key")
        if not key:
            raise RankingError("a reply: key must not be empty")
        uses = _count(doc, "uses")
        return cls(
            key=key[:100],
            text=_string(doc, "text")[:TEXT_CHARS],
            macro_id=_string(doc, "macro_id")[:100],
            uses=uses,
            good=min(_count(doc, "good"), uses),
            clean=min(_count(doc, "clean"), uses),
            csat_sum=_count(doc, "csat_sum"),
            csat_n=_count(doc, "csat_n"),
        )


def _string(doc: dict[str, Any], name: str) -> str:
    value = doc.get(name)
    if not isinstance(value, str):
        raise RankingError(f"a reply: {name} must be a string")
    return value


def _count(doc: dict[str, Any], name: str) -> int:
    value = doc.get(name)
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise RankingError(f"a reply: {name} must be a count")
    return value


@dataclass(frozen=True, slots=True)
class ReplyRanking:
    """First replies by (trigger code, topic): those with `MIN_USES` best first, then the
    most used of the rest (streams/learning/replies.py)."""

    version: str
    replies: Mapping[tuple[str, str], tuple[RankedReply, ...]]

    def to_json(self) -> bytes:
        """The snapshot published on `learning.model` under `REPLIES_KEY`."""
        pairs = [
            {"trigger": trigger, "topic": topic, "replies": [r.to_doc() for r in ranked]}
            for (trigger, topic), ranked in sorted(self.replies.items())
        ]
        doc = {"format": RANKING_FORMAT, "version": self.version, "pairs": pairs}
        return orjson.dumps(doc)

    @classmethod
    def from_json(cls, data: bytes) -> ReplyRanking:
        """Read a snapshot (RankingError when it is not one); `suggest` ranks what it reads."""
        try:
            doc = orjson.loads(data)
        except orjson.JSONDecodeError as exc:
            raise RankingError(f"not JSON: {exc}") from None
        if not isinstance(doc, dict) or doc.get("format") != RANKING_FORMAT:
            raise RankingError(f"not a {RANKING_FORMAT} snapshot")
        version, pairs = doc.get("version"), doc.get("pairs")
        if not isinstance(version, str) or not isinstance(pairs, list):
            raise RankingError("version must be a string and pairs a list")
        replies: dict[tuple[str, str], tuple[RankedReply, ...]] = {}
        for pair in pairs[:MAX_PAIRS]:
            if not isinstance(pair, dict) or not isinstance(pair.get("replies"), list):
                raise RankingError("a pair: expected an object with a list of replies")
            trigger, topic = pair.get("trigger"), pair.get("topic")
            if not isinstance(trigger, str) or not isinstance(topic, str):
                raise RankingError("a pair: trigger and topic must be strings")
            found = [RankedReply.from_doc(r) for r in pair["replies"][:MAX_PER_PAIR]]
            replies[(trigger, topic)] = tuple(found)
        return cls(version=version, replies=replies)


def rank(replies: Sequence[RankedReply]) -> list[RankedReply]:
    """Best first: by score, then by uses, then by key (a stable order for equal ones)."""
    return sorted(replies, key=lambda r: (-r.score, -r.uses, r.key))


def suggest(
    ranking: ReplyRanking | None,
    policy: Policy,
    trigger_codes: Sequence[str],
    topic: str,
    *,
    n: int = 3,
    min_uses: int = MIN_USES,
    min_score: float = MIN_SCORE,
) -> list[SuggestedReply]:
    """Up to `n` first replies: learned ones that ended well, then the policy's starting set."""
    templates = {t.macro_id: t for t in policy.replies}
    out: list[SuggestedReply] = []
    seen: set[str] = set()

    def add(reply: SuggestedReply) -> None:
        marks = {f"text:{normalise(reply.text)}"}
        if reply.macro_id:
            marks.add(f"macro:{reply.macro_id}")
        if len(out) < n and reply.text and not marks & seen:
            out.append(reply)
            seen.update(marks)

    if ranking is not None:
        for learned in _learned(ranking, trigger_codes, topic, min_uses):
            if learned.score < min_score:
                continue
            template = templates.get(learned.macro_id) if learned.macro_id else None
            text = template.text if template is not None else learned.text
            add(
                SuggestedReply(
                    text=text[:TEXT_CHARS],
                    macro_id=learned.macro_id or None,
                    source="learned",
                    score=round(learned.score, 4),
                    uses=learned.uses,
                )
            )
    for template in starting_set(policy, trigger_codes, topic):
        add(SuggestedReply(text=template.text, macro_id=template.macro_id, source="policy"))
    return out


def _learned(
    ranking: ReplyRanking, trigger_codes: Sequence[str], topic: str, min_uses: int
) -> list[RankedReply]:
    """Learned replies with enough uses: those of the fired triggers by score, then the
    topic's as a whole (a reply known under several triggers counts with its most uses)."""
    best: dict[str, RankedReply] = {}
    for code in trigger_codes:
        for reply in ranking.replies.get((code, topic), ()):
            known = best.get(reply.key)
            if reply.uses >= min_uses and (known is None or reply.uses > known.uses):
                best[reply.key] = reply
    wider = [
        r
        for r in ranking.replies.get((ANY_TRIGGER, topic), ())
        if r.uses >= min_uses and r.key not in best
    ]
    return rank(list(best.values())) + rank(wider)


def starting_set(policy: Policy, trigger_codes: Sequence[str], topic: str) -> list[ReplyTemplate]:
    """The policy's replies for these triggers and topic: those for the topic first (what
    the handoff is about), then those for a trigger (how it came about), then the rest."""
    fired = set(trigger_codes)

    def specificity(t: ReplyTemplate) -> int:
        return 2 * bool(t.topics) + bool(t.triggers)

    matching = [
        t
        for t in policy.replies
        if (not t.triggers or fired & set(t.triggers)) and (not t.topics or topic in t.topics)
    ]
    return sorted(matching, key=specificity, reverse=True)  # stable: policy order within a tier
