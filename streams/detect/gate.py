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


@lru_cache(maxsize=512)
def words(folded: str) -> frozenset[str]:
    """Return the set of alphanumeric words in already folded text."""
    return frozenset(_WORD.findall(folded))


@lru_cache(maxsize=512)
def _stems(folded: str) -> frozenset[str]:
    return frozenset(word[:_STEM] for word in words(folded) if len(word) >= _STEM)


class Gate:
    """Compiled patterns indexed by their trigger words."""

    __slots__ = ("_exact", "_patterns", "_stems")

    def __init__(self, rules: Iterable[tuple[str, str]]) -> None:
        self._patterns: list[re.Pattern[str]] = []
        exact: dict[str, list[int]] = {}
        stems: dict[str, list[int]] = {}
        for index, (triggers, pattern) in enumerate(rules):
            self._patterns.append(re.compile(pattern))
            for trigger in triggers.split():
                if trigger.endswith("*"):
                    if len(trigger) <= _STEM:
                        raise ValueError(f"prefix trigger {trigger!r} needs {_STEM} letters")
                    stems.setdefault(trigger[:_STEM], []).append(index)
                else:
                    exact.setdefault(trigger, []).append(index)
        self._exact = {key: tuple(ids) for key, ids in exact.items()}
        self._stems = {key: tuple(ids) for key, ids in stems.items()}

    @property
    def patterns(self) -> tuple[re.Pattern[str], ...]:
        """Every pattern, ungated (for tests and offline checks)."""
        return tuple(self._patterns)

    def select(self, folded: str) -> Sequence[int]:
        """Return the indices, in rule order, of rules whose triggers occur in folded text."""
        groups = [self._exact[key] for key in self._exact.keys() & words(folded)]
        if self._stems:
            groups.extend(self._stems[key] for key in self._stems.keys() & _stems(folded))
        if not groups:
            return ()
        if len(groups) == 1:
            return groups[0]
        return sorted(set().union(*groups))
