"""Learn which first replies work: each handoff's first reply joined with how it ended.

Input: decisions and handoff events, as the learner reads them from `escalation.decisions` and
`handoff.events` (or `warmhandoff report` from a dump), in the order they happened. Output:
per (trigger code, topic, reply) tallies, and the `ReplyRanking` snapshot the learner publishes
(streams/core/replies.py ranks and suggests from it). Pure: no Kafka, no clock.

- The escalating decision gives a handoff its trigger codes and topic (`case.topic_of`), and
  the customer (`Signals.customer_id`).
- A `replied` event is the human's first reply: keyed by its macro id, else by its normalised
  text. Texts are redacted here, whoever sent them: an agent may type a card number.
- `resolved`, `handed_back` and `abandoned` end a handoff; `csat` adds the survey answer.
  `cancelled` and `failed` teach nothing about a reply: the use is dropped.
- A return, as in labels.py: within `LabelRules.return_window` of the end, the same
  conversation escalates again (another handoff) or the same customer writes in another
  conversation.

A use counts once the return window after its end has closed (`settle(now)`), or at once with
`settle(None)` (a report on a recording: what was recorded is all there is). It is good when
the handoff was resolved, with no return, and a CSAT of 4 or 5 when the customer answered;
anything else counts against it. Handoffs with no end after `STALE` are forgotten.

Each (trigger, topic) also counts under `ANY_TRIGGER` for the topic as a whole (a handoff with
two triggers counts once there), which is what the report lists per topic.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from warmhandoff.streams.contract.models import Action, Decision, HandoffEvent, HandoffEventType
from warmhandoff.streams.core.case import topic_of
from warmhandoff.streams.core.replies import (
    ANY_TRIGGER,
    MAX_PER_PAIR,
    MAX_RANKING_BYTES,
    MIN_USES,
    TEXT_CHARS,
    RankedReply,
    ReplyRanking,
    rank,
    reply_key,
)
from warmhandoff.streams.detect.redact import redact
from warmhandoff.streams.learning.labels import DEFAULT_RULES, LabelRules
from warmhandoff.streams.policy.model import TRIGGER_CODES

STALE = timedelta(days=7)  # a handoff not ended by then is forgotten
MAX_TRACKED = 300  # replies tallied per (trigger, topic): the least used go first
GOOD_CSAT = 4
KNOWN_CODES = frozenset(TRIGGER_CODES)
ENDS = {
    HandoffEventType.resolved: "resolved",
    HandoffEventType.handed_back: "handed_back",
    HandoffEventType.abandoned: "abandoned",
}
DROPS = frozenset({HandoffEventType.cancelled, HandoffEventType.failed})
_NEW = (Action.gather, Action.escalate)  # a decision that starts an escalation


@dataclass(slots=True)
class Use:
    """One handoff: its triggers, its first reply and how it ended, until it is counted."""

    handoff_id: str
    conversation_id: str
    seen_at: datetime
    codes: tuple[str, ...] | None = None  # None until the escalating decision is read
    topic: str = ""
    customer_id: str | None = None
    key: str | None = None  # the first reply's, None until one is read
    replied_at: datetime | None = None
    text: str = ""
    macro_id: str = ""
    ended_at: datetime | None = None
    end: str = ""  # one of ENDS' values
    csat: int | None = None
    returned: bool = False

    @property
    def clean(self) -> bool:
        """Resolved by the human and the customer did not come back."""
        return self.end == "resolved" and not self.returned

    @property
    def good(self) -> bool:
        """Clean, and the customer rated it 4 or 5 if they answered."""
        return self.clean and (self.csat is None or self.csat >= GOOD_CSAT)


@dataclass(slots=True)
class Tally:
    """How the handoffs a reply was the first reply of ended."""

    text: str
    macro_id: str
    uses: int = 0
    good: int = 0
    clean: int = 0
    csat_sum: int = 0
    csat_n: int = 0
    touched: int = 0  # when it last counted a use (the eviction order among equal uses)

    def ranked(self, key: str) -> RankedReply:
        """The tally as the ranking holds it."""
        return RankedReply(
            key=key,
            text=self.text,
            macro_id=self.macro_id,
            uses=self.uses,
            good=self.good,
            clean=self.clean,
            csat_sum=self.csat_sum,
            csat_n=self.csat_n,
        )


@dataclass(slots=True)
class ReplyFold:
    """Open handoffs by id and reply tallies by (trigger, topic) and reply key."""

    rules: LabelRules = DEFAULT_RULES
    open: dict[str, Use] = field(default_factory=dict)
    tallies: dict[tuple[str, str], dict[str, Tally]] = field(default_factory=dict)
    # Ended handoffs waiting out their return window, by customer and by conversation.
    _by_customer: dict[str, set[str]] = field(default_factory=dict)
    _by_conversation: dict[str, set[str]] = field(default_factory=dict)
    _clock: itertools.count[int] = field(default_factory=itertools.count)
    counted: int = 0  # uses counted so far: the learner publishes when it moved

    def on_decision(self, d: Decision) -> None:
        """An escalation names its handoff's triggers; any decision may be a return."""
        customer = d.signals.customer_id
        if d.action is Action.escalate and d.handoff_id:
            codes = [hit.code for hit in d.triggers]
            self.escalation(d.handoff_id, d.conversation_id, codes, d.ts, customer)
        self.contact(d.conversation_id, customer, d.ts, d.handoff_id, escalating=d.action in _NEW)

    def on_event(self, e: HandoffEvent) -> None:
        """A lifecycle event: the first reply, an end, a survey answer."""
        if e.type is HandoffEventType.replied:
            self.reply(e.handoff_id, e.conversation_id, e.ts, text=e.reply, macro_id=e.macro_id)
        elif e.type in ENDS:
            self.ended(e.handoff_id, e.conversation_id, e.ts, ENDS[e.type])
        elif e.type is HandoffEventType.csat and e.csat is not None:
            self.answered(e.handoff_id, e.csat)
        elif e.type in DROPS:
            self.dropped(e.handoff_id)

    def escalation(
        self,
        handoff_id: str,
        conversation_id: str,
        codes: list[str],
        at: datetime,
        customer_id: str | None,
    ) -> None:
        """A handoff was created for these trigger codes."""
        use = self._use(handoff_id, conversation_id, at)
        known = tuple(dict.fromkeys(c for c in codes if c in KNOWN_CODES))
        use.codes, use.topic = known, topic_of(known)
        use.customer_id = use.customer_id or customer_id
        if use.ended_at is not None:
            self._await_return(use)

    def contact(
        self,
        conversation_id: str,
        customer_id: str | None,
        at: datetime,
        handoff_id: str | None = None,
        *,
        escalating: bool = False,
    ) -> None:
        """A turn was decided: a return for ended handoffs it follows within the window."""
        waiting: set[str] = set()
        if escalating:
            waiting |= self._by_conversation.get(conversation_id, set())
        if customer_id:
            waiting |= self._by_customer.get(customer_id, set())
        for hid in waiting:
            use = self.open[hid]
            if use.handoff_id == handoff_id:
                continue
            other = use.conversation_id != conversation_id
            if (other or escalating) and use.ended_at is not None:
                use.returned |= use.ended_at < at <= use.ended_at + self.rules.return_window

    def reply(
        self,
        handoff_id: str,
        conversation_id: str,
        at: datetime,
        *,
        text: str | None,
        macro_id: str | None,
    ) -> None:
        """The human's reply: kept when it is the handoff's first."""
        shown = redact(" ".join((text or "").split()))[0][:TEXT_CHARS] if text else ""
        key = reply_key(macro_id, shown)
        if key is None:
            return
        use = self._use(handoff_id, conversation_id, at)
        if use.replied_at is None or at < use.replied_at:
            use.key, use.replied_at, use.text, use.macro_id = key, at, shown, macro_id or ""

    def ended(self, handoff_id: str, conversation_id: str, at: datetime, end: str) -> None:
        """The handoff ended: resolved, handed back or abandoned (the first end counts)."""
        use = self._use(handoff_id, conversation_id, at)
        if use.ended_at is None:
            use.ended_at, use.end = at, end
        elif end == "handed_back":
            use.end = end  # handed back after all: not resolved by the human
        self._await_return(use)

    def answered(self, handoff_id: str, csat: int) -> None:
        """The customer's survey answer about the handoff."""
        use = self.open.get(handoff_id)
        if use is not None:
            use.csat = csat

    def dropped(self, handoff_id: str) -> None:
        """Cancelled or failed: nothing to learn about its reply."""
        self._forget(handoff_id)

    def settle(self, now: datetime | None) -> int:
        """Count every use whose return window closed by `now` (every ended one for None);
        forget what cannot count. How many were counted."""
        counted = 0
        window = self.rules.return_window
        for use in list(self.open.values()):
            if use.ended_at is None:
                if now is not None and use.seen_at + STALE < now:
                    self._forget(use.handoff_id)
                continue
            if now is not None and now < use.ended_at + window:
                continue
            if use.codes is not None and use.key is not None:
                self._count(use)
                counted += 1
            if use.codes is not None or now is None or use.ended_at + STALE < now:
                self._forget(use.handoff_id)  # else its decision may still come
        return counted

    def ranking(self, version: str, *, per_pair: int = MAX_PER_PAIR) -> ReplyRanking:
        """The snapshot: per (trigger, topic), the replies with `MIN_USES` best first, then
        the most used of the rest (so a restart keeps counting them); fewer per key when the
        snapshot would pass `MAX_RANKING_BYTES`."""
        ordered: dict[tuple[str, str], list[RankedReply]] = {}
        for pair, tallies in self.tallies.items():
            found = [t.ranked(key) for key, t in tallies.items()]
            ready = rank([r for r in found if r.uses >= MIN_USES])
            rest = sorted((r for r in found if r.uses < MIN_USES), key=lambda r: (-r.uses, r.key))
            ordered[pair] = ready + rest
        while True:
            ranking = ReplyRanking(
                version=version, replies={p: tuple(r[:per_pair]) for p, r in ordered.items()}
            )
            if per_pair <= 1 or len(ranking.to_json()) <= MAX_RANKING_BYTES:
                return ranking
            per_pair -= 1

    def restore(self, ranking: ReplyRanking) -> None:
        """Start from a published snapshot's tallies (the learner at start)."""
        for pair, ranked in ranking.replies.items():
            tallies = self.tallies.setdefault(pair, {})
            for r in ranked:
                tallies[r.key] = Tally(
                    text=r.text,
                    macro_id=r.macro_id,
                    uses=r.uses,
                    good=r.good,
                    clean=r.clean,
                    csat_sum=r.csat_sum,
                    csat_n=r.csat_n,
                )

    def _use(self, handoff_id: str, conversation_id: str, at: datetime) -> Use:
        use = self.open.get(handoff_id)
        if use is None:
            use = self.open[handoff_id] = Use(handoff_id, conversation_id, at)
        return use

    def _await_return(self, use: Use) -> None:
        self._by_conversation.setdefault(use.conversation_id, set()).add(use.handoff_id)
        if use.customer_id:
            self._by_customer.setdefault(use.customer_id, set()).add(use.handoff_id)

    def _forget(self, handoff_id: str) -> None:
        use = self.open.pop(handoff_id, None)
        if use is None:
            return
        for index, name in (
            (self._by_conversation, use.conversation_id),
            (self._by_customer, use.customer_id or ""),
        ):
            waiting = index.get(name)
            if waiting is not None:
                waiting.discard(handoff_id)
                if not waiting:
                    del index[name]

    def _count(self, use: Use) -> None:
        assert use.codes is not None and use.key is not None
        touched = next(self._clock)
        for pair in [(code, use.topic) for code in use.codes] + [(ANY_TRIGGER, use.topic)]:
            tallies = self.tallies.setdefault(pair, {})
            tally = tallies.get(use.key)
            if tally is None:
                if len(tallies) >= MAX_TRACKED:
                    least = min(tallies, key=lambda k: (tallies[k].uses, tallies[k].touched))
                    del tallies[least]
                tally = tallies[use.key] = Tally(text=use.text, macro_id=use.macro_id)
            tally.text = use.text or tally.text  # the latest wording of a macro
            tally.uses += 1
            tally.good += use.good
            tally.clean += use.clean
            if use.csat is not None:
                tally.csat_sum += use.csat
                tally.csat_n += 1
            tally.touched = touched
        self.counted += 1
