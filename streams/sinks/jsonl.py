"""The file sink: one JSON line per handoff, for debugging and for tools that tail files.

Idempotent across restarts and across processes sharing the file: a handoff_id already in the
file is never appended again (the first version of a handoff stays; a re-published one is
reported delivered without a second line). Each append holds an exclusive `flock` on the file
while it reads the lines other writers added since its last look, then writes and fsyncs the
new line. A line torn by a crash (no trailing newline) is closed with a newline and ignored,
and its handoff, never committed, is appended again when it is redelivered.

A handoff with a customer case (`case` in the request) is filed under the customer's case:
its line's `case` object keeps the request's `key`, `customer_id` and `topic` and adds
`attached` (it joined a case an earlier line opened, whose `key` it then carries), `handoffs`
(the case's handoffs so far, this one included) and `opened_at` (case_index.py). Lines
without a customer case are the request as published.
"""

from __future__ import annotations

import asyncio
import fcntl
import os
from pathlib import Path
from typing import BinaryIO

import orjson
import structlog

from warmhandoff.streams.contract.models import HandoffRequest
from warmhandoff.streams.core.codec import encode
from warmhandoff.streams.sinks.base import DeliveryResult
from warmhandoff.streams.sinks.case_index import CaseIndex, read_case
from warmhandoff.streams.sinks.exceptions import SinkConfigError, TransientDeliveryError

log = structlog.get_logger(__name__)


class FileSink:
    """Appends handoffs as JSON lines to `path`, at most once per handoff_id."""

    kind = "file"

    def __init__(self, path: Path, *, attach_window_hours: float = 72.0) -> None:
        self.path = path
        self._ids: set[str] = set()
        self._cases = CaseIndex(attach_window_hours)
        self._read_up_to = 0  # bytes of the file already scanned for ids
        self._lock = asyncio.Lock()  # one append at a time within this process

    async def start(self) -> None:
        """Create the file if needed and learn the handoff ids already in it."""
        try:
            await asyncio.to_thread(self._scan)
        except OSError as exc:
            raise SinkConfigError(f"file sink cannot use {self.path}: {exc.strerror}") from None
        log.info("sink.file.ready", handoffs_in_file=len(self._ids), cases=len(self._cases))

    async def deliver(self, request: HandoffRequest) -> DeliveryResult:
        """Append the handoff unless its id is already in the file."""
        async with self._lock:
            try:
                created = await asyncio.to_thread(self._append, request)
            except OSError as exc:  # a full or unmounted disk may come back
                raise TransientDeliveryError(
                    f"file sink cannot write {self.path}: {exc.strerror}", reason="unavailable"
                ) from None
        return DeliveryResult(reference=request.handoff_id, created=created)

    async def close(self) -> None:
        """Nothing to release: the file is opened per append."""

    def __contains__(self, handoff_id: object) -> bool:
        return handoff_id in self._ids

    def _scan(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self.path.open("a+b") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                self._catch_up(handle)
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)

    def _append(self, request: HandoffRequest) -> bool:
        with self.path.open("a+b") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                self._catch_up(handle)
                if request.handoff_id in self._ids:
                    return False
                case = self._cases.place(request)
                if case is None:
                    line = encode(request)
                else:  # the request's fields in their order, its case completed
                    values = orjson.loads(encode(request))
                    values["case"] = case.line()
                    line = orjson.dumps(values)
                handle.write(line + b"\n")
                handle.flush()
                os.fsync(handle.fileno())
                self._read_up_to = handle.tell()
                self._ids.add(request.handoff_id)
                if case is not None:
                    self._cases.remember(case)
                return True
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)

    def _catch_up(self, handle: BinaryIO) -> None:
        """Learn the ids in lines written since the last look (the caller holds the lock)."""
        size = handle.seek(0, os.SEEK_END)
        if size < self._read_up_to:  # truncated or replaced: start over
            self._ids.clear()
            self._cases.clear()
            self._read_up_to = 0
        handle.seek(self._read_up_to)
        lines = handle.read().split(b"\n")
        torn = lines.pop()  # empty when the file ends with a newline
        for line in lines:
            self._remember(line)
        if torn:  # a crash cut a write short: close the line so the next one starts clean
            log.warning("sink.file.torn_line", bytes=len(torn))
            self._remember(torn)
            handle.write(b"\n")
            handle.flush()
            size += 1
        self._read_up_to = size

    def _remember(self, line: bytes) -> None:
        if not line.strip():
            return
        try:
            values = orjson.loads(line)
            handoff_id = values.get("handoff_id")
        except (orjson.JSONDecodeError, AttributeError):
            log.warning("sink.file.unreadable_line", bytes=len(line))
            return
        if isinstance(handoff_id, str):
            self._ids.add(handoff_id)
        case = read_case(values.get("case"), values.get("first_unmet_need_at"))
        if case is not None:
            self._cases.remember(case)
