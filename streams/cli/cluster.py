"""`warmhandoff broker`, `warmhandoff kafka` and `warmhandoff topics`: a Kafka cluster ready for
warmhandoff."""

from __future__ import annotations

import argparse
import asyncio
from pathlib import Path
from typing import TYPE_CHECKING

from warmhandoff.streams.cli.arguments import whole
from warmhandoff.streams.cli.common import quiet_kafka_client, settings_from
from warmhandoff.streams.cli.exceptions import UsageError
from warmhandoff.streams.config.connection import ConnectionSettings, topics_for
from warmhandoff.streams.config.service import ServiceSettings
from warmhandoff.streams.contract.acls import Acls, load_acls

if TYPE_CHECKING:
    from warmhandoff.streams.runtime.acl_admin import AclsReport

BOOTSTRAP_HELP = "Kafka bootstrap servers (overrides settings)"


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the cluster commands."""
    p = sub.add_parser(
        "broker",
        help="run the embedded Kafka-protocol broker (Tansu, zero setup): it serves "
        "warmhandoff's own Python clients; bots on librdkafka (kcat, confluent-kafka) cannot "
        "connect to it: use `warmhandoff kafka`",
    )
    p.add_argument("--bootstrap", help="host:port to listen on (default from settings)")
    p.set_defaults(handler=_cmd_broker)

    p = sub.add_parser(
        "kafka",
        help="run a local single-node Apache Kafka (KRaft) that every Kafka client can use; "
        "needs Java 17+ and Maven, which fetch its jars from Maven Central once",
    )
    p.add_argument("--bootstrap", help="host:port to listen on (default from settings)")
    p.set_defaults(handler=_cmd_kafka)

    p = sub.add_parser(
        "topics", help="create or check the topics in topics.yaml (and the ACLs in acls.yaml)"
    )
    p.add_argument("action", choices=["apply", "check"])
    p.add_argument("--bootstrap", help=BOOTSTRAP_HELP)
    p.add_argument(
        "--replication-factor",
        type=whole(1, 32),
        metavar="N",
        help="replicate every topic N times instead of topics.yaml's "
        "(or WARMHANDOFF_TOPIC_REPLICATION_FACTOR; production: 3)",
    )
    p.add_argument(
        "--acls",
        action="store_true",
        help="also create (apply) or check the ACL bindings of acls.yaml; needs a broker with "
        "an authorizer, and a super user's credentials in the settings",
    )
    p.add_argument(
        "--acls-file",
        type=Path,
        metavar="PATH",
        help="the ACL file (implies --acls; default: the acls.yaml shipped in the package)",
    )
    p.add_argument(
        "--prune-acls",
        action="store_true",
        help="apply only: delete bindings the broker has for the file's principals that the "
        "file does not grant (implies --acls; without it they are only reported)",
    )
    p.set_defaults(handler=_cmd_topics)


def _cmd_broker(args: argparse.Namespace) -> int:
    from warmhandoff.streams.runtime.broker import run_broker_forever

    return run_broker_forever(settings_from(args, ServiceSettings))


def _cmd_kafka(args: argparse.Namespace) -> int:
    from warmhandoff.streams.runtime.apache_kafka import local_kafka
    from warmhandoff.streams.runtime.broker import run_broker_forever

    settings = settings_from(args, ServiceSettings)
    return run_broker_forever(
        settings, make=lambda port: local_kafka(port, settings.data_dir / "apache-kafka")
    )


def _cmd_topics(args: argparse.Namespace) -> int:
    from warmhandoff.streams.runtime.acl_admin import apply_acls, check_acls
    from warmhandoff.streams.runtime.topic_admin import apply_topics, check_topics

    if args.prune_acls and args.action != "apply":
        raise UsageError("--prune-acls goes with `topics apply` only")
    overrides = {}
    if args.replication_factor is not None:
        overrides["topic_replication_factor"] = args.replication_factor
    settings = settings_from(args, ConnectionSettings, **overrides)
    topics = topics_for(settings)
    acls = None
    if args.acls or args.acls_file is not None or args.prune_acls:
        acls = load_acls(args.acls_file, topics=topics)  # a bad file stops before connecting
    apply = args.action == "apply"
    with quiet_kafka_client():
        report = asyncio.run(
            apply_topics(topics, settings) if apply else check_topics(topics, settings)
        )
    for name in report.created:
        print(f"created  {name}")
    for name in report.in_sync:
        print(f"ok       {name}")
    for drift in report.drift:
        print(f"{drift.severity:<8} {drift.topic}: {drift.hint}")
    if acls is None:
        return 0 if report.ok else 1
    # After the topics: the bindings name topics that now exist.
    with quiet_kafka_client():
        acl_report = asyncio.run(
            apply_acls(acls, settings, prune=args.prune_acls)
            if apply
            else check_acls(acls, settings)
        )
    _print_acls(acl_report, acls)
    return 0 if report.ok and acl_report.ok else 1


def _print_acls(report: AclsReport, acls: Acls) -> None:
    """One line per change and per problem, and one for the bindings already in place."""
    source = acls.source.name
    for binding in report.created:
        print(f"created  acl {binding}")
    for binding in report.deleted:
        print(f"deleted  acl {binding}")
    if report.in_place:
        principals = len({b.principal for b in report.in_place})
        print(f"ok       acl: {len(report.in_place)} bindings of {principals} principals in place")
    for binding in report.missing:
        print(f"error    acl {binding}: missing, run `warmhandoff topics apply --acls`")
    for binding, why in report.failed:
        print(f"error    acl {binding}: {why}")
    prune = "`warmhandoff topics apply --acls --prune-acls`"
    for binding in report.extra:
        print(
            f"warning  acl {binding}: on the broker but not in {source}: add it to {source} "
            f"or delete it with {prune}"
        )
