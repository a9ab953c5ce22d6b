"""Prometheus metrics: the catalogue, in one place.

Names carry the `warmhandoff_` prefix, base units (seconds) and `_total` on counters. Labels
come only from small fixed sets (stage, trigger, queue, priority, action, reason, sink, topic)
and never carry a conversation, customer or agent id. Queue, trigger and reason values come
from the policy and the code, so their number is bounded by configuration, not by traffic.

Metrics of the other processes (routing and queues, sinks, KPIs) are declared here with the
pipeline's so dashboards and alerts have stable names; they stay at zero until the process
that updates them runs (docs/operations.md says which process that is).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram
from prometheus_client.metrics import MetricWrapperBase

if TYPE_CHECKING:
    from warmhandoff.streams.core.pipeline import StepResult

REGISTRY = CollectorRegistry(auto_describe=True)

#: Stage timings are per turn: microseconds to milliseconds.
STAGE_BUCKETS = (0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.1)
#: Decision latency: from the turn's timestamp to the handoff produced.
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)

TURNS = Counter(
    "warmhandoff_turns_processed_total",
    "Turn events applied to conversation state (redeliveries skipped are not counted).",
    registry=REGISTRY,
)
TURNS_REPLAYED = Counter(
    "warmhandoff_turns_redelivered_total",
    "Turn events skipped because their seq was already applied (at-least-once redelivery).",
    registry=REGISTRY,
)
STAGE_SECONDS = Histogram(
    "warmhandoff_stage_seconds",
    "CPU-bound processing time per turn and stage (decode, pipeline, publish).",
    ["stage"],
    buckets=STAGE_BUCKETS,
    registry=REGISTRY,
)
DECISION_LATENCY = Histogram(
    "warmhandoff_decision_latency_seconds",
    "From the turn's timestamp (ts) to the handoff request produced.",
    buckets=LATENCY_BUCKETS,
    registry=REGISTRY,
)
DECISIONS = Counter(
    "warmhandoff_decisions_total",
    "Decisions by action (none, clarify, gather, escalate, owned).",
    ["action"],
    registry=REGISTRY,
)
ESCALATIONS = Counter(
    "warmhandoff_escalations_total",
    "Handoff requests produced, by each trigger that fired, queue and priority.",
    ["trigger", "queue", "priority"],
    registry=REGISTRY,
)
HANDOFFS = Counter(
    "warmhandoff_handoffs_requested_total",
    "Handoff requests produced, by queue.",
    ["queue"],
    registry=REGISTRY,
)
DIRECTIVES = Counter(
    "warmhandoff_directives_total",
    "Directives sent to bots, by type.",
    ["action"],
    registry=REGISTRY,
)
DEAD_LETTERS = Counter(
    "warmhandoff_dead_letters_total",
    "Inputs rejected to the dead-letter topic, by reason and stage.",
    ["reason", "stage"],
    registry=REGISTRY,
)
GATHER_TIMEOUTS = Counter(
    "warmhandoff_gather_timeouts_total",
    "Transfers sent after waiting for required fields past their deadline.",
    registry=REGISTRY,
)
SINK_DELIVERIES = Counter(
    "warmhandoff_sink_deliveries_total",
    "Handoffs a sink delivered (acknowledged by the CRM), by sink.",
    ["sink"],
    registry=REGISTRY,
)
SINK_FAILURES = Counter(
    "warmhandoff_sink_failures_total",
    "Handoff deliveries a sink gave up on or that failed, by sink and reason.",
    ["sink", "reason"],
    registry=REGISTRY,
)
QUEUE_WAITING = Gauge(
    "warmhandoff_queue_waiting",
    "Customers waiting for a human, by queue.",
    ["queue"],
    registry=REGISTRY,
)
QUEUE_OLDEST_WAIT = Gauge(
    "warmhandoff_queue_oldest_wait_seconds",
    "How long the longest-waiting customer has waited, by queue.",
    ["queue"],
    registry=REGISTRY,
)
QUEUE_SERVICE_LEVEL = Gauge(
    "warmhandoff_queue_service_level_ratio",
    "Share of recent handoffs answered within the queue's SLA seconds, by queue.",
    ["queue"],
    registry=REGISTRY,
)
QUEUE_SLA_TARGET = Gauge(
    "warmhandoff_queue_service_level_target_ratio",
    "The queue's service-level target from the policy (0.8 for 80/20), by queue.",
    ["queue"],
    registry=REGISTRY,
)
QUEUE_SLA_SECONDS = Gauge(
    "warmhandoff_queue_sla_seconds",
    "The queue's SLA seconds from the policy (20 for 80/20): the wait a handoff should beat.",
    ["queue"],
    registry=REGISTRY,
)
KPI = Gauge(
    "warmhandoff_kpi_ratio",
    "Contact-centre KPIs as ratios (escalation_rate, containment, right_channel, ...).",
    ["kpi"],
    registry=REGISTRY,
)
CONSUMER_LAG = Gauge(
    "warmhandoff_consumer_lag_messages",
    "Records not yet processed on the worker's assigned partitions, by topic.",
    ["topic"],
    registry=REGISTRY,
)
MISPARTITIONED = Counter(
    "warmhandoff_mispartitioned_total",
    "Turns and handoff events that arrived on another partition than murmur2 of their "
    "conversation_id gives (a producer on librdkafka's default partitioner, or without a "
    "key), by input and by what the worker did: repartitioned or dead_lettered",
    ["input", "action"],
    registry=REGISTRY,
)
CONSUMER_OFFSET_GAPS = Counter(
    "warmhandoff_consumer_offset_gaps_total",
    "Offset gaps seen by the worker's consumer on an input topic (records skipped: see "
    "streams/runtime/transport.py); zero in a healthy deployment",
    ["topic"],
    registry=REGISTRY,
)
HANDOFF_EVENTS = Counter(
    "warmhandoff_handoff_events_total",
    "Handoff lifecycle events applied, by type (delivered, accepted, resolved, csat, ...).",
    ["type"],
    registry=REGISTRY,
)
HANDOFF_EVENTS_REJECTED = Counter(
    "warmhandoff_handoff_events_rejected_total",
    "Handoff lifecycle events not applied, by reason (illegal_transition, not_current, ...).",
    ["reason"],
    registry=REGISTRY,
)
HANDOFF_DEADLINES = Counter(
    "warmhandoff_handoff_deadlines_total",
    "Handoff deadlines that passed, by outcome (redelivered, failed, rerouted, still_waiting).",
    ["outcome"],
    registry=REGISTRY,
)
TIME_TO_ACCEPT = Histogram(
    "warmhandoff_handoff_time_to_accept_seconds",
    "From the customer's first unmet need to a human accepting the handoff.",
    buckets=(5.0, 10.0, 20.0, 30.0, 60.0, 120.0, 300.0, 600.0, 1200.0, 3600.0),
    registry=REGISTRY,
)
INTAKE_REQUESTS = Counter(
    "warmhandoff_intake_requests_total",
    "Requests to the handoff-event intake endpoint, by HTTP status code.",
    ["code"],
    registry=REGISTRY,
)
STATE_MEMORY = Gauge(
    "warmhandoff_state_store_memory_bytes",
    "Memory the worker's RocksDB tables use within their shared budget: cached blocks and the "
    "memtables charged to the cache (at most the budget once the cache is full).",
    registry=REGISTRY,
)
STATE_MEMORY_BUDGET = Gauge(
    "warmhandoff_state_store_memory_budget_bytes",
    "The worker's memory budget for its RocksDB tables (WARMHANDOFF_STATE_MEMORY_MB).",
    registry=REGISTRY,
)
READY = Gauge(
    "warmhandoff_worker_ready",
    "1 when the worker has joined its consumer group, recovered its tables and is processing.",
    registry=REGISTRY,
)


def observe_step(result: StepResult, produced_at: datetime, *, turn: bool = True) -> None:
    """Count what one turn (or, with turn=False, a gather timer tick) produced."""
    if turn:
        TURNS.inc()
    decision = result.decision
    if decision is not None:
        DECISIONS.labels(decision.action.value).inc()
    for directive in result.directives:
        DIRECTIVES.labels(directive.type.value).inc()
    handoff = result.handoff
    if handoff is not None:
        queue = handoff.routing.queue
        priority = str(handoff.routing.priority)
        HANDOFFS.labels(queue).inc()
        for hit in handoff.triggers:
            ESCALATIONS.labels(hit.code, queue, priority).inc()
        DECISION_LATENCY.observe(max(0.0, (produced_at - handoff.turn_ts).total_seconds()))


def watch_state_memory(used: Callable[[], float], budget_bytes: int) -> None:
    """Report the tables' memory (read at each scrape) against their budget."""
    STATE_MEMORY.set_function(used)
    STATE_MEMORY_BUDGET.set(budget_bytes)


def observe_lag(lag_by_topic: dict[str, int]) -> None:
    """Set the consumer lag gauge for each topic the worker consumes."""
    for topic, lag in lag_by_topic.items():
        CONSUMER_LAG.labels(topic).set(lag)


def reference_table() -> str:
    """The metrics reference (docs/operations.md, "Metrics") rendered from the catalogue."""
    rows = ["| metric | type | labels | meaning |", "|---|---|---|---|"]
    catalogue: list[MetricWrapperBase] = [
        value for value in globals().values() if isinstance(value, MetricWrapperBase)
    ]
    for metric in catalogue:
        for family in metric.describe():
            name = family.name + ("_total" if family.type == "counter" else "")
            labels = ", ".join(metric._labelnames)
            rows.append(f"| `{name}` | {family.type} | {labels} | {family.documentation} |")
    return "\n".join(rows[:2] + sorted(rows[2:]))
