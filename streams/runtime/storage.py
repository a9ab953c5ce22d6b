"""How the worker's RocksDB tables are configured, so memory stays bounded.

Faust's RocksDB defaults give every table partition a 2 GiB block cache and three 64 MiB write
buffers: fine for one small table, not for a worker holding a million conversations across
eight partitions. `ROCKSDB_OPTIONS` bounds each store's files and buffers.

A worker opens one store per table partition (two tables, eight partitions each), and bounds per
store still add up: sixteen 32 MiB block caches and two 16 MiB write buffers each, about 1 GiB,
filling slowly as conversations arrive, which is RSS growth a soak sees. So the worker's stores
share one memory budget instead (`WorkerSettings.state_memory_mb`): one LRU block cache for all of
them, and one write buffer manager that charges every memtable to that cache and makes RocksDB
flush once the memtables pass half the budget. RocksDB then keeps on disk what does not fit.
`warmhandoff bench --state-store 1000000` measures it over a worker's sixteen stores (figures in
docs/benchmarks.md).
"""

from __future__ import annotations

from typing import Any

import rocksdict
from faust.stores import STORES
from faust.stores.rocksdb import RocksDBOptions, Store

#: Passed as `options` to the worker's Faust tables (faust.stores.rocksdb.RocksDBOptions); with
#: the budget, its block cache size is replaced by the shared cache.
ROCKSDB_OPTIONS: dict[str, Any] = {
    "block_cache_size": 32 * 1024**2,
    "write_buffer_size": 16 * 1024**2,
    "max_write_buffer_number": 2,
    "target_file_size_base": 32 * 1024**2,
}

#: The URL scheme under which Faust finds `BudgetedStore` (see `faust_store`).
SCHEME = "warmhandoff-rocksdb"

MIB = 1024**2


class MemoryBudget:
    """One block cache and one write buffer manager, shared by every store that uses them."""

    def __init__(self, total_bytes: int) -> None:
        if total_bytes < 8 * MIB:
            raise ValueError(f"a state memory budget under 8 MiB is too small: {total_bytes}")
        self.total_bytes = total_bytes
        self.cache = rocksdict.Cache(total_bytes)
        # Memtables are charged to the cache, so the cache's capacity bounds both; they may
        # use up to half of it before the manager flushes (no stall: writes never block).
        self.write_buffers = rocksdict.WriteBufferManager.new_write_buffer_manager_with_cache(
            total_bytes // 2, False, self.cache
        )

    def used_bytes(self) -> int:
        """Bytes the shared cache holds: cached blocks and the memtables charged to it."""
        return int(self.cache.get_usage())

    def memtable_bytes(self) -> int:
        """Bytes the shared write buffer manager currently counts for memtables."""
        return int(self.write_buffers.get_usage())


_budget: MemoryBudget | None = None


def use_memory_budget(total_bytes: int) -> MemoryBudget:
    """Set (or resize) the budget every `BudgetedStore` of this process opens its stores with.

    Called by the worker before its tables open; a store opened earlier keeps the budget it
    was opened with.
    """
    global _budget
    if _budget is None or _budget.total_bytes != total_bytes:
        _budget = MemoryBudget(total_bytes)
    return _budget


def memory_budget() -> MemoryBudget:
    """The process's budget (64 MiB unless `use_memory_budget` set another)."""
    return _budget if _budget is not None else use_memory_budget(64 * MIB)


class BudgetedRocksDBOptions(RocksDBOptions):
    """Faust's options, with the block cache and write buffers of a shared `MemoryBudget`."""

    def __init__(self, budget: MemoryBudget, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.budget = budget

    def as_options(self) -> Any:
        options = super().as_options()
        table = rocksdict.BlockBasedOptions()
        table.set_bloom_filter(self.bloom_filter_size, True)
        table.set_block_cache(self.budget.cache)
        # Index and filter blocks grow with the data on disk: in the cache, they count
        # against the budget too (the level-0 ones pinned, as they are read on every get).
        table.set_cache_index_and_filter_blocks(True)
        table.set_pin_l0_filter_and_index_blocks_in_cache(True)
        table.set_index_type(rocksdict.BlockBasedIndexType.binary_search())
        options.set_block_based_table_factory(table)
        options.set_write_buffer_manager(self.budget.write_buffers)
        return options


class BudgetedStore(Store):
    """Faust's RocksDB table store whose partitions share the process's memory budget."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if self.use_rocksdict:
            self.rocksdb_options = BudgetedRocksDBOptions(
                memory_budget(), **(self.options or {}), use_rocksdict=True
            )


def faust_store(store: str) -> str:
    """The store URL Faust is given for the `store` setting.

    `rocksdb://` becomes `BudgetedStore` (registered with Faust under `SCHEME`); any other
    store (`memory://` in tests) is passed through unchanged.
    """
    if not store.startswith("rocksdb://"):
        return store
    STORES.aliases[SCHEME] = f"{__name__}:BudgetedStore"
    return SCHEME + store[len("rocksdb") :]
