"""`warmhandoff demo`: the whole pipeline on a fresh machine, in about a minute.

Starts the embedded broker (unless WARMHANDOFF_BOOTSTRAP_SERVERS is set), applies topics.yaml
under a fresh prefix, runs one worker and the live router (`warmhandoff router`) as child
processes, and drives simulated bots (mostly ordinary conversations the bot handles alone,
some for every trigger family) and a simulated contact centre (desk.py) whose agents the router
routes handoffs to: delivered → offered by the router → accepted → resolved (or handed back)
on `handoff.events`, the bots paused and resumed around each.

stdout carries only the result: a summary table (drive.py tallies, render.py draws) and one
sample handoff, shortened to what a human at the desk reads first (`full_handoff`: the whole
JSON). Progress goes to the terminal, or to stderr when stdout is not one (progress.py). Every
log line of this process and its children goes to one log file in a working folder that is
removed at exit, whatever ends the run; when the demo fails, the log is kept and named in the
error line (workspace.py).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType

import structlog
from rich.console import Console

from warmhandoff.streams.config.worker import WorkerSettings
from warmhandoff.streams.contract.errors import WarmhandoffError
from warmhandoff.streams.contract.topics import Topics, load_topics
from warmhandoff.streams.lab.demo.drive import Outcome, drive
from warmhandoff.streams.lab.demo.page import keep_desk_open
from warmhandoff.streams.lab.demo.processes import Service, stop_all
from warmhandoff.streams.lab.demo.progress import Progress
from warmhandoff.streams.lab.demo.render import sample_section, summary_table
from warmhandoff.streams.lab.demo.workspace import Workspace
from warmhandoff.streams.policy.loader import PolicyError, load_policy
from warmhandoff.streams.runtime.broker import EmbeddedBroker, free_port
from warmhandoff.streams.runtime.topic_admin import apply_topics

log = structlog.get_logger(__name__)

#: Failures whose message says it all; anything else is named by its type as well.
KNOWN_FAILURES = (WarmhandoffError, PolicyError, OSError)


@dataclass
class _Running:
    """What the demo started, so that whatever ends the run stops it."""

    broker: EmbeddedBroker | None = None
    services: list[Service] = field(default_factory=list)
    terminated: bool = False  # SIGTERM arrived

    def stop(self) -> None:
        """The processes first (they drain into the broker), the broker last."""
        stop_all(self.services)
        if self.broker is not None:
            self.broker.stop()

    def logs(self) -> tuple[Path, ...]:
        """Logs kept apart from the demo's log file (the broker's)."""
        return (self.broker.log_path,) if self.broker is not None else ()


def run_demo(
    *,
    conversations: int,
    rate: float,
    seed: int,
    full_handoff: bool = False,
    desk_port: int | None = None,
) -> int:
    """Run the demo end to end; 0 when the pipeline produced what the scenarios expect.

    With `desk_port`, the desk page stays up on that port after the summary until Ctrl-C.
    """
    out = Console()
    progress = Progress(Console(stderr=not out.is_terminal))
    workspace = Workspace(uuid.uuid4().hex[:6])
    running = _Running()
    shown: list[Outcome] = []

    def show(outcome: Outcome) -> None:
        shown.append(outcome)
        _print_outcome(out, outcome, full_handoff)

    try:
        outcome = _run(
            workspace,
            progress,
            running,
            conversations,
            rate,
            seed,
            desk_port=desk_port,
            show=show,
            say=lambda text: out.print(text, soft_wrap=True),  # tokens whole, copyable
        )
    except KeyboardInterrupt:
        _close(workspace, running, keep_log=False)
        if shown:  # Ctrl-C is how the desk page ends
            progress.note("the desk page, the processes and the broker stopped")
            return 0 if shown[0].problem is None else 1
        progress.note("interrupted: the broker and the processes stopped, their files removed")
        raise
    except BaseException as exc:
        kept = _close(workspace, running, keep_log=True)
        if not isinstance(exc, Exception):
            raise  # SystemExit and the like pass as they are, the log kept all the same
        reason = str(exc) if isinstance(exc, KNOWN_FAILURES) else f"{type(exc).__name__}: {exc}"
        first = reason.strip().splitlines()[0] if reason.strip() else type(exc).__name__
        raise WarmhandoffError(f"{first} (log: {kept})") from exc
    kept = _close(workspace, running, keep_log=outcome.problem is not None)
    if not shown:
        _print_outcome(out, outcome, full_handoff)
    if outcome.problem is not None:
        progress.alert(f"warmhandoff: error: {outcome.problem} (log: {kept})")
        return 1
    return 0


def _print_outcome(out: Console, outcome: Outcome, full_handoff: bool) -> None:
    out.print()
    out.print(summary_table(outcome.summary))
    out.print()
    sample = sample_section(outcome.sample, outcome.told, full=full_handoff)
    out.print(sample, soft_wrap=full_handoff)  # whole JSON lines, copyable


def _close(workspace: Workspace, running: _Running, *, keep_log: bool) -> Path | None:
    """Remove the working folder, keeping the log (with the broker's) when asked."""
    with _signals_deferred():
        return workspace.close(keep_log=keep_log, extra_logs=running.logs())


def _run(
    workspace: Workspace,
    progress: Progress,
    running: _Running,
    conversations: int,
    rate: float,
    seed: int,
    *,
    desk_port: int | None,
    show: Callable[[Outcome], None],
    say: Callable[[str], None],
) -> Outcome:
    """The demo with its log going to the workspace and the progress on display."""
    with progress, workspace.logging(progress.alert):
        progress.note(f"log file: {workspace.log_path} (removed at exit, kept if the demo fails)")
        try:
            return asyncio.run(
                _demo(
                    workspace,
                    progress,
                    running,
                    conversations,
                    rate,
                    seed,
                    desk_port=desk_port,
                    show=show,
                    say=say,
                )
            )
        except asyncio.CancelledError:
            if running.terminated:
                raise KeyboardInterrupt from None  # SIGTERM ends the demo like Ctrl-C
            raise
        except Exception:
            log.exception("demo.failed")  # the traceback, for the log that is kept
            raise
        finally:
            with _signals_deferred():
                progress.step(
                    "stopping the worker, the router and the broker",
                    waiting_on="the processes to drain and exit",
                    slow_after=10,
                )
                running.stop()
                progress.done("worker, router and broker stopped")


async def _demo(
    workspace: Workspace,
    progress: Progress,
    running: _Running,
    conversations: int,
    rate: float,
    seed: int,
    *,
    desk_port: int | None,
    show: Callable[[Outcome], None],
    say: Callable[[str], None],
) -> Outcome:
    began = time.monotonic()
    ticker = asyncio.create_task(progress.ticking())
    try:
        with _sigterm_cancels(running):
            bootstrap = await _broker(workspace, progress, running)
            settings = WorkerSettings(
                bootstrap_servers=bootstrap,
                topic_prefix=f"demo-{workspace.run_id}.",
                app_id=f"warmhandoff-demo-{workspace.run_id}",
                data_dir=workspace.state,
                embedded_broker="never",
            )
            policy = load_policy(settings.policy_file)  # a bad one fails before any process
            topics = await _topics(settings, progress)
            running.services = [
                Service(command, settings, workspace.log_path) for command in ("worker", "router")
            ]
            for service in running.services:
                service.start()
            outcome = await drive(
                settings,
                topics,
                running.services,
                progress,
                policy=policy,
                conversations=conversations,
                rate=rate,
                seed=seed,
                began=began,
                launched=time.monotonic(),
            )
            if desk_port is not None and outcome.problem is None:
                show(outcome)
                await keep_desk_open(
                    settings,
                    topics,
                    policy,
                    running.services,
                    progress,
                    workspace.log_path,
                    port=desk_port,
                    say=say,
                )
            return outcome
    finally:
        ticker.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await ticker


@contextlib.contextmanager
def _sigterm_cancels(running: _Running) -> Iterator[None]:
    """SIGTERM cancels the demo's main task while inside, and marks the run as terminated.

    Cancelling unwinds the clients in order; the CLI's own SIGTERM handler raises
    KeyboardInterrupt wherever the loop happens to be, which could skip that.
    """
    main = asyncio.current_task()
    if main is None or threading.current_thread() is not threading.main_thread():
        yield  # signals reach the main thread only
        return
    loop = asyncio.get_running_loop()
    previous = signal.getsignal(signal.SIGTERM)

    def terminate() -> None:
        running.terminated = True
        main.cancel()

    loop.add_signal_handler(signal.SIGTERM, terminate)
    try:
        yield
    finally:
        loop.remove_signal_handler(signal.SIGTERM)
        if previous is not None:  # None: a handler not set from Python, which stays
            signal.signal(signal.SIGTERM, previous)


async def _broker(workspace: Workspace, progress: Progress, running: _Running) -> str:
    """The bootstrap address: the configured cluster, or an embedded broker started here."""
    explicit = os.environ.get("WARMHANDOFF_BOOTSTRAP_SERVERS")
    if explicit:
        progress.note(f"using the Kafka cluster at {explicit}")
        return explicit
    progress.step(
        "starting the embedded broker (Tansu)",
        waiting_on="the broker to answer Kafka metadata requests",
        slow_after=5,
    )
    running.broker = EmbeddedBroker(port=free_port(), data_dir=workspace.root)
    await running.broker.astart()
    progress.done(
        f"embedded broker (Tansu) up at {running.broker.bootstrap} ({progress.elapsed():.1f} s);"
        " bots on librdkafka (kcat, confluent-kafka) cannot connect to it: for those, run"
        " `warmhandoff kafka` and set WARMHANDOFF_BOOTSTRAP_SERVERS"
    )
    return running.broker.bootstrap


async def _topics(settings: WorkerSettings, progress: Progress) -> Topics:
    """topics.yaml applied under the run's prefix."""
    topics = load_topics(settings.topics_file, prefix=settings.topic_prefix, app_id=settings.app_id)
    progress.step(
        "creating the topics",
        waiting_on="the broker to create the topics of topics.yaml",
        slow_after=10,
    )
    report = await apply_topics(topics, settings)
    if not report.ok:
        raise WarmhandoffError("could not apply topics.yaml")
    progress.done(
        f"{len(report.created)} topics created from topics.yaml, prefix {settings.topic_prefix}"
    )
    return topics


@contextlib.contextmanager
def _signals_deferred() -> Iterator[None]:
    """Ctrl-C or SIGTERM during clean-up takes effect once it is done, not halfway."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    caught: list[int] = []

    def defer(signum: int, frame: FrameType | None) -> None:
        caught.append(signum)

    previous = {sig: signal.signal(sig, defer) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        if caught:
            raise KeyboardInterrupt
