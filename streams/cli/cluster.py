"""`warmhandoff broker` and `warmhandoff topics`: a Kafka cluster ready for warmhandoff."""

from __future__ import annotations

import argparse
import asyncio

from warmhandoff.streams.cli.arguments import whole
from warmhandoff.streams.cli.common import quiet_kafka_client, settings_from
from warmhandoff.streams.config.connection import ConnectionSettings, topics_for
from warmhandoff.streams.config.service import ServiceSettings

BOOTSTRAP_HELP = "Kafka bootstrap servers (overrides settings)"


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the cluster commands."""
    p = sub.add_parser("broker", help="run the embedded Kafka-protocol broker (Tansu)")
    p.add_argument("--bootstrap", help="host:port to listen on (default from settings)")
    p.set_defaults(handler=_cmd_broker)

    p = sub.add_parser("topics", help="create or check the topics in topics.yaml")
    p.add_argument("action", choices=["apply", "check"])
    p.add_argument("--bootstrap", help=BOOTSTRAP_HELP)
    p.add_argument(
        "--replication-factor",
        type=whole(1, 32),
        metavar="N",
        help="replicate every topic N times instead of topics.yaml's "
        "(or WARMHANDOFF_TOPIC_REPLICATION_FACTOR; production: 3)",
    )
    p.set_defaults(handler=_cmd_topics)


def _cmd_broker(args: argparse.Namespace) -> int:
    from warmhandoff.streams.runtime.broker import run_broker_forever

    return run_broker_forever(settings_from(args, ServiceSettings))


def _cmd_topics(args: argparse.Namespace) -> int:
    from warmhandoff.streams.runtime.topic_admin import apply_topics, check_topics

    overrides = {}
    if args.replication_factor is not None:
        overrides["topic_replication_factor"] = args.replication_factor
    settings = settings_from(args, ConnectionSettings, **overrides)
    topics = topics_for(settings)
    action = apply_topics if args.action == "apply" else check_topics
    with quiet_kafka_client():
        report = asyncio.run(action(topics, settings))
    for name in report.created:
        print(f"created  {name}")
    for name in report.in_sync:
        print(f"ok       {name}")
    for drift in report.drift:
        print(f"{drift.severity:<8} {drift.topic}: {drift.hint}")
    return 0 if report.ok else 1
