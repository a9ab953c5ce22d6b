"""`warmhandoff worker|router|sink|learner|desk`: the long-running processes SREs run."""

from __future__ import annotations

import argparse
from pathlib import Path

from warmhandoff.streams.cli.arguments import non_empty, readable_file
from warmhandoff.streams.cli.cluster import BOOTSTRAP_HELP
from warmhandoff.streams.cli.common import settings_from
from warmhandoff.streams.config.desk import DeskSettings
from warmhandoff.streams.config.learner import LearnerSettings
from warmhandoff.streams.config.router import RouterSettings
from warmhandoff.streams.config.sink import SinkSettings
from warmhandoff.streams.config.worker import WorkerSettings
from warmhandoff.streams.contract.errors import ConfigError


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the service commands."""
    p = sub.add_parser("worker", help="run a pipeline worker")
    p.add_argument("--bootstrap", help=BOOTSTRAP_HELP)
    p.add_argument("--policy", type=readable_file, help="policy file (default: the shipped policy)")
    p.set_defaults(handler=_cmd_worker)

    p = sub.add_parser(
        "router", help="run the live router: routing, wait updates, queue health (one replica)"
    )
    p.add_argument("--bootstrap", help=BOOTSTRAP_HELP)
    p.add_argument(
        "--policy", type=readable_file, help="policy file (default: the packaged policy)"
    )
    p.set_defaults(handler=_cmd_router)

    p = sub.add_parser("sink", help="deliver handoff requests to a CRM (docs/crm-integration.md)")
    ssub = p.add_subparsers(title="sink kinds", metavar="KIND", dest="kind", required=True)
    ps = ssub.add_parser("webhook", help="POST each handoff, signed, to an HTTPS endpoint")
    ps.add_argument("--url", type=non_empty, help="receiver URL (or WARMHANDOFF_SINK_WEBHOOK_URL)")
    ps.add_argument(
        "--secret",
        type=non_empty,
        help="HMAC signing secret (prefer WARMHANDOFF_SINK_WEBHOOK_SECRET: ps shows it)",
    )
    ps = ssub.add_parser(
        "salesforce",
        help="upsert the customer's Salesforce Case on the topic, a comment per handoff",
    )
    ps = ssub.add_parser("file", help="append each handoff once to a JSON-lines file")
    ps.add_argument("--path", type=Path, help="the file (or WARMHANDOFF_SINK_FILE_PATH)")
    for ps in ssub.choices.values():
        ps.add_argument("--bootstrap", help=BOOTSTRAP_HELP)
        ps.add_argument(
            "--policy",
            type=readable_file,
            help="policy file: its case window (default: the packaged policy)",
        )
        ps.set_defaults(handler=_cmd_sink)

    p = sub.add_parser(
        "learner",
        help="label decisions with their outcomes, learn the learned trigger, publish its model",
    )
    p.add_argument("--bootstrap", help=BOOTSTRAP_HELP)
    p.add_argument(
        "--shadow-policy",
        type=readable_file,
        metavar="FILE",
        help="also decide every turn with this policy and report disagreements and its "
        "precision and recall on the labelled outcomes",
    )
    p.set_defaults(handler=_cmd_learner)

    p = sub.add_parser(
        "desk",
        help="serve the desk page for human agents and supervisors (docs/desk.md)",
        description="Serve the desk page; `warmhandoff desk token` issues a person's login token.",
    )
    p.add_argument("--bootstrap", help=BOOTSTRAP_HELP)
    p.add_argument(
        "--policy", type=readable_file, help="policy file (default: the packaged policy)"
    )
    p.set_defaults(handler=_cmd_desk)
    dsub = p.add_subparsers(title="commands", metavar="COMMAND", dest="desk_command")
    pt = dsub.add_parser("token", help="print a login token for one person (signed, expiring)")
    pt.add_argument(
        "--person", type=non_empty, required=True, help="the agent's or supervisor's id"
    )
    pt.add_argument("--role", choices=("agent", "supervisor"), default="agent")
    pt.add_argument("--hours", type=float, default=12.0, help="how long the token is valid")
    pt.set_defaults(handler=_cmd_desk_token)


def _cmd_worker(args: argparse.Namespace) -> int:
    from warmhandoff.streams.services.worker.process import run_worker

    return run_worker(settings_from(args, WorkerSettings))


def _cmd_router(args: argparse.Namespace) -> int:
    from warmhandoff.streams.policy.loader import load_policy
    from warmhandoff.streams.services.router.process import run_router_process

    settings = settings_from(args, RouterSettings)
    load_policy(settings.policy_file)  # a bad policy is refused before the router starts
    return run_router_process(settings)


def _cmd_sink(args: argparse.Namespace) -> int:
    from warmhandoff.streams.services.sink import run_sink

    overrides: dict[str, object] = {}
    for option, setting in (
        ("url", "sink_webhook_url"),
        ("secret", "sink_webhook_secret"),
        ("path", "sink_file_path"),
    ):
        if getattr(args, option, None):
            overrides[setting] = getattr(args, option)
    settings = settings_from(args, SinkSettings, **overrides)
    if args.kind == "file" and settings.sink_file_path is not None:
        _check_sink_file(settings.sink_file_path)
    return run_sink(settings, args.kind)


def _check_sink_file(path: Path) -> None:
    """Refuse a file sink path that can never be a file, before the sink connects to Kafka."""
    if path.exists() and not path.is_file():
        kind = "a directory" if path.is_dir() else "not a regular file"
        raise ConfigError(f"file sink path {path}: {kind}")
    folder = next((p for p in path.parents if p.exists()), None)
    if folder is not None and not folder.is_dir():
        raise ConfigError(f"file sink path {path}: {folder} is not a directory")


def _cmd_desk(args: argparse.Namespace) -> int:
    from warmhandoff.streams.services.desk.process import run_desk

    return run_desk(settings_from(args, DeskSettings))


def _cmd_desk_token(args: argparse.Namespace) -> int:
    from warmhandoff.streams.services.desk.auth import AuthError, issue
    from warmhandoff.streams.services.desk.process import desk_secret

    secret = desk_secret(settings_from(args, DeskSettings))
    if not 0 < args.hours <= 24 * 90:
        raise ConfigError("--hours must be more than 0 and at most 2160 (90 days)")
    try:
        print(issue(secret, args.person, args.role, hours=args.hours))
    except AuthError as exc:
        raise ConfigError(str(exc)) from None
    return 0


def _cmd_learner(args: argparse.Namespace) -> int:
    from warmhandoff.streams.policy.loader import load_policy
    from warmhandoff.streams.services.learner import run_learner

    shadow = load_policy(args.shadow_policy) if args.shadow_policy else None
    return run_learner(settings_from(args, LearnerSettings), shadow=shadow)
