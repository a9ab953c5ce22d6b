"""Business hours of a queue, written the way CX operations say them.

Format: one or more `DAYS HH:MM-HH:MM` windows separated by commas, then an IANA time zone,
for example `mon-fri 08:00-20:00, sat 09:00-13:00 Europe/London`; or `24/7`. DAYS is a day
(`mon`) or a range (`mon-fri`, `fri-mon` wraps), or several joined by `+` (`mon+wed`). A
window ends after it starts; `24:00` is allowed as an end so a day can be covered to
midnight. Overnight shifts are two windows (`mon-fri 22:00-24:00, tue-sat 00:00-06:00`).

The policy loader only validates the text; routing calls `is_open` with its
injected clock.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
ALWAYS = "24/7"

_WINDOW = re.compile(r"^(?P<days>[a-z+-]+)\s+(?P<start>\d{2}:\d{2})-(?P<end>\d{2}:\d{2})$")


@dataclass(frozen=True, slots=True)
class Window:
    """Open on `day` (0 = Monday) from `start` to `end`, in minutes after local midnight."""

    day: int
    start: int
    end: int


@dataclass(frozen=True, slots=True)
class BusinessHours:
    """Parsed opening hours; an empty `windows` with `always` set means 24/7."""

    text: str
    windows: tuple[Window, ...]
    zone: ZoneInfo | None
    always: bool = False

    def is_open(self, at: datetime) -> bool:
        """Whether the queue is open at the aware datetime `at`."""
        if self.always or self.zone is None:
            return True
        if at.tzinfo is None:
            raise ValueError("is_open needs an aware datetime")
        local = at.astimezone(self.zone)
        day, minute = local.weekday(), local.hour * 60 + local.minute
        return any(w.day == day and w.start <= minute < w.end for w in self.windows)


def parse_hours(text: str) -> BusinessHours:
    """Parse the hours format above; a ValueError says exactly what is wrong."""
    stripped = " ".join(text.split())
    if stripped.lower() == ALWAYS:
        return BusinessHours(text=text, windows=(), zone=None, always=True)
    head, _, zone_name = stripped.rpartition(" ")
    if re.fullmatch(r"[\d:-]+", zone_name):
        raise ValueError(f"{text!r}: the time zone is missing at the end (e.g. Europe/London)")
    if not head:
        raise ValueError(f"expected 'DAYS HH:MM-HH:MM[, ...] TIME/ZONE' or '24/7', got {text!r}")
    try:
        zone = ZoneInfo(zone_name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(
            f"unknown time zone {zone_name!r} (use an IANA name such as Europe/London)"
        ) from None
    windows: list[Window] = []
    for part in head.split(","):
        windows.extend(_parse_window(part.strip().lower()))
    return BusinessHours(text=text, windows=tuple(windows), zone=zone)


def _parse_window(part: str) -> list[Window]:
    match = _WINDOW.match(part)
    if match is None:
        raise ValueError(f"expected 'DAYS HH:MM-HH:MM', got {part!r}")
    start, end = _minutes(match["start"]), _minutes(match["end"])
    if end <= start:
        raise ValueError(
            f"{part!r}: the end must be after the start (split overnight hours into two windows)"
        )
    return [Window(day, start, end) for day in _days(match["days"])]


def _minutes(clock: str) -> int:
    hours, minutes = int(clock[:2]), int(clock[3:])
    if minutes > 59 or hours > 24 or (hours == 24 and minutes):
        raise ValueError(f"invalid time {clock!r}")
    return hours * 60 + minutes


def _days(spec: str) -> list[int]:
    days: list[int] = []
    for item in spec.split("+"):
        first, _, last = item.partition("-")
        if first not in DAYS or (last and last not in DAYS):
            raise ValueError(f"invalid days {spec!r} (days are {', '.join(DAYS)})")
        start = DAYS.index(first)
        span = (DAYS.index(last) - start) % 7 if last else 0
        days.extend((start + offset) % 7 for offset in range(span + 1))
    return days
