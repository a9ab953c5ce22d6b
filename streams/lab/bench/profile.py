"""Where a worker's CPU goes: py-spy samples of the worker during `warmhandoff bench --profile`.

py-spy (an optional tool, `pip install py-spy`) samples the worker's Python stacks from
outside, so the worker runs unmodified. Each sample is attributed to the most specific part
of the system on its stack, scanning from the innermost frame outwards: our detectors, the
policy, the other pipeline stages, pydantic and JSON, the Kafka client, Faust and mode, the
event loop.
"""

from __future__ import annotations

import shutil
import signal
import subprocess
from collections import Counter
from pathlib import Path

from warmhandoff.streams.contract.errors import WarmhandoffError

#: (part, substrings of a frame's file) checked in this order on each frame.
PARTS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("detect", ("streams/detect/", "streams/core/detection.py")),
    ("decide", ("streams/policy/",)),
    ("prepare+transfer", ("streams/core/prepare.py", "streams/core/transfer.py")),
    ("pipeline (state, ids)", ("streams/core/pipeline.py", "streams/core/conversation.py")),
    (
        "app (publish, metrics)",
        ("streams/services/worker/app.py", "streams/runtime/metrics.py", "prometheus_client"),
    ),
    (
        "decode+encode (pydantic, json)",
        ("streams/core/codec.py", "pydantic", "streams/contract/models.py"),
    ),
    ("logging", ("structlog", "logging/")),
    ("aiokafka client", ("aiokafka/",)),
    ("faust+mode runtime", ("faust/", "mode/")),
    ("event loop", ("asyncio/", "uvloop", "selectors.py")),
)


def start(pid: int, output: Path) -> subprocess.Popen[bytes]:
    """Start sampling a process (until `finish`)."""
    exe = shutil.which("py-spy")
    if exe is None:
        raise WarmhandoffError("--profile needs py-spy: pip install py-spy")
    return subprocess.Popen(
        [
            exe,
            "record",
            "--pid",
            str(pid),
            "--rate",
            "250",
            "--format",
            "raw",
            "--output",
            str(output),
            "--nonblocking",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def finish(sampler: subprocess.Popen[bytes]) -> None:
    """Stop sampling; py-spy writes its file on SIGINT."""
    if sampler.poll() is None:
        sampler.send_signal(signal.SIGINT)
        try:
            sampler.wait(timeout=30)
        except subprocess.TimeoutExpired:
            sampler.kill()


def summarise(path: Path) -> dict[str, float]:
    """`attribute` of a py-spy raw file (empty when py-spy wrote none)."""
    return attribute(path.read_text()) if path.exists() else {}


def attribute(raw: str) -> dict[str, float]:
    """Share of samples per part, from py-spy's raw (collapsed stacks) output."""
    counts: Counter[str] = Counter()
    for line in raw.splitlines():
        stack, _, number = line.rpartition(" ")
        if not stack or not number.isdigit():
            continue
        counts[part_of(stack.split(";"))] += int(number)
    total = sum(counts.values()) or 1
    return {part: round(n / total, 3) for part, n in counts.most_common()}


def part_of(frames: list[str]) -> str:
    """The most specific part on a stack (innermost frame first)."""
    for frame in reversed(frames):
        for part, needles in PARTS:
            if any(needle in frame for needle in needles):
                return part
    return "other"
