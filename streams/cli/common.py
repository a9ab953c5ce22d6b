"""What every command module shares: settings from the environment and the command line, JSON
output, and the exit status of a user error."""

from __future__ import annotations

import argparse
import sys
from typing import Any, TypeVar

from warmhandoff.streams.config.connection import ConnectionSettings, load_settings

EXIT_USER_ERROR = 2

S = TypeVar("S", bound=ConnectionSettings)


def settings_from(args: argparse.Namespace, kind: type[S], **overrides: Any) -> S:
    """One process's settings from the environment, with the command line's overrides."""
    if getattr(args, "bootstrap", None):
        overrides["bootstrap_servers"] = args.bootstrap
    if getattr(args, "policy", None) and "policy_file" in kind.model_fields:
        overrides["policy_file"] = args.policy
    return load_settings(kind, **overrides)


def print_json(document: object) -> None:
    """One indented JSON document on stdout."""
    import orjson

    sys.stdout.buffer.write(orjson.dumps(document, option=orjson.OPT_INDENT_2) + b"\n")
    sys.stdout.buffer.flush()


def interrupt_on_sigterm() -> None:
    """SIGTERM unwinds like Ctrl-C, so the broker and processes a command started are stopped."""
    import signal

    def interrupt(signum: int, frame: object) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, interrupt)
