"""The demo's working folder: worker state, the broker's output and one log file of every
process, all removed at exit. When the demo fails, its log moves next to the folder and is kept.

The demo process logs into the file through the project's logging set-up (structlog and the
standard library, aiokafka included), its children write their JSON log lines to the same file
(opened for appending, so lines from several processes do not overwrite each other), and log
records of ERROR and above also reach the terminal as one line each.
"""

from __future__ import annotations

import contextlib
import logging
import shutil
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path

import structlog

from warmhandoff.streams.runtime.logs import configure_logging

DEMO_LOGGERS = "warmhandoff.streams.lab.demo"


class Workspace:
    """A fresh folder under the temp dir for one demo run."""

    def __init__(self, run_id: str, parent: Path | None = None) -> None:
        base = Path(parent or tempfile.gettempdir())
        self.run_id = run_id
        self.root = Path(tempfile.mkdtemp(prefix=f"warmhandoff-demo-{run_id}-", dir=base))
        self.log_path = self.root / "demo.log"
        self.log_path.touch()
        self.state = self.root / "state"
        self.kept_log = base / f"warmhandoff-demo-{run_id}.log"

    @contextlib.contextmanager
    def logging(self, alert: Callable[[str], None]) -> Iterator[None]:
        """This process's log records into the log file while inside; ERROR records of the
        libraries (aiokafka's, say) also to `alert`, one line each."""
        root = logging.getLogger()
        handlers, level = list(root.handlers), root.level
        structlog_config = structlog.get_config()
        stream = self.log_path.open("a", encoding="utf-8")
        configure_logging("INFO", "json", stream=stream)
        root.addHandler(_Alert(alert))
        logging.captureWarnings(True)
        try:
            yield
        finally:
            logging.captureWarnings(False)
            root.handlers[:] = handlers
            root.setLevel(level)
            structlog.configure(**structlog_config)
            stream.close()

    def close(self, *, keep_log: bool, extra_logs: tuple[Path, ...] = ()) -> Path | None:
        """Remove the folder; with `keep_log`, first move the log (and `extra_logs` appended to
        it) next to the folder, and return where it is."""
        kept: Path | None = None
        if keep_log and self.log_path.exists():
            with self.log_path.open("ab") as log:
                for extra in extra_logs:
                    if extra.exists():
                        log.write(f"\n--- {extra.name} ---\n".encode())
                        log.write(extra.read_bytes())
            kept = Path(shutil.move(self.log_path, self.kept_log))
        shutil.rmtree(self.root, ignore_errors=True)
        return kept


class _Alert(logging.Handler):
    """ERROR and above as one line: the event and its fields, no traceback."""

    def __init__(self, alert: Callable[[str], None]) -> None:
        super().__init__(logging.ERROR)
        self._alert = alert
        self.setFormatter(
            structlog.stdlib.ProcessorFormatter(
                foreign_pre_chain=[structlog.stdlib.add_logger_name],
                processors=[
                    structlog.stdlib.ProcessorFormatter.remove_processors_meta,
                    _drop_noise,
                    structlog.processors.KeyValueRenderer(key_order=["event", "logger"]),
                ],
            )
        )

    def emit(self, record: logging.LogRecord) -> None:
        if record.name.startswith(DEMO_LOGGERS):
            return  # the demo reports its own failures in its error line
        try:
            text = self.format(record)
            self._alert(text.splitlines()[0] if text else record.levelname)
        except Exception:  # noqa: BLE001 - the standard handler contract: report, go on
            self.handleError(record)


def _drop_noise(
    logger: object, name: str, event: structlog.types.EventDict
) -> structlog.types.EventDict:
    for key in ("timestamp", "level", "exc_info", "stack_info"):
        event.pop(key, None)
    return event
