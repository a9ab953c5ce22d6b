"""The worker's local table state is claimed by the cluster it was built on."""

from __future__ import annotations

from pathlib import Path

import pytest

from warmhandoff.streams.runtime.broker import is_embedded
from warmhandoff.streams.runtime.state_owner import MARKER, TABLES, StaleStateError, claim_state


def some_state(data_dir: Path) -> Path:
    tables = data_dir / TABLES
    (tables / "conversations-0.db").mkdir(parents=True)
    (tables / "conversations-0.db" / "000001.sst").write_bytes(b"state")
    return tables


def test_a_first_start_records_the_cluster(tmp_path: Path) -> None:
    assert claim_state(tmp_path, "cluster-a", embedded=False) is False
    assert (tmp_path / MARKER).read_text().strip() == "cluster-a"


def test_the_same_cluster_keeps_its_state(tmp_path: Path) -> None:
    claim_state(tmp_path, "cluster-a", embedded=False)
    tables = some_state(tmp_path)
    assert claim_state(tmp_path, "cluster-a", embedded=False) is False
    assert (tables / "conversations-0.db" / "000001.sst").exists()


def test_a_restarted_embedded_broker_discards_the_stale_state(tmp_path: Path) -> None:
    claim_state(tmp_path, "warmhandoff-embedded-aaa", embedded=True)
    tables = some_state(tmp_path)
    assert claim_state(tmp_path, "warmhandoff-embedded-bbb", embedded=True) is True
    assert not tables.exists()
    assert (tmp_path / MARKER).read_text().strip() == "warmhandoff-embedded-bbb"


def test_another_real_cluster_is_refused_with_the_fix_and_nothing_deleted(tmp_path: Path) -> None:
    claim_state(tmp_path, "cluster-a", embedded=False)
    tables = some_state(tmp_path)
    with pytest.raises(StaleStateError) as caught:
        claim_state(tmp_path, "cluster-b", embedded=False)
    message = str(caught.value)
    assert "cluster-a" in message and "cluster-b" in message
    assert "WARMHANDOFF_DATA_DIR" in message and "\n" not in message
    assert tables.exists() and (tmp_path / MARKER).read_text().strip() == "cluster-a"


def test_no_state_or_no_cluster_id_means_nothing_to_compare(tmp_path: Path) -> None:
    claim_state(tmp_path, "cluster-a", embedded=False)
    assert claim_state(tmp_path, "cluster-b", embedded=False) is False  # no tables yet
    some_state(tmp_path)
    assert claim_state(tmp_path, None, embedded=False) is False


def test_embedded_cluster_ids() -> None:
    assert is_embedded("warmhandoff-embedded-0123456789ab")
    assert is_embedded("tansu_cluster")
    assert not is_embedded("MkU3OEVBNTcwNTJENDM2Qk")
    assert not is_embedded(None)
