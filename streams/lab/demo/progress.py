"""The demo's progress: what it is doing and what it waits on, so it never stalls silently.

On a terminal, one live line (rich) with a spinner, the step, its counters and what it waits
on, flagged once the step runs longer than it usually does; finished steps stay above it as
✓ lines. Anywhere else (a pipe, a file, CI) plain lines without escape codes: one when a step
starts and one when it ends, its counters every few seconds while they change, and what it
waits on each time the step overruns its usual time again.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass
from types import TracebackType

from rich.console import Console, Group, RenderableType
from rich.live import Live
from rich.spinner import Spinner
from rich.text import Text

PREFIX = "[demo] "


@dataclass
class _Step:
    doing: str
    waiting_on: str
    slow_after: float
    started: float
    counts: Callable[[], str] | None
    counts_text: str = ""
    printed_counts: str = ""
    printed_at: float = 0.0
    slow_notes: int = 0


class Progress:
    """Steps with counters and a reason to wait; a context manager around the live display."""

    def __init__(
        self,
        console: Console,
        *,
        clock: Callable[[], float] = time.monotonic,
        plain_every: float = 2.0,
    ) -> None:
        self.console = console
        # Looked up at each write: a live display on the terminal wraps sys.stderr meanwhile.
        self._errors = Console(stderr=True)
        self.live = console.is_terminal and not console.is_dumb_terminal
        self._clock = clock
        self._plain_every = plain_every
        self._step: _Step | None = None
        self._spinner = Spinner("dots")
        self._display: Live | None = None

    def __enter__(self) -> Progress:
        if self.live:
            self._display = Live(self, console=self.console, refresh_per_second=8, transient=True)
            self._display.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._display is not None:
            self._display.stop()
            self._display = None

    def step(
        self,
        doing: str,
        *,
        waiting_on: str,
        slow_after: float,
        counts: Callable[[], str] | None = None,
    ) -> None:
        """Start a step: what the demo does, what it waits on, how long it usually takes."""
        self._step = _Step(doing, waiting_on, slow_after, self._clock(), counts)
        if not self.live:
            self._line(f"{doing} …")

    def waiting_on(self, text: str) -> None:
        """What the current step waits on now (it may change as parts become ready)."""
        if self._step is not None:
            self._step.waiting_on = text

    def done(self, result: str) -> None:
        """End the current step with what came of it."""
        self._step = None
        if self.live:
            self.console.print(Text.assemble(("✓ ", "green"), result))
        else:
            self._line(result)

    def note(self, text: str) -> None:
        """One line that stays (where the log is, a step given up on)."""
        if self.live:
            self.console.print(Text(text))
        else:
            self._line(text)

    def alert(self, text: str) -> None:
        """One line the user must see, on stderr whatever the display."""
        self._errors.print(Text(text, style="red"), soft_wrap=True)

    def elapsed(self) -> float:
        """Seconds since the current step started (0 without one)."""
        return self._clock() - self._step.started if self._step is not None else 0.0

    def tick(self) -> None:
        """Refresh the counters; without a terminal, print what is due."""
        step = self._step
        if step is None:
            return
        if step.counts is not None:
            step.counts_text = step.counts()
        if self.live:
            return
        now = self._clock()
        due = now - step.printed_at >= self._plain_every
        if step.counts_text and step.counts_text != step.printed_counts and due:
            self._line(f"  {step.counts_text}")
            step.printed_counts, step.printed_at = step.counts_text, now
        overrun = now - step.started
        if overrun >= step.slow_after * (step.slow_notes + 1):
            step.slow_notes += 1
            self._line(f"  still waiting after {overrun:.0f} s on {step.waiting_on}")

    async def ticking(self, every: float = 0.25) -> None:
        """`tick` until cancelled: counters are read on the event loop that changes them."""
        while True:
            self.tick()
            await asyncio.sleep(every)

    def __rich__(self) -> RenderableType:
        step = self._step
        if step is None:
            return Text("")
        seconds = self._clock() - step.started
        self._spinner.update(text=Text(f"{step.doing}  {seconds:.0f} s"))
        lines: list[RenderableType] = [self._spinner]
        if step.counts_text:
            lines.append(Text(f"  {step.counts_text}"))
        if seconds >= step.slow_after:
            lines.append(
                Text(
                    f"  still waiting on {step.waiting_on} (longer than the usual "
                    f"{step.slow_after:.0f} s)",
                    style="yellow",
                )
            )
        else:
            lines.append(Text(f"  waiting on {step.waiting_on}", style="dim"))
        return Group(*lines)

    def _line(self, text: str) -> None:
        self.console.print(Text(PREFIX + text), soft_wrap=True)
