"""What every command module shares: settings from the environment and the command line, JSON
output, notes on stderr, input files, and the exit status of a user error."""

from __future__ import annotations

import argparse
import contextlib
import logging
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, BinaryIO, TypeVar

from pydantic import ValidationError
from pydantic_settings import BaseSettings, SettingsConfigDict

from warmhandoff.streams.config.connection import (
    ENV_PREFIX,
    ConnectionSettings,
    load_settings,
    ssl_context,
    topics_for,
)
from warmhandoff.streams.config.service import ServiceSettings
from warmhandoff.streams.contract.errors import BrokerUnavailableError, ConfigError

EXIT_USER_ERROR = 2

#: How long a command waits for a broker it was pointed at to accept a connection (the same
#: wait as the long-running processes' probe).
BROKER_PROBE_SECONDS = 5.0

S = TypeVar("S", bound=ConnectionSettings)


def settings_from(args: argparse.Namespace, kind: type[S], **overrides: Any) -> S:
    """One process's settings from the environment, with the command line's overrides.

    The files they name (topics, TLS) are read here too, so a bad one is refused before the
    command connects to anything or starts logging.
    """
    if getattr(args, "bootstrap", None):
        overrides["bootstrap_servers"] = args.bootstrap
    if getattr(args, "policy", None) and "policy_file" in kind.model_fields:
        overrides["policy_file"] = args.policy
    settings = load_settings(kind, **overrides)
    topics_for(settings)
    ssl_context(settings)
    return settings


class _TurnLimit(BaseSettings):
    """The one setting the offline commands share with the worker."""

    model_config = SettingsConfigDict(env_prefix=ENV_PREFIX, extra="ignore", frozen=True)

    # The worker's own field (default and bounds), so the two cannot drift apart; mypy sees a
    # FieldInfo where pydantic reads a field declaration.
    max_turn_bytes: int = ServiceSettings.model_fields["max_turn_bytes"]  # type: ignore[assignment]


def turn_size_limit() -> int:
    """The largest turn event in bytes (WARMHANDOFF_MAX_TURN_BYTES), as a worker applies it."""
    try:
        return _TurnLimit().max_turn_bytes
    except ValidationError as exc:
        message = exc.errors(include_url=False)[0]["msg"]
        raise ConfigError(f"{ENV_PREFIX}MAX_TURN_BYTES: {message}") from None


def open_input(name: str | None) -> BinaryIO:
    """The file `name` opened for reading bytes, or standard input for None or `-`."""
    if name in (None, "-"):
        return sys.stdin.buffer
    return Path(name).open("rb")


def note(message: str) -> None:
    """One line on stderr that is not an error (what was skipped, for instance)."""
    print(f"warmhandoff: {' '.join(message.split())}", file=sys.stderr)


def require_broker(bootstrap: str, origin: str) -> None:
    """`BrokerUnavailableError` unless a broker at `bootstrap` (set by `origin`) answers."""
    from warmhandoff.streams.config.connection import bootstrap_hosts
    from warmhandoff.streams.runtime.broker import broker_answers

    try:
        bootstrap_hosts(bootstrap)
    except ValueError as exc:
        raise ConfigError(f"{origin}: {exc}") from None
    if not broker_answers(bootstrap, timeout=BROKER_PROBE_SECONDS):
        raise BrokerUnavailableError(f"no Kafka broker answers at {bootstrap} ({origin})")


@contextlib.contextmanager
def quiet_kafka_client() -> Iterator[None]:
    """A one-shot command reports a Kafka failure in its own one line: the client's log records
    of it (printed bare by logging's last-resort handler) would only repeat it."""
    loggers = [logging.getLogger(name) for name in ("aiokafka", "kafka")]
    levels = [logger.level for logger in loggers]
    for logger in loggers:
        logger.setLevel(logging.CRITICAL)
    try:
        yield
    finally:
        for logger, level in zip(loggers, levels, strict=True):
            logger.setLevel(level)


def print_report(report: Any, as_json: bool, render: Callable[[Any], str]) -> None:
    """A command's report on stdout: indented JSON, or the table `render` makes of it."""
    if as_json:
        print_json(report)
    else:
        sys.stdout.write(render(report))


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
