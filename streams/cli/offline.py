"""`warmhandoff replay|policy|report|audit`: the pipeline and its records, without a worker."""

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from warmhandoff.streams.cli.arguments import (
    fraction,
    input_file,
    non_empty,
    positive,
    readable_file,
)
from warmhandoff.streams.cli.cluster import BOOTSTRAP_HELP
from warmhandoff.streams.cli.common import (
    note,
    open_input,
    print_report,
    quiet_kafka_client,
    settings_from,
    turn_size_limit,
)
from warmhandoff.streams.cli.exceptions import UsageError
from warmhandoff.streams.config.connection import ConnectionSettings, topics_for
from warmhandoff.streams.contract.errors import WarmhandoffError

if TYPE_CHECKING:
    from warmhandoff.streams.offline.report_input import Streams


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the offline commands."""
    p = sub.add_parser("replay", help="run the pipeline offline on turn events (JSON lines)")
    p.add_argument(
        "file",
        nargs="?",
        type=input_file,
        metavar="FILE",
        help="input file, or - for stdin (default)",
    )
    p.add_argument("--policy", type=readable_file, help="policy file (default: the shipped policy)")
    p.add_argument("--stats", action="store_true", help="print CPU per line and actions to stderr")
    p.add_argument(
        "--text-embeddings",
        action="store_true",
        help="score with the sentence-embedding blend, as a worker with "
        "WARMHANDOFF_TEXT_EMBEDDINGS=true does (needs the embeddings extra)",
    )
    p.set_defaults(handler=_cmd_replay)

    p = sub.add_parser("policy", help="policy tools")
    psub = p.add_subparsers(title="policy commands", metavar="ACTION", required=True)
    pc = psub.add_parser("check", help="validate a policy file")
    pc.add_argument("file", metavar="FILE", help="the policy YAML file")
    pc.set_defaults(handler=_cmd_policy_check)
    pd = psub.add_parser(
        "diff", help="replay recorded turns under two policies and show what would change"
    )
    pd.add_argument("old", type=readable_file, metavar="OLD", help="the current policy YAML file")
    pd.add_argument("new", type=readable_file, metavar="NEW", help="the proposed policy YAML file")
    pd.add_argument(
        "--on",
        required=True,
        type=readable_file,
        metavar="TURNS.jsonl",
        help="recorded turn events (lines over WARMHANDOFF_MAX_TURN_BYTES are skipped)",
    )
    pd.add_argument(
        "--labels",
        type=readable_file,
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
        type=input_file,
        metavar="FILE",
        help="JSON lines of topic records or of replay output (docs/learning.md), or - for stdin",
    )
    p.add_argument("--json", action="store_true", help="print one JSON object, not a table")
    p.add_argument(
        "--target-precision",
        type=fraction,
        default=0.8,
        help="precision the recommended thresholds aim for, in (0, 1] (default 0.8)",
    )
    p.add_argument("--from-topics", action="store_true", help="read the topics instead of a FILE")
    p.add_argument(
        "--since-hours",
        type=positive(),
        metavar="H",
        help="with --from-topics: only the last H hours",
    )
    p.add_argument("--bootstrap", help="with --from-topics: Kafka bootstrap servers")
    p.set_defaults(handler=_cmd_report)

    p = sub.add_parser(
        "audit",
        help="print the audit records (audit.decisions) of a decision or a conversation",
    )
    p.add_argument(
        "decision_id", nargs="?", type=non_empty, metavar="DECISION_ID", help="one decision's id"
    )
    p.add_argument(
        "--conversation", type=non_empty, metavar="ID", help="every decision of this conversation"
    )
    p.add_argument("--json", action="store_true", help="one JSON record a line, as published")
    p.add_argument("--bootstrap", help=BOOTSTRAP_HELP)
    p.set_defaults(handler=_cmd_audit)


def _cmd_replay(args: argparse.Namespace) -> int:
    import time
    from collections import Counter

    from warmhandoff.streams.offline.lines import bounded_lines, skipped_line
    from warmhandoff.streams.offline.policy_diff import no_turns
    from warmhandoff.streams.offline.replay import Tally, dumps, replay
    from warmhandoff.streams.policy.loader import load_policy

    limit = turn_size_limit()
    policy = load_policy(args.policy)
    if args.text_embeddings:
        from warmhandoff.streams.detect.text_classifier import use_embeddings

        use_embeddings(True)
    out = sys.stdout.buffer
    actions: Counter[str] = Counter()
    tally = Tally()
    started = time.process_time()
    with open_input(args.file) as source:
        for line in replay(bounded_lines(source, limit), policy, max_bytes=limit, tally=tally):
            out.write(dumps(line))
            actions[str(line.action)] += 1
    out.flush()
    if not tally.used:
        raise WarmhandoffError(no_turns(tally))
    if tally.skipped:
        note(skipped_line(tally.lines, tally.skipped))
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
    """`policy check FILE`: the summary on stdout, or every problem (the first on stderr)."""
    from warmhandoff.streams.policy.loader import policy_check

    ok, message = policy_check(Path(args.file))
    if ok:
        print(message)
        return 0
    problems = message.splitlines() or ["invalid policy"]
    # Like a linter: the findings on stdout, one line each; stderr says the file is refused.
    if len(problems) > 1:
        print("\n".join(problems))
    more = f" (and {len(problems) - 1} more, listed above)" if len(problems) > 1 else ""
    print(f"warmhandoff: error: {' '.join(problems[0].split())}{more}", file=sys.stderr)
    return 1


def _cmd_policy_diff(args: argparse.Namespace) -> int:
    """`policy diff OLD NEW --on TURNS.jsonl`: conversations whose decision would change."""
    from warmhandoff.streams.offline.lines import bounded_lines, skipped_line
    from warmhandoff.streams.offline.policy_diff import diff, read_labels, render
    from warmhandoff.streams.policy.loader import load_policy

    limit = turn_size_limit()
    old, new = load_policy(args.old), load_policy(args.new)
    labels = None
    if args.labels is not None:
        with args.labels.open("rb") as handle:
            labels = read_labels(bounded_lines(handle, limit))
        if not labels:
            raise WarmhandoffError(f"--labels {args.labels}: no labels in it")
    with args.on.open("rb") as handle:
        turns = list(bounded_lines(handle, limit))
    try:
        report = diff(turns, old, new, labels, max_bytes=limit)
    except WarmhandoffError as exc:
        raise WarmhandoffError(f"{args.on}: {exc}") from None
    if report["skipped"]:
        note(f"{args.on}: {skipped_line(report['lines'], report['skipped'])}")
    print_report(report, args.json, render)
    return 0


def _cmd_report(args: argparse.Namespace) -> int:
    """`report [FILE|-] [--json]`: KPIs, trigger performance and deflection candidates."""
    from warmhandoff.streams.offline.lines import bounded_lines, skipped_line
    from warmhandoff.streams.offline.report import build_report, render
    from warmhandoff.streams.offline.report_input import (
        MAX_LINE_BYTES,
        check_usable,
        read_streams,
    )

    if args.from_topics:
        if args.file is not None:
            raise UsageError("give a FILE or --from-topics, not both")
        streams = _read_topics(args)
        what = "records"
        if streams.read:  # nothing in the window read is an empty report, not an error
            check_usable(streams, what)
    else:
        if args.since_hours is not None or args.bootstrap is not None:
            raise UsageError("--since-hours and --bootstrap go with --from-topics")
        with open_input(args.file) as source:
            streams = read_streams(bounded_lines(source, MAX_LINE_BYTES))
        what = "lines"
    if streams.skipped:
        note(skipped_line(streams.read, streams.skipped, what))
    report = build_report(streams, target_precision=args.target_precision)
    print_report(report, args.json, render)
    return 0


def _read_topics(args: argparse.Namespace) -> Streams:
    from datetime import UTC, datetime, timedelta

    from warmhandoff.streams.offline.report_topics import read_topics

    settings = settings_from(args, ConnectionSettings)
    since = None
    if args.since_hours is not None:
        since = datetime.now(UTC) - timedelta(hours=args.since_hours)
    with quiet_kafka_client():
        return asyncio.run(read_topics(settings, topics_for(settings), since=since))


def _cmd_audit(args: argparse.Namespace) -> int:
    import orjson

    from warmhandoff.streams.offline.audit import describe, read_audit

    if (args.decision_id is None) == (args.conversation is None):
        raise UsageError("give a DECISION_ID or --conversation ID (one of them)")
    settings = settings_from(args, ConnectionSettings)
    with quiet_kafka_client():
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
