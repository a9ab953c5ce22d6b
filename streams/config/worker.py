"""The settings of `warmhandoff worker`: policy, table state, deadlines and the HTTP intake."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr

from warmhandoff.streams.config.service import WORKER_PORT, ServiceSettings, ops_port


class WorkerSettings(ServiceSettings):
    """The settings of `warmhandoff worker`: policy, table state, deadlines and the HTTP intake."""

    web_port: int = ops_port(WORKER_PORT)
    policy_file: Path | None = Field(
        None, description="the escalation policy (default: the policy shipped in the package)"
    )
    store: str = Field(
        "rocksdb://", description="table store: rocksdb:// in workers, memory:// in tests"
    )
    state_memory_mb: int = Field(
        64,
        ge=8,
        le=65536,
        description="one memory budget (MiB) for the block cache and write buffers of every "
        "RocksDB table partition of a worker",
    )
    standby_replicas: int = Field(
        default=1, ge=0, description="standby table replicas kept by other workers"
    )
    timer_interval_seconds: float = Field(
        default=1.0, gt=0, description="how often overdue gathers are looked for"
    )
    # Faust refuses to recover a table whose local offset is past the changelog's high-water
    # mark. The embedded broker (Tansu) reports the high-water mark of a multi-record batch as
    # its first offset + 1, so that check fails spuriously after a crash there: "auto" turns it
    # off on the embedded broker only (state updates are idempotent by seq either way).
    recovery_consistency_check: Literal["auto", "on", "off"] = Field(
        "auto", description="Faust's table recovery check; auto: off on the embedded broker only"
    )
    # At-least-once by measurement (docs/benchmarks.md, Delivery guarantees): Faust's
    # exactly-once keeps the RocksDB rows of a transaction that a kill -9 aborted, so the
    # aborted outputs of the redelivered turns are lost to read_committed readers, and it
    # drains far fewer turns a second; duplicates are absorbed by the sinks' dedup either way.
    processing_guarantee: Literal["at_least_once", "exactly_once"] = Field(
        "at_least_once",
        description="at_least_once (handoff ids are deterministic, every sink deduplicates on "
        "them) or Faust's exactly_once (Kafka transactions; slower, needs read_committed "
        "readers, and loses outputs there after a worker kill -9: docs/benchmarks.md)",
    )
    # How long the worker's fetch may wait for records. Apache Kafka answers a fetch as soon
    # as records arrive, so there the wait only bounds idle polling and Faust's is kept; the
    # embedded broker answers only after half the wait, so there it bounds decision latency
    # (streams/runtime/transport.py).
    fetch_max_wait_ms: int | None = Field(
        default=None,
        ge=1,
        le=30_000,
        description="longest wait of a worker's fetch for records; unset: 20 on the embedded "
        "broker, Faust's 1500 on any other",
    )
    text_embeddings: bool = Field(
        False,
        description="score requests for a human and risk with the sentence-embedding blend "
        "(needs the embeddings extra; about 10 ms more CPU a turn; docs/detection.md)",
    )
    audit_decisions: bool = Field(
        True,
        description="also publish every decision to audit.decisions, keyed by decision_id "
        "(false where the retention of escalation.decisions is enough: saves one send a turn)",
    )
    # Forwarding costs one more record for each misplaced one and keeps a bot on librdkafka's
    # default partitioner working; dead-lettering stops it at its first turn (docs/operations.md).
    mispartitioned: Literal["repartition", "dead_letter"] = Field(
        "repartition",
        description="a turn or handoff event on another partition than murmur2 of its "
        "conversation_id (librdkafka's default partitioner): repartition forwards it to its "
        "conversation's partition, dead_letter rejects it naming the fix; both count it "
        "(under exactly_once always dead_letter)",
    )
    delivery_timeout_seconds: float = Field(
        default=30.0,
        gt=0,
        description="a handoff no sink acknowledged (delivered) in this time is re-published",
    )
    max_delivery_attempts: int = Field(
        default=3,
        ge=1,
        le=20,
        description="publications of a handoff before it is failed and the customer told",
    )
    accept_timeout_seconds: float = Field(
        default=300.0,
        gt=0,
        description="a delivered handoff no human accepted in this time is re-routed to the "
        "queue's overflow, or the customer is told and it keeps waiting",
    )
    intake_token: SecretStr | None = Field(
        None, description="bearer token of POST /v1/handoff-events (never printed)"
    )
    intake_hmac_secret: SecretStr | None = Field(
        None,
        description="HMAC-SHA256 key for X-Warmhandoff-Signature on POST /v1/handoff-events "
        "(never printed); with neither this nor the token the route is off (404)",
    )
    intake_max_body_bytes: int = Field(
        default=65_536, ge=1, description="larger intake bodies get 413"
    )
    intake_rate_per_second: float = Field(
        default=50.0, gt=0, description="intake requests per second per client address (429)"
    )
    intake_burst: int = Field(
        default=100, ge=1, description="intake requests a client may send at once before 429"
    )
