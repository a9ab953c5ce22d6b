"""`warmhandoff replay|policy|report|audit`: the pipeline and its records, without a worker."""

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path

from warmhandoff.streams.cli.cluster import BOOTSTRAP_HELP
from warmhandoff.streams.cli.common import print_json, settings_from
from warmhandoff.streams.config.connection import ConnectionSettings, topics_for
from warmhandoff.streams.contract.errors import WarmhandoffError


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the offline commands."""
    p = sub.add_parser("replay", help="run the pipeline offline on turn events (JSON lines)")
    p.add_argument("file", nargs="?", help="input file, or - for stdin (default)")
    p.add_argument("--policy", type=Path, help="policy file (default: the shipped policy)")
    p.add_argument("--stats", action="store_true", help="print CPU per line and actions to stderr")
    p.set_defaults(handler=_cmd_replay)

    p = sub.add_parser("policy", help="policy tools")
    psub = p.add_subparsers(title="policy commands", metavar="ACTION")
    pc = psub.add_parser("check", help="validate a policy file")
    pc.add_argument("file", help="the policy YAML file")
    pc.set_defaults(handler=_cmd_policy_check)
    pd = psub.add_parser(
        "diff", help="replay recorded turns under two policies and show what would change"
    )
    pd.add_argument("old", help="the current policy YAML file")
    pd.add_argument("new", help="the proposed policy YAML file")
    pd.add_argument("--on", required=True, metavar="TURNS.jsonl", help="recorded turn events")
    pd.add_argument(
        "--labels",
        metavar="FILE",
        help="JSON lines of conversation_id with label (learning.examples) or needs_human",
    )
    pd.add_argument("--json", action="store_true", help="print one JSON object, not a table")
    pd.set_defaults(handler=_cmd_policy_diff)

    p = sub.add_parser(
        "report", help="KPIs, trigger performance and deflection candidates from recorded streams"
    )
    p.add_argument(
        "file",
        nargs="?",
        help="JSON lines of topic records or of replay output (docs/learning.md), or - for stdin",
    )
    p.add_argument("--json", action="store_true", help="print one JSON object, not a table")
    p.add_argument(
        "--target-precision",
        type=float,
        default=0.8,
        help="precision the recommended thresholds aim for (default 0.8)",
    )
    p.add_argument("--from-topics", action="store_true", help="read the topics instead of a FILE")
    p.add_argument(
        "--since-hours", type=float, metavar="H", help="with --from-topics: only the last H hours"
    )
    p.add_argument("--bootstrap", help="with --from-topics: Kafka bootstrap servers")
    p.set_defaults(handler=_cmd_report)

    p = sub.add_parser(
        "audit",
        help="print the audit records (audit.decisions) of a decision or a conversation",
    )
    p.add_argument("decision_id", nargs="?", metavar="DECISION_ID", help="one decision's id")
    p.add_argument("--conversation", metavar="ID", help="every decision of this conversation")
    p.add_argument("--json", action="store_true", help="one JSON record a line, as published")
    p.add_argument("--bootstrap", help=BOOTSTRAP_HELP)
    p.set_defaults(handler=_cmd_audit)


def _cmd_replay(args: argparse.Namespace) -> int:
    import time
    from collections import Counter

    from warmhandoff.streams.offline.replay import dumps, replay
    from warmhandoff.streams.policy.loader import load_policy

    policy = load_policy(args.policy)
    source = sys.stdin.buffer if args.file in (None, "-") else Path(args.file).open("rb")  # noqa: SIM115
    out = sys.stdout.buffer
    actions: Counter[str] = Counter()
    started = time.process_time()
    with source:
        for line in replay(source, policy):
            out.write(dumps(line))
            actions[str(line.action)] += 1
    out.flush()
    if args.stats:
        cpu = time.process_time() - started
        total = sum(actions.values())
        per_turn = cpu / total * 1e6 if total else 0.0
        print(
            f"replayed {total} lines in {cpu:.2f} s CPU ({per_turn:.0f} µs per line, decoding, "
            f"detection, decision and output included); actions: {dict(actions)}",
            file=sys.stderr,
        )
    return 0


def _cmd_policy_check(args: argparse.Namespace) -> int:
    from warmhandoff.streams.policy.loader import policy_check

    ok, message = policy_check(Path(args.file))
    print(message, file=sys.stdout if ok else sys.stderr)
    return 0 if ok else 1


def _cmd_policy_diff(args: argparse.Namespace) -> int:
    """`policy diff OLD NEW --on TURNS.jsonl`: conversations whose decision would change."""
    from warmhandoff.streams.offline.policy_diff import diff, read_labels, render
    from warmhandoff.streams.policy.loader import load_policy

    old, new = load_policy(Path(args.old)), load_policy(Path(args.new))
    turns = Path(args.on).read_bytes().splitlines()
    labels = read_labels(Path(args.labels).read_bytes().splitlines()) if args.labels else None
    report = diff(turns, old, new, labels)
    if args.json:
        print_json(report)
    else:
        sys.stdout.write(render(report))
    return 0


def _cmd_report(args: argparse.Namespace) -> int:
    """`report [FILE|-] [--json]`: KPIs, trigger performance and deflection candidates."""
    from warmhandoff.streams.offline.report import build_report, read_streams, render

    if not 0.0 < args.target_precision <= 1.0:
        raise WarmhandoffError("--target-precision must be in (0, 1]")
    if args.from_topics:
        from datetime import UTC, datetime, timedelta

        from warmhandoff.streams.offline.report_topics import read_topics

        if args.file is not None:
            raise WarmhandoffError("give a FILE or --from-topics, not both")
        settings = settings_from(args, ConnectionSettings)
        since = None
        if args.since_hours is not None:
            since = datetime.now(UTC) - timedelta(hours=args.since_hours)
        streams = asyncio.run(read_topics(settings, topics_for(settings), since=since))
    else:
        source = sys.stdin.buffer if args.file in (None, "-") else Path(args.file).open("rb")  # noqa: SIM115
        with source:
            streams = read_streams(source)
    report = build_report(streams, target_precision=args.target_precision)
    if args.json:
        print_json(report)
    else:
        sys.stdout.write(render(report))
    return 0


def _cmd_audit(args: argparse.Namespace) -> int:
    import orjson

    from warmhandoff.streams.offline.audit import describe, read_audit

    if (args.decision_id is None) == (args.conversation is None):
        raise WarmhandoffError("give a DECISION_ID or --conversation ID (one of them)")
    settings = settings_from(args, ConnectionSettings)
    found = asyncio.run(
        read_audit(
            settings,
            topics_for(settings),
            decision_id=args.decision_id,
            conversation_id=args.conversation,
        )
    )
    for doc in found:
        print(orjson.dumps(doc).decode() if args.json else describe(doc))
    if not found:
        what = args.decision_id or args.conversation
        kind = "decision" if args.decision_id else "conversation"
        print(f"no record of {kind} {what} on audit.decisions", file=sys.stderr)
        return 1
    return 0
