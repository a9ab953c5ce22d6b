"""The `warmhandoff` command: one entry point for every user-facing operation.

Each subcommand has --help, exits non-zero with a one-line reason on bad input and never
prints a traceback for a user error (a `WarmhandoffError`, a policy error, a missing file).
Arguments are checked while they are parsed (streams/cli/arguments.py), before a command
starts anything. The commands live in one module per group: cluster, services, offline and
lab.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence
from importlib.metadata import PackageNotFoundError, version

from pydantic import ValidationError

from warmhandoff.streams.cli import cluster, lab, offline, services
from warmhandoff.streams.cli.arguments import CommandParser, one_line, usage_line
from warmhandoff.streams.cli.common import EXIT_USER_ERROR
from warmhandoff.streams.cli.exceptions import UsageError
from warmhandoff.streams.contract.errors import WarmhandoffError
from warmhandoff.streams.policy.loader import PolicyError


def main(argv: Sequence[str] | None = None) -> int:
    """Parse arguments, run the subcommand, turn user errors into one-line messages.

    Returns the exit status; only --help and --version leave by `SystemExit` (status 0).
    """
    parser = build_parser()
    try:
        args, extra = parser.parse_known_args(argv)
        if extra:
            command = getattr(args, "command", parser.prog)
            _fail(usage_line(command, f"unrecognized arguments: {' '.join(extra)}"))
            return EXIT_USER_ERROR
    except SystemExit as exc:
        if exc.code in (0, None):
            raise
        return EXIT_USER_ERROR  # the parser printed the one-line reason
    handler: Callable[[argparse.Namespace], int] = args.handler
    try:
        return handler(args)
    except UsageError as exc:
        _fail(usage_line(args.command, str(exc)))
    except PolicyError as exc:
        _fail(f"warmhandoff: error: {_policy_problem(exc)}")
    except (WarmhandoffError, OSError) as exc:
        _fail(f"warmhandoff: error: {exc}")
    except ValidationError as exc:
        _fail(f"warmhandoff: error: invalid settings: {_first_error(exc)}")
    except KeyboardInterrupt:
        return 130
    return EXIT_USER_ERROR


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of every command."""
    parser = CommandParser(
        prog="warmhandoff",
        description="Decide when a bot hands a customer to a human, and carry the handoff.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {_version()}")
    sub = parser.add_subparsers(title="commands", metavar="COMMAND", required=True)
    for group in (cluster, services, offline, lab):
        group.register(sub)
    _name_commands(parser)
    return parser


def _name_commands(parser: argparse.ArgumentParser) -> None:
    """Each command's parser records its name (`warmhandoff policy diff`) for error lines."""
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for command in action.choices.values():
                command.set_defaults(command=command.prog)
                _name_commands(command)


def _version() -> str:
    try:
        return version("warmhandoff")
    except PackageNotFoundError:  # pragma: no cover - running from a source tree
        return "unknown"


def _fail(line: str) -> None:
    """Print an error to stderr as exactly one line."""
    print(one_line(line), file=sys.stderr)


def _policy_problem(exc: PolicyError) -> str:
    """The first problem of a policy, and how many more `policy check` would list."""
    first = f"{exc.source}: {exc.problems[0]}" if exc.problems else exc.source
    more = len(exc.problems) - 1
    if more <= 0:
        return first
    return f"{first} (and {more} more: warmhandoff policy check {exc.source})"


def _first_error(exc: ValidationError) -> str:
    err = exc.errors(include_url=False)[0]
    return f"{'.'.join(str(p) for p in err['loc'])}: {err['msg']}"
