"""Logging, configured once: structlog for our events, stdlib loggers routed through it.

JSON lines in production (or when stderr is not a terminal), readable key=value lines on a
terminal. Faust, mode and aiokafka log through the standard library; their records go through
the same formatter, and they are held at WARNING by default because their debug and info
records cost measurable CPU per message on the hot path (DESIGN.md, "Runtime").
Log events are dotted names with keyword fields and never carry customer text.
"""

from __future__ import annotations

import logging
import sys
from typing import Literal, TextIO

import structlog

NOISY_LOGGERS = ("faust", "mode", "aiokafka", "kafka", "rocksdict")


def configure_logging(
    level: str = "INFO",
    fmt: Literal["auto", "json", "console"] = "auto",
    *,
    stream: TextIO | None = None,
) -> None:
    """Set up structlog and the stdlib root logger, writing to `stream` (default: stderr;
    idempotent)."""
    use_json = fmt == "json" or (fmt == "auto" and not sys.stderr.isatty())
    shared: list[structlog.types.Processor] = [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
    ]
    renderer: structlog.types.Processor = (
        structlog.processors.JSONRenderer()
        if use_json
        else structlog.dev.ConsoleRenderer(colors=sys.stderr.isatty())
    )
    structlog.configure(
        processors=[
            *shared,
            structlog.stdlib.ProcessorFormatter.wrap_for_formatter,
        ],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=True,
    )
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(
        structlog.stdlib.ProcessorFormatter(
            foreign_pre_chain=shared,
            processors=[
                structlog.stdlib.ProcessorFormatter.remove_processors_meta,
                structlog.processors.format_exc_info,
                renderer,
            ],
        )
    )
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    quiet = max(logging.WARNING, logging.getLevelName(level.upper()))
    for name in NOISY_LOGGERS:
        logging.getLogger(name).setLevel(quiet)
