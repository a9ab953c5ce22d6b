"""Keyword gates: run an expensive pattern only when one of its trigger words is present.

Python's `re` has no multi-pattern prefilter, so a long alternation is tried at every
character of every turn (about 1 µs per pattern on a short turn). The detectors instead pair
each pattern with the words it cannot match without, index those words once, and on each
turn run only the patterns whose trigger words occur. A trigger ending in "*" matches any
word starting with it ("refund*" matches "refunds", "refunded").

A trigger must be a word every match of its pattern contains; the `test_detect_*` modules
check on their case sentences that every rule whose pattern matches is also selected.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from functools import lru_cache

_WORD = re.compile(r"[a-z0-9]+")
# A prefix trigger ("refund*") is indexed by its first letters only: every turn's words are
# cut to this length once, so all gates share one look-up. A short key lets through more
# turns ("refuse" opens the "refund*" rules) but never fewer.
_STEM = 4

# Every gate's triggers in one index, so a turn's words are looked up once for all the
# detectors (five gates, each of which cost about 1 µs a turn on its own): a trigger word,
# or the first letters of a prefix trigger, maps to (gate number, rule index) pairs.
_EXACT: dict[str, list[tuple[int, int]]] = {}
_STEMS: dict[str, list[tuple[int, int]]] = {}
_GATE_COUNT = 0


@lru_cache(maxsize=512)
def words(folded: str) -> frozenset[str]:
    """Return the set of alphanumeric words in already folded text."""
    return frozenset(_WORD.findall(folded))


@lru_cache(maxsize=512)
def _selected(folded: str) -> dict[int, tuple[int, ...]]:
    """The rules each gate selects for one folded text, by gate number, in rule order."""
    found: dict[int, set[int]] = {}
    present = words(folded)
    for word in _EXACT.keys() & present:
        for gate, rule in _EXACT[word]:
            found.setdefault(gate, set()).add(rule)
    stems = _STEMS
    for word in present:
        if len(word) >= _STEM:
            pairs = stems.get(word[:_STEM])
            if pairs is not None:
                for gate, rule in pairs:
                    found.setdefault(gate, set()).add(rule)
    return {gate: tuple(sorted(rules)) for gate, rules in found.items()}


class Gate:
    """Compiled patterns indexed by their trigger words."""

    __slots__ = ("_number", "_patterns")

    def __init__(self, rules: Iterable[tuple[str, str]]) -> None:
        global _GATE_COUNT
        self._number = _GATE_COUNT
        _GATE_COUNT += 1
        self._patterns: list[re.Pattern[str]] = []
        for index, (triggers, pattern) in enumerate(rules):
            self._patterns.append(re.compile(pattern))
            for trigger in triggers.split():
                if trigger.endswith("*"):
                    if len(trigger) <= _STEM:
                        raise ValueError(f"prefix trigger {trigger!r} needs {_STEM} letters")
                    table, key = _STEMS, trigger[:_STEM]
                else:
                    table, key = _EXACT, trigger
                table.setdefault(key, []).append((self._number, index))
        _selected.cache_clear()  # selections cached before this gate existed lack it

    @property
    def patterns(self) -> tuple[re.Pattern[str], ...]:
        """Every pattern, ungated (for tests and offline checks)."""
        return tuple(self._patterns)

    def select(self, folded: str) -> Sequence[int]:
        """Return the indices, in rule order, of rules whose triggers occur in folded text."""
        return _selected(folded).get(self._number, ())
