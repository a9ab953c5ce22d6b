"""`warmhandoff bench --state-store N`: N conversation states in RocksDB, the process's RSS.

Runs in its own process (so the RSS is the store's, not the bench's): opens a RocksDB store
with the worker's table options (streams/storage.py) through Faust's own RocksDB options class,
writes N conversation states taken from a replay of simulated conversations (each under its
own conversation id), reads a random sample back, and prints one JSON object.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

from warmhandoff.agents.scenarios import generate

from .pipeline import new_state, process_turn
from .policy.loader import load_policy
from .storage import ROCKSDB_OPTIONS

READS = 300_000


def realistic_states(count: int, seed: int) -> list[bytes]:
    """Serialised states of `count` simulated conversations after all their turns."""
    policy = load_policy()
    conversations = generate(count, seed=seed, start=datetime(2026, 11, 25, tzinfo=UTC))
    states = []
    for conversation in conversations:
        state = new_state(conversation.conversation_id)
        for turn in conversation.turns:
            process_turn(state, turn, policy, now=turn.ts)
        states.append(state.dumps())
    return states


def peak_rss_mb() -> float:
    """This process's peak RSS in MiB (Linux)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return 0.0


def main(argv: Sequence[str] | None = None) -> int:
    """Fill the store and report."""
    from faust.stores.rocksdb import RocksDBOptions

    parser = argparse.ArgumentParser(prog="bench_state")
    parser.add_argument("--count", type=int, required=True)
    parser.add_argument("--path", type=Path, required=True)
    parser.add_argument("--seed", type=int, default=5)
    parser.add_argument(
        "--faust-defaults", action="store_true", help="Faust's own RocksDB options instead"
    )
    args = parser.parse_args(argv)
    samples = realistic_states(500, args.seed)
    baseline = peak_rss_mb()
    options = {} if args.faust_defaults else ROCKSDB_OPTIONS
    db = RocksDBOptions(**options, use_rocksdict=True).open(args.path)
    started = time.perf_counter()
    total_bytes = 0
    for i in range(args.count):
        value = samples[i % len(samples)]
        total_bytes += len(value)
        db[f"c-{i:08d}".encode()] = value
    written = time.perf_counter() - started
    rng = random.Random(args.seed)
    misses = sum(
        db.get(f"c-{rng.randrange(args.count):08d}".encode()) is None for _ in range(100_000)
    )
    db.close()
    disk = sum(f.stat().st_size for f in args.path.rglob("*") if f.is_file())
    sys.stdout.write(
        json.dumps(
            {
                "conversations": args.count,
                "state_bytes_per_conversation": round(total_bytes / max(args.count, 1)),
                "peak_rss_mb": round(peak_rss_mb(), 1),
                "rss_before_store_mb": round(baseline, 1),
                "disk_mb": round(disk / 1024**2, 1),
                "write_s": round(written, 1),
                "read_misses": misses,
            }
        )
        + "\n"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
