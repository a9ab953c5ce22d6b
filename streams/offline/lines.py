"""Reading JSON-lines input with a bound on each line, and saying what was skipped.

The offline commands read files an operator points them at, which may be anything: a line
longer than the limit is not held in memory but cut to `max_bytes + 1` bytes (so a decoder
rejects it as too large) while the rest of it is read past in chunks.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import BinaryIO

CHUNK = 1 << 16


def bounded_lines(source: BinaryIO, max_bytes: int) -> Iterator[bytes]:
    """Each line of `source`, line ending removed; a longer line is cut to max_bytes + 1."""
    while True:
        # Room for the content, one byte more (so "too long" shows) and the newline.
        line = source.readline(max_bytes + 2)
        if not line:
            return
        if line.endswith(b"\n") or len(line) <= max_bytes + 1:
            yield line.rstrip(b"\r\n")
            continue
        yield line[: max_bytes + 1]
        while True:  # the rest of the long line, never held whole
            rest = source.readline(CHUNK)
            if not rest or rest.endswith(b"\n"):
                break


def describe_counts(counts: Mapping[str, int]) -> str:
    """`3 not JSON, 1 too long`: the counts, largest first."""
    ordered = sorted(counts.items(), key=lambda item: (-item[1], item[0]))
    return ", ".join(f"{count} {reason}" for reason, count in ordered)


def skipped_line(read: int, counts: Mapping[str, int], what: str = "lines") -> str:
    """One line saying how many of the lines read were skipped and why."""
    total = sum(counts.values())
    return f"skipped {total} of {plural(read, what)}: {describe_counts(counts)}"


def plural(count: int, things: str) -> str:
    """`1 line`, `2 lines`: `things` is the plural."""
    return f"{count} {things.removesuffix('s') if count == 1 else things}"
