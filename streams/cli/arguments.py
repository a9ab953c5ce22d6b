"""The command line's parser and argument types: a bad argument is one line and exit status 2.

Every value is checked while the command line is parsed, before a command starts anything (a
broker, a subprocess, a file written): counts and rates in range and finite, times that parse
and carry a timezone, files that exist and can be read. Checks that span options (options that
exclude each other, an option that needs another) run first thing in the command and raise
`UsageError`, which the CLI prints in the same one-line form.
"""

from __future__ import annotations

import argparse
import math
import os
import sys
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, NoReturn

from warmhandoff.streams.cli.common import EXIT_USER_ERROR

#: How long before the end of the accepted window (streams/core/codec.py) simulated traffic
#: may start, so every turn it generates stays inside the window.
START_MARGIN = timedelta(days=30)


def one_line(message: str) -> str:
    """`message` with every run of whitespace (newlines included) as one space."""
    return " ".join(message.split()) or "error"


def usage_line(command: str, message: str) -> str:
    """The one line a usage error prints: the reason, and where the command's help is."""
    return f"warmhandoff: error: {one_line(message)} (see: {command} --help)"


class CommandParser(argparse.ArgumentParser):
    """An argument parser whose errors are one line on stderr and exit status 2."""

    def error(self, message: str) -> NoReturn:
        """Print the reason in one line, naming this command's help, and exit 2."""
        print(usage_line(self.prog, message), file=sys.stderr)
        raise SystemExit(EXIT_USER_ERROR)

    def _get_values(self, action: argparse.Action, arg_strings: list[str]) -> Any:
        # argparse drops "--" from an option's values, so `--rate=--` would leave the option
        # an empty list without calling its type: refuse it like any other bad value.
        if action.nargs is None and action.option_strings and arg_strings == ["--"]:
            self.error(f"argument {'/'.join(action.option_strings)}: expected one value, got --")
        return super()._get_values(action, arg_strings)


# --- numbers ----------------------------------------------------------------------------


def whole(minimum: int, maximum: int | None = None) -> Callable[[str], int]:
    """A whole number from `minimum` to `maximum` (no upper bound when None)."""

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
        if value < minimum or (maximum is not None and value > maximum):
            raise argparse.ArgumentTypeError(f"must be {_between(minimum, maximum)}, got {value}")
        return value

    return parse


def positive(maximum: float | None = None, *, what: str = "") -> Callable[[str], float]:
    """A finite number above 0 (and at most `maximum`); `what` names its unit in errors."""

    def parse(text: str) -> float:
        value = _finite(text)
        if value <= 0 or (maximum is not None and value > maximum):
            bound = "above 0" if maximum is None else f"above 0 and at most {maximum:g}{what}"
            raise argparse.ArgumentTypeError(f"must be {bound}, got {text}")
        return value

    return parse


def fraction(text: str) -> float:
    """A share above 0 and at most 1."""
    value = _finite(text)
    if not 0 < value <= 1:
        raise argparse.ArgumentTypeError(f"must be above 0 and at most 1, got {text}")
    return value


def share(text: str) -> float:
    """A share from 0 to 1."""
    value = _finite(text)
    if not 0 <= value <= 1:
        raise argparse.ArgumentTypeError(f"must be from 0 to 1, got {text}")
    return value


def _finite(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
    if not math.isfinite(value):
        raise argparse.ArgumentTypeError(f"expected a finite number, got {text}")
    return value


def _between(minimum: int, maximum: int | None) -> str:
    if maximum is None:
        return f"at least {minimum}"
    return f"from {minimum} to {maximum}"


# --- times ------------------------------------------------------------------------------


def instant(text: str) -> datetime:
    """An ISO 8601 time with a timezone, inside the window of times the pipeline accepts."""
    from warmhandoff.streams.core.codec import EARLIEST_TS, LATEST_TS

    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected an ISO time such as 2026-11-25T16:00:00Z, got {text!r}"
        ) from None
    if value.tzinfo is None or value.utcoffset() is None:
        raise argparse.ArgumentTypeError(
            f"needs a timezone, e.g. 2026-11-25T16:00:00Z, got {text!r}"
        )
    latest = LATEST_TS - START_MARGIN
    if not EARLIEST_TS <= value <= latest:
        raise argparse.ArgumentTypeError(
            f"must be from {EARLIEST_TS:%Y-%m-%d} to {latest:%Y-%m-%d} (UTC), got {text!r}"
        )
    return value


# --- files ------------------------------------------------------------------------------


def readable_file(text: str) -> Path:
    """An existing regular file this process may read."""
    path = Path(text)
    if not path.exists():
        raise argparse.ArgumentTypeError(f"{text}: no such file")
    if path.is_dir():
        raise argparse.ArgumentTypeError(f"{text}: a directory, not a file")
    if not path.is_file():
        raise argparse.ArgumentTypeError(f"{text}: not a regular file")
    if not os.access(path, os.R_OK):
        raise argparse.ArgumentTypeError(f"{text}: not readable")
    return path


def input_file(text: str) -> str:
    """`-` (standard input) or a readable file."""
    return text if text == "-" else str(readable_file(text))


def directory(text: str) -> Path:
    """An existing directory."""
    path = Path(text)
    if not path.is_dir():
        raise argparse.ArgumentTypeError(f"{text}: not a directory")
    return path


def output_file(text: str) -> Path:
    """A file this process may create or overwrite, in a directory that exists."""
    path = Path(text)
    if path.is_dir():
        raise argparse.ArgumentTypeError(f"{text}: a directory, not a file")
    if path.exists() and not path.is_file():
        raise argparse.ArgumentTypeError(f"{text}: not a regular file")
    folder = path.parent
    if not folder.is_dir():
        raise argparse.ArgumentTypeError(f"{text}: no directory {folder}")
    if not os.access(path if path.exists() else folder, os.W_OK):
        raise argparse.ArgumentTypeError(f"{text}: not writable")
    return path


def non_empty(value: str) -> str:
    """A value that is not empty."""
    if not value.strip():
        raise argparse.ArgumentTypeError("must not be empty")
    return value
