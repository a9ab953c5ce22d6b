"""How the worker's RocksDB tables are configured, so memory stays bounded.

Faust's RocksDB defaults give every table partition a 2 GiB block cache and three 64 MiB write
buffers: fine for one small table, not for a worker holding a million conversations across
eight partitions. These options bound the caches; RocksDB then keeps on disk what does not fit
(`warmhandoff bench --state-store 1000000` measures it, README "Performance").
"""

from __future__ import annotations

from typing import Any

#: Passed as `options` to the worker's Faust tables (faust.stores.rocksdb.RocksDBOptions).
ROCKSDB_OPTIONS: dict[str, Any] = {
    "block_cache_size": 32 * 1024**2,
    "write_buffer_size": 16 * 1024**2,
    "max_write_buffer_number": 2,
    "target_file_size_base": 32 * 1024**2,
}
