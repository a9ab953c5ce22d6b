"""The `warmhandoff` command: one entry point for every user-facing operation.

Each subcommand has --help, exits non-zero with a one-line reason on bad input and never
prints a traceback for a user error (a `WarmhandoffError`, a policy error, a missing file).
The commands live in one module per group: cluster, services, offline and lab.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence
from importlib.metadata import PackageNotFoundError, version

from pydantic import ValidationError

from warmhandoff.streams.cli import cluster, lab, offline, services
from warmhandoff.streams.cli.common import EXIT_USER_ERROR
from warmhandoff.streams.contract.errors import WarmhandoffError
from warmhandoff.streams.policy.loader import PolicyError


def main(argv: Sequence[str] | None = None) -> int:
    """Parse arguments, run the subcommand, turn user errors into one-line messages."""
    parser = build_parser()
    args = parser.parse_args(argv)
    handler: Callable[[argparse.Namespace], int] | None = getattr(args, "handler", None)
    if handler is None:
        parser.print_help()
        return EXIT_USER_ERROR
    try:
        return handler(args)
    except (WarmhandoffError, PolicyError, OSError) as exc:
        _fail(str(exc))
    except ValidationError as exc:
        _fail(f"invalid settings: {_first_error(exc)}")
    except KeyboardInterrupt:
        return 130
    return EXIT_USER_ERROR


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of every command."""
    parser = argparse.ArgumentParser(
        prog="warmhandoff",
        description="Decide when a bot hands a customer to a human, and carry the handoff.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {_version()}")
    sub = parser.add_subparsers(title="commands", metavar="COMMAND")
    for group in (cluster, services, offline, lab):
        group.register(sub)
    return parser


def _version() -> str:
    try:
        return version("warmhandoff")
    except PackageNotFoundError:  # pragma: no cover - running from a source tree
        return "unknown"


def _fail(message: str) -> None:
    """Print a one-line error to stderr."""
    first = message.strip().splitlines()[0] if message.strip() else "error"
    extra = message.strip().splitlines()[1:]
    print(f"warmhandoff: error: {first}", file=sys.stderr)
    for line in extra:
        print(f"  {line}", file=sys.stderr)


def _first_error(exc: ValidationError) -> str:
    err = exc.errors(include_url=False)[0]
    return f"{'.'.join(str(p) for p in err['loc'])}: {err['msg']}"
