"""`warmhandoff bench --state-store N`: N conversation states in RocksDB, the process's RSS.

Runs in its own process (so the RSS is the stores', not the bench's): opens `--stores` RocksDB
stores (a worker opens one per table partition) with the worker's table options and memory
budget (streams/runtime/storage.py) through Faust's own RocksDB options class, or with each store
bounded on its own (`--per-store`) or Faust's defaults (`--faust-defaults`), writes N
conversation states taken from a replay of simulated conversations (each under its own
conversation id, spread over the stores), reads a random sample back, and prints one JSON
object with the RSS half-way through the writes, after them and after the reads.
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
from typing import Any

from warmhandoff.agents.scenarios import generate
from warmhandoff.streams.core.pipeline import new_state, process_turn
from warmhandoff.streams.policy.loader import load_policy
from warmhandoff.streams.runtime.storage import (
    MIB,
    ROCKSDB_OPTIONS,
    BudgetedRocksDBOptions,
    use_memory_budget,
)

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
    return _status_mb("VmHWM:")


def rss_mb() -> float:
    """This process's current RSS in MiB (Linux)."""
    return _status_mb("VmRSS:")


def _status_mb(field: str) -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field):
            return int(line.split()[1]) / 1024
    return 0.0


def open_stores(paths: Sequence[Path], mode: str, budget_mb: int) -> list[Any]:
    """Open one store per path: Faust's defaults, the per-store bounds, or one shared budget."""
    from faust.stores.rocksdb import RocksDBOptions

    if mode == "faust-defaults":
        options = RocksDBOptions(use_rocksdict=True)
    elif mode == "per-store":
        options = RocksDBOptions(**ROCKSDB_OPTIONS, use_rocksdict=True)
    else:
        budget = use_memory_budget(budget_mb * MIB)
        options = BudgetedRocksDBOptions(budget, **ROCKSDB_OPTIONS, use_rocksdict=True)
    return [options.open(path) for path in paths]


def main(argv: Sequence[str] | None = None) -> int:
    """Fill the stores and report."""
    parser = argparse.ArgumentParser(prog="bench_state")
    parser.add_argument("--count", type=int, required=True)
    parser.add_argument("--path", type=Path, required=True)
    parser.add_argument("--seed", type=int, default=5)
    parser.add_argument(
        "--stores",
        type=int,
        default=1,
        help="spread the conversations over this many stores, as a worker spreads them over "
        "its table partitions (16: two tables, eight partitions each)",
    )
    modes = parser.add_mutually_exclusive_group()
    modes.add_argument(
        "--faust-defaults", action="store_true", help="Faust's own RocksDB options instead"
    )
    modes.add_argument(
        "--per-store",
        action="store_true",
        help="each store with its own bounded cache and write buffers (the worker before the "
        "shared budget)",
    )
    parser.add_argument(
        "--budget-mb", type=int, default=64, help="the shared budget (the worker's default)"
    )
    args = parser.parse_args(argv)
    if args.stores < 1:
        parser.error("--stores must be at least 1")
    mode = "faust-defaults" if args.faust_defaults else "per-store" if args.per_store else "shared"
    samples = realistic_states(500, args.seed)
    baseline = peak_rss_mb()
    paths = (
        [args.path / f"store-{n}" for n in range(args.stores)] if args.stores > 1 else [args.path]
    )
    dbs = open_stores(paths, mode, args.budget_mb)
    started = time.perf_counter()
    total_bytes = 0
    rss_half = 0.0
    for i in range(args.count):
        value = samples[i % len(samples)]
        total_bytes += len(value)
        dbs[i % len(dbs)][f"c-{i:08d}".encode()] = value
        if i == args.count // 2:
            rss_half = rss_mb()
    written = time.perf_counter() - started
    rss_written = rss_mb()
    rng = random.Random(args.seed)
    started = time.perf_counter()
    misses = 0
    for _ in range(READS):
        i = rng.randrange(args.count)
        misses += dbs[i % len(dbs)].get(f"c-{i:08d}".encode()) is None
    read = time.perf_counter() - started
    rss_read = rss_mb()
    for db in dbs:
        db.close()
    disk = sum(f.stat().st_size for f in args.path.rglob("*") if f.is_file())
    sys.stdout.write(
        json.dumps(
            {
                "conversations": args.count,
                "stores": args.stores,
                "options": mode,
                "budget_mb": args.budget_mb if mode == "shared" else None,
                "state_bytes_per_conversation": round(total_bytes / max(args.count, 1)),
                "peak_rss_mb": round(peak_rss_mb(), 1),
                "rss_before_store_mb": round(baseline, 1),
                "rss_half_written_mb": round(rss_half, 1),
                "rss_written_mb": round(rss_written, 1),
                "rss_after_reads_mb": round(rss_read, 1),
                "disk_mb": round(disk / 1024**2, 1),
                "write_s": round(written, 1),
                "reads": READS,
                "read_s": round(read, 1),
                "read_misses": misses,
            }
        )
        + "\n"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
