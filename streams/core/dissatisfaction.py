"""The customer's dissatisfaction over the whole conversation, one customer turn at a time.

`Signals.frustration` is this estimate, in [0, 1]. Each customer turn keeps `KEEP` of the
previous level and adds what the turn shows:

- how unhappy it reads: nothing down to a sentiment of `UNHAPPY_FROM`, `W_UNHAPPY` from
  `UNHAPPY_FULL` (a turn made only of a decline, a closing or thanks is never unhappy: the
  detect stage reads it as neutral at worst, see `detect/dialogue_acts.py`);
- an explicit cue ("that's not what I asked", "it still doesn't work"): `W_CUE`;
- friction the customer met: a repeat or rephrasing of an earlier turn, the bot's fallbacks
  and low-confidence turns just before (clarify loops), bot actions that failed since the
  customer last wrote. Friction is how a bot fails, not how the customer feels: it counts
  `FRICTION_FALLING` times when the mood is falling (this turn unhappy or with a cue, or a
  neutral turn with the smoothed trend at or below `FALLING`) and only `FRICTION_CONTENT` of
  it when the customer sounds content.

A turn adds at most `TURN_CAP`, below any sensible threshold: one unhappy turn, however
negative, does not make a conversation dissatisfied; several do (three clearly unhappy turns in
a row, or two with a cue, a repeat or a fallback, reach 0.7). Clearly positive turns lower it.

An insult or a threat to leave lifts the level to at least `SHARP_LEVEL` at once, whatever
the turn's sentiment: the customer has said the relationship is failing.

`is_sharp` judges one turn on its own (`Signals.sharp`, which the `negative_sentiment` trigger
requires by default): an insult or a threat to leave, or an unhappy turn said with intensity
(anger, swearing, shouting, "!!"). It needs one of those said, not only a score: plain
complaints ("it still hasn't arrived") reach the bottom of the sentiment scale too. Such a
turn escalates through that trigger; here it counts like any unhappy turn, so switching the
trigger off leaves one intense turn to the conversation's judgement. Pure: plain values in
and out.
"""

from __future__ import annotations

from collections.abc import Collection

UNHAPPY_FROM = -0.35
UNHAPPY_FULL = -0.75
CONTENT = 0.25  # sentiment at or above which a turn without a cue sounds content
FALLING = -0.15

KEEP = 0.8
W_UNHAPPY = 0.35
W_CUE = 0.35
W_REPEAT = 0.2
W_FALLBACK = 0.15  # for each bot fallback in a row just before (up to MAX_COUNTED)
W_UNSURE = 0.1  # for each low-confidence turn in a row just before (up to MAX_COUNTED)
W_FAILED = 0.15  # for each bot action that failed since the customer last wrote (up to ...)
MAX_COUNTED = 2
FRICTION_FALLING = 1.5
FRICTION_CONTENT = 0.25
TURN_CAP = 0.5
RELIEF = 0.25  # times the sentiment of a content turn without a cue or a repeat
SHARP_LEVEL = 0.9

#: Intensity cues (`detect/intensity.py`) that make a turn sharp whatever its sentiment, and
#: lift the conversation's level to `SHARP_LEVEL`.
SHARP_ALONE = frozenset({"insult", "leave"})


def unhappiness(sentiment: float) -> float:
    """How unhappy a turn reads, in [0, 1], from its sentiment in context."""
    share = (UNHAPPY_FROM - sentiment) / (UNHAPPY_FROM - UNHAPPY_FULL)
    return min(1.0, max(0.0, share))


def is_sharp(sentiment: float, cue: bool, intensity: Collection[str]) -> bool:
    """Is this turn alone sharply dissatisfied?"""
    if not intensity:
        return False
    return breaks_off(intensity) or cue or sentiment <= UNHAPPY_FROM


def breaks_off(intensity: Collection[str]) -> bool:
    """Does the turn insult the bot or company, or threaten to leave?"""
    return not SHARP_ALONE.isdisjoint(intensity)


def update_dissatisfaction(
    level: float,
    trend: float,
    *,
    sentiment: float,
    cue: bool,
    repeat: bool,
    breaking_off: bool = False,
    fallbacks: int = 0,
    unsure: int = 0,
    failures: int = 0,
) -> float:
    """The level after one customer turn.

    `trend` is the smoothed sentiment including this turn; `breaking_off` an insult or a
    threat to leave (`breaks_off`); `fallbacks` and `unsure` the bot's fallback and
    low-confidence streaks before it; `failures` the bot actions that failed since the
    customer last wrote.
    """
    unhappy = unhappiness(sentiment)
    mood = W_UNHAPPY * unhappy + (W_CUE if cue else 0.0)
    friction = (
        (W_REPEAT if repeat else 0.0)
        + W_FALLBACK * min(fallbacks, MAX_COUNTED)
        + W_UNSURE * min(unsure, MAX_COUNTED)
        + W_FAILED * min(failures, MAX_COUNTED)
    )
    if unhappy > 0.0 or cue:
        friction *= FRICTION_FALLING
    elif sentiment >= CONTENT:
        friction *= FRICTION_CONTENT
    elif trend <= FALLING:
        friction *= FRICTION_FALLING
    added = min(TURN_CAP, mood + friction)
    if sentiment >= CONTENT and not (cue or repeat):
        added -= RELIEF * sentiment
    level = min(1.0, max(0.0, KEEP * level + added))
    return max(level, SHARP_LEVEL) if breaking_off else level
