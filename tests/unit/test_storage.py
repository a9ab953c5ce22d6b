"""The worker's RocksDB table partitions share one memory budget (streams/runtime/storage.py)."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path

import faust.stores
import pytest

from warmhandoff.streams.config.worker import WorkerSettings
from warmhandoff.streams.contract.topics import load_topics
from warmhandoff.streams.policy.loader import load_policy
from warmhandoff.streams.runtime import storage
from warmhandoff.streams.runtime.metrics import REGISTRY
from warmhandoff.streams.runtime.storage import (
    MIB,
    ROCKSDB_OPTIONS,
    BudgetedRocksDBOptions,
    BudgetedStore,
    MemoryBudget,
    faust_store,
    memory_budget,
    use_memory_budget,
)
from warmhandoff.streams.services.worker.app import Pipeline


@pytest.fixture(autouse=True)
def fresh_budget() -> Iterator[None]:
    """Each test starts without a process budget and leaves none behind."""
    storage._budget = None
    yield
    storage._budget = None


def test_rocksdb_is_served_by_the_budgeted_store_and_other_stores_pass_through() -> None:
    url = faust_store("rocksdb://")
    assert url == f"{storage.SCHEME}://"
    assert faust.stores.by_url(url) is BudgetedStore
    assert faust_store("memory://") == "memory://"


def test_the_worker_tables_use_the_budget_its_settings_name(tmp_path: Path) -> None:
    settings = WorkerSettings(store="rocksdb://", data_dir=tmp_path, web_port=0, state_memory_mb=24)
    topics = load_topics(prefix="sb.", app_id="sb")
    pipeline = Pipeline(settings, topics, load_policy())
    for table in (pipeline.conversations, pipeline.pending):
        store = table.data
        assert isinstance(store, BudgetedStore)
        assert isinstance(store.rocksdb_options, BudgetedRocksDBOptions)
        assert store.rocksdb_options.budget is memory_budget()
    assert memory_budget().total_bytes == 24 * MIB
    # Its use is on /metrics, against the budget, read at each scrape.
    assert REGISTRY.get_sample_value("warmhandoff_state_store_memory_budget_bytes") == 24 * MIB
    before = REGISTRY.get_sample_value("warmhandoff_state_store_memory_bytes")
    db = pipeline.conversations.data.rocksdb_options.open(tmp_path / "probe")
    for i in range(2000):
        db[f"c-{i}".encode()] = os.urandom(1024)
    after = REGISTRY.get_sample_value("warmhandoff_state_store_memory_bytes")
    db.close()
    assert before is not None and after is not None
    assert after > before


def test_stores_share_the_write_buffers_and_flush_within_the_budget(tmp_path: Path) -> None:
    # Four stores each allowed two 16 MiB memtables would hold all 40 MiB of these writes in
    # memory; sharing a 16 MiB budget, their memtables (counted as the memory their arenas
    # allocated) stay within the budget: past its half, each write makes RocksDB flush.
    budget = use_memory_budget(16 * MIB)
    options = BudgetedRocksDBOptions(budget, **ROCKSDB_OPTIONS, use_rocksdict=True)
    dbs = [options.open(tmp_path / f"store-{n}") for n in range(4)]
    value = os.urandom(1024)
    seen = []
    for i in range(40 * 1024):
        dbs[i % 4][f"c-{i:08d}".encode()] = value
        if i % 4096 == 4095:
            seen.append(budget.memtable_bytes())
    assert all(db[f"c-{i:08d}".encode()] == value for i, db in zip(range(8), dbs * 2, strict=True))
    for db in dbs:
        db.close()
    assert min(seen) > 0  # every store's memtables are counted by the shared manager
    assert max(seen) <= budget.total_bytes


def test_a_budget_too_small_to_work_is_refused() -> None:
    with pytest.raises(ValueError, match="too small"):
        MemoryBudget(4 * MIB)
    with pytest.raises(ValueError):
        WorkerSettings(state_memory_mb=4)


def test_the_state_bench_spreads_conversations_over_stores_and_reads_them_all_back(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from warmhandoff.streams.lab.bench.state import main

    for extra in ([], ["--per-store"]):
        path = tmp_path / (extra[0].strip("-") if extra else "shared")
        assert main(["--count", "3000", "--stores", "4", "--path", str(path), *extra]) == 0
        report = json.loads(capsys.readouterr().out)
        assert report["stores"] == 4
        assert report["options"] == ("per-store" if extra else "shared")
        assert report["read_misses"] == 0
        assert sorted(p.name for p in path.iterdir()) == [f"store-{n}" for n in range(4)]
