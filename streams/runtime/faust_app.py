"""The Faust side of a worker: broker URL and credentials, and the app's settings.

Built from the one client-options builder (streams/config/connection.py), so the worker's
Faust consumer and producer connect exactly as every aiokafka client of warmhandoff does.
"""

from __future__ import annotations

from typing import Any

from warmhandoff.streams.config.connection import ConnectionSettings, client_options
from warmhandoff.streams.config.worker import WorkerSettings
from warmhandoff.streams.contract.topics import Topics
from warmhandoff.streams.runtime import storage, transport


def faust_broker_settings(settings: ConnectionSettings) -> dict[str, Any]:
    """`broker` URL and, when security is configured, `broker_credentials` for faust.App."""
    import faust  # deferred: importing faust is slow and only workers need it

    options = client_options(settings)
    result: dict[str, Any] = {"broker": "kafka://" + ";".join(options.servers)}
    if options.sasl_mechanism is not None:
        result["broker_credentials"] = faust.SASLCredentials(
            username=options.sasl_username,
            password=options.sasl_password,
            ssl_context=options.ssl_context,  # present: SASL_SSL, absent: SASL_PLAINTEXT
            mechanism=options.sasl_mechanism,
        )
    elif options.ssl_context is not None:
        result["broker_credentials"] = faust.SSLCredentials(options.ssl_context)
    return result


def faust_config(
    settings: WorkerSettings, topics: Topics, *, consistency_check: bool = True
) -> dict[str, Any]:
    """Faust settings for this pipeline (measured choices are explained inline)."""
    broker = faust_broker_settings(settings)
    scheme = transport.configure(settings.fetch_max_wait_ms)
    broker["broker"] = broker["broker"].replace("kafka://", f"{scheme}://")
    return {
        "recovery_consistency_check": consistency_check,
        # exactly_once: Faust opens one transactional producer per assigned partition and
        # commits each partition's offsets inside its transaction (Pipeline.send puts the
        # outputs of a record in the same one); its own consumers then read read_committed.
        "processing_guarantee": settings.processing_guarantee,
        **broker,
        "store": storage.faust_store(settings.store),
        "datadir": str(settings.data_dir),
        "key_serializer": "raw",
        "value_serializer": "raw",
        # topics.yaml owns every topic: Faust must not create or alter any.
        "topic_allow_declare": False,
        "topic_disable_leader": True,
        "topic_partitions": topics.spec("conversation.turns").partitions,
        # A few seconds instead of Faust's default: the group forms in ~5 s, not ~30 s.
        "broker_rebalance_timeout": settings.rebalance_timeout_seconds,
        "broker_session_timeout": max(10.0, settings.rebalance_timeout_seconds * 2),
        "broker_heartbeat_interval": 1.0,
        "consumer_auto_offset_reset": "earliest",
        # The worker serves /metrics, /livez and /readyz itself (streams/runtime/ops.py).
        "web_enabled": False,
        "table_standby_replicas": settings.standby_replicas,
        "producer_acks": -1,
        "stream_buffer_maxsize": 4096,
    }


def transactional_id(app: Any, topic: str, partition: int) -> str | None:
    """Under exactly-once, the transaction that commits this input partition's offsets (named
    as Faust's TransactionManager names it); None under at-least-once."""
    if not app.in_transaction:
        return None
    return f"{app.conf.id}-{app.assignor.group_for_topic(topic)}-{partition}"
