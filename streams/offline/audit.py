"""`warmhandoff audit`: the audit records of one decision or of one conversation.

Reads `audit.decisions` from every partition, from the beginning until caught up (past the
end offsets found at start, and a poll of one second finds nothing more), with no consumer
group (nothing committed, nothing disturbed), and keeps the records that match. The topic is
keyed by decision_id, so a conversation's decisions are spread over its partitions: this is a
scan of the whole topic, meant for looking a case up, not for bulk export. A decision
published twice (at-least-once redelivery, before compaction ran) is printed once.
"""

from __future__ import annotations

from typing import Any

import orjson
from aiokafka import TopicPartition

from warmhandoff.streams.config.connection import ConnectionSettings
from warmhandoff.streams.contract.errors import WarmhandoffError
from warmhandoff.streams.contract.topics import Topics
from warmhandoff.streams.offline.scan import scanning_consumer, topic_partitions

MAX_IDLE_POLLS = 10  # polls of one second with nothing: give up waiting for the end offsets


async def read_audit(
    settings: ConnectionSettings,
    topics: Topics,
    *,
    decision_id: str | None = None,
    conversation_id: str | None = None,
) -> list[dict[str, Any]]:
    """The audit records of a decision or a conversation, one per decision, by seq."""
    if (decision_id is None) == (conversation_id is None):
        raise WarmhandoffError("give a DECISION_ID or --conversation ID (one of them)")
    name = topics.name("audit.decisions")
    wanted_key = decision_id.encode() if decision_id is not None else None
    found: dict[str, dict[str, Any]] = {}
    async with scanning_consumer(settings) as consumer:
        partitions = await topic_partitions(consumer)
        if name not in partitions:
            raise WarmhandoffError(f"topic {name} does not exist: run `warmhandoff topics apply`")
        tps = [TopicPartition(name, p) for p in sorted(partitions[name])]
        consumer.assign(tps)
        firsts, ends = await consumer.beginning_offsets(tps), await consumer.end_offsets(tps)
        for tp in tps:
            consumer.seek(tp, firsts[tp])
        # Offsets read so far, counted here rather than asked of consumer.position().
        read = {tp: firsts[tp] for tp in tps}
        idle = 0
        while idle < MAX_IDLE_POLLS:
            batch = await consumer.getmany(timeout_ms=1000, max_records=10_000)
            idle = 0 if batch else idle + 1
            for tp, records in batch.items():
                for record in records:
                    read[tp] = max(read[tp], record.offset + 1)
                    if not record.value or (wanted_key is not None and record.key != wanted_key):
                        continue
                    doc = _record(record.value)
                    if doc is None:
                        continue
                    if conversation_id is None or doc.get("conversation_id") == conversation_id:
                        found[str(doc.get("decision_id", record.key))] = doc
            if not batch and all(read[tp] >= ends[tp] for tp in tps):
                break
    return sorted(found.values(), key=_by_seq)


def _by_seq(doc: dict[str, Any]) -> tuple[int, str]:
    seq = doc.get("seq")
    return (seq if isinstance(seq, int) else 0, str(doc.get("ts", "")))


def _record(value: bytes) -> dict[str, Any] | None:
    """An audit record, or None for a value that is not a JSON object (nothing to show)."""
    try:
        doc = orjson.loads(value)
    except orjson.JSONDecodeError:
        return None
    return doc if isinstance(doc, dict) else None


def describe(doc: dict[str, Any]) -> str:
    """One line per decision: id, conversation, seq, time, action, reason, policy, triggers."""
    triggers = ", ".join(
        f"{t.get('code')}={t.get('value')}"
        + (f" (threshold {t['threshold']})" if t.get("threshold") is not None else "")
        if isinstance(t, dict)
        else str(t)
        for t in doc.get("triggers", [])
    )
    parts = [
        str(doc.get("decision_id", "?")),
        f"{doc.get('conversation_id', '?')}#{doc.get('seq', '?')}",
        str(doc.get("ts", "")),
        str(doc.get("action", "?")),
        str(doc.get("reason", "")),
        f"policy={doc.get('policy_version', '?')}",
    ]
    if triggers:
        parts.append(f"triggers={triggers}")
    return "  ".join(parts)
