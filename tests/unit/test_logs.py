"""Logs: JSON lines with the conversation and handoff ids, Faust/aiokafka through the same
formatter, their noisy levels held back."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator

import pytest
import structlog

from warmhandoff.streams.runtime.logs import configure_logging


@pytest.fixture(autouse=True)
def restore_logging() -> Iterator[None]:
    """configure_logging changes process-wide state: put it back for the other tests."""
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    config = structlog.get_config()
    yield
    root.handlers[:] = handlers
    root.setLevel(level)
    structlog.configure(**config)


def lines(err: str) -> list[dict[str, object]]:
    return [json.loads(line) for line in err.splitlines() if line.strip()]


def test_json_lines_carry_bound_ids_and_library_logs_share_the_format(
    capsys: pytest.CaptureFixture[str],
) -> None:
    configure_logging("INFO", "json")
    log = structlog.get_logger("warmhandoff.test")
    with structlog.contextvars.bound_contextvars(conversation_id="c-1"):
        log.info("handoff.requested", handoff_id="h-1", queue="billing")
    logging.getLogger("aiokafka.consumer").warning("Heartbeat failed for group %s", "g")
    logging.getLogger("faust.worker").info("noisy startup detail")  # below WARNING: dropped
    records = lines(capsys.readouterr().err)
    assert records[0]["event"] == "handoff.requested"
    assert records[0]["conversation_id"] == "c-1" and records[0]["handoff_id"] == "h-1"
    assert records[0]["level"] == "info" and "timestamp" in records[0]
    assert records[1]["logger"] == "aiokafka.consumer"
    assert records[1]["event"] == "Heartbeat failed for group g"
    assert len(records) == 2


def test_console_format_is_readable(capsys: pytest.CaptureFixture[str]) -> None:
    configure_logging("INFO", "console")
    structlog.get_logger("warmhandoff.test").info("worker.ready", partitions=8)
    err = capsys.readouterr().err
    assert "worker.ready" in err and "partitions=8" in err
    assert not err.lstrip().startswith("{")
