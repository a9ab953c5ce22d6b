"""Which Kafka cluster a worker's local table state belongs to.

A worker keeps its tables in RocksDB under WARMHANDOFF_DATA_DIR and rebuilds them from their
changelog topics. State built on one cluster is wrong on another: a conversation remembered
there has its turns skipped here as already applied, so a bot gets no directive and nothing
says why. The embedded broker keeps nothing between restarts, so every restart is a new
cluster (it gets a new cluster id). At start the worker compares the cluster id recorded
beside its state with the broker's: on the embedded broker stale state is discarded, with one
log line saying so; on any other cluster the worker refuses to start and names the fix, since
production state is never deleted by the program.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import structlog

from warmhandoff.streams.contract.errors import ConfigError

log = structlog.get_logger(__name__)

#: The file beside the tables that names the cluster they were built on.
MARKER = "cluster-id"
#: Where Faust keeps the tables under the data dir (`{datadir}/v{table version}/tables`).
TABLES = Path("v1") / "tables"


class StaleStateError(ConfigError):
    """The local table state was built on another Kafka cluster."""


def claim_state(data_dir: Path, cluster: str | None, *, embedded: bool) -> bool:
    """Record `cluster` as the owner of the state in `data_dir`; True when stale state from
    another cluster was discarded. StaleStateError (with the fix) when it is not discarded."""
    if cluster is None:
        return False  # a broker that names no cluster: nothing to compare
    marker = data_dir / MARKER
    recorded = marker.read_text(encoding="utf-8").strip() if marker.is_file() else None
    tables = data_dir / TABLES
    has_state = tables.is_dir() and any(tables.iterdir())
    discarded = False
    if recorded is not None and recorded != cluster and has_state:
        if not embedded:
            raise StaleStateError(
                f"the table state in {tables} was built on Kafka cluster {recorded}, but the "
                f"broker is cluster {cluster}: point WARMHANDOFF_DATA_DIR at an empty folder, "
                f"or delete {tables} if that state is no longer wanted"
            )
        shutil.rmtree(tables)
        discarded = True
        log.warning(
            "worker.state_discarded",
            path=str(tables),
            recorded_cluster=recorded,
            cluster=cluster,
            why="the embedded broker keeps nothing between restarts: every conversation "
            "starts afresh",
        )
    data_dir.mkdir(parents=True, exist_ok=True)
    marker.write_text(cluster + "\n", encoding="utf-8")
    return discarded
