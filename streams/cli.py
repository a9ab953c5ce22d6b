"""The `warmhandoff` command: one entry point for every user-facing operation.

Each subcommand has --help, exits non-zero with a one-line reason on bad input and never
prints a traceback for a user error (a `WarmhandoffError`, a policy error, a missing file).
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from pydantic import ValidationError

from .errors import WarmhandoffError
from .policy.loader import PolicyError
from .settings import Settings, load_settings

EXIT_USER_ERROR = 2


def main(argv: Sequence[str] | None = None) -> int:
    """Parse arguments, run the subcommand, turn user errors into one-line messages."""
    parser = _parser()
    args = parser.parse_args(argv)
    handler: Callable[[argparse.Namespace], int] | None = getattr(args, "handler", None)
    if handler is None:
        parser.print_help()
        return EXIT_USER_ERROR
    try:
        return handler(args)
    except (WarmhandoffError, PolicyError, OSError) as exc:
        _fail(str(exc))
    except ValidationError as exc:
        _fail(f"invalid settings: {_first_error(exc)}")
    except KeyboardInterrupt:
        return 130
    return EXIT_USER_ERROR


def _fail(message: str) -> None:
    """Print a one-line error to stderr."""
    first = message.strip().splitlines()[0] if message.strip() else "error"
    extra = message.strip().splitlines()[1:]
    print(f"warmhandoff: error: {first}", file=sys.stderr)
    for line in extra:
        print(f"  {line}", file=sys.stderr)


def _first_error(exc: ValidationError) -> str:
    err = exc.errors(include_url=False)[0]
    return f"{'.'.join(str(p) for p in err['loc'])}: {err['msg']}"


def _settings(args: argparse.Namespace) -> Settings:
    """Settings from the environment, with the command line's overrides."""
    overrides: dict[str, object] = {}
    if getattr(args, "bootstrap", None):
        overrides["bootstrap_servers"] = args.bootstrap
    if getattr(args, "policy", None):
        overrides["policy_file"] = args.policy
    return load_settings(**overrides)


def _cmd_broker(args: argparse.Namespace) -> int:
    from .broker import run_broker_forever

    return run_broker_forever(_settings(args))


def _cmd_topics(args: argparse.Namespace) -> int:
    from .topics import apply_topics, check_topics, load_topics

    settings = _settings(args)
    topics = load_topics(settings.topics_file, prefix=settings.topic_prefix, app_id=settings.app_id)
    action = apply_topics if args.action == "apply" else check_topics
    report = asyncio.run(action(topics, settings))
    for name in report.created:
        print(f"created  {name}")
    for name in report.in_sync:
        print(f"ok       {name}")
    for drift in report.drift:
        print(f"{drift.severity:<8} {drift.topic}: {drift.hint}")
    return 0 if report.ok else 1


def _cmd_worker(args: argparse.Namespace) -> int:
    from .worker import run_worker

    return run_worker(_settings(args))


def _cmd_router(args: argparse.Namespace) -> int:
    from .routing.process import run_router_process

    return run_router_process(_settings(args))


def _cmd_learner(args: argparse.Namespace) -> int:
    from .learning.runner import run_learner
    from .policy.loader import load_policy

    shadow = load_policy(args.shadow_policy) if args.shadow_policy else None
    return run_learner(_settings(args), shadow=shadow)


def _cmd_sink(args: argparse.Namespace) -> int:
    from .sinks.runner import run_sink

    overrides: dict[str, object] = {}
    if args.bootstrap:
        overrides["bootstrap_servers"] = args.bootstrap
    for option, setting in (
        ("url", "sink_webhook_url"),
        ("secret", "sink_webhook_secret"),
        ("path", "sink_file_path"),
    ):
        if getattr(args, option, None):
            overrides[setting] = getattr(args, option)
    return run_sink(load_settings(**overrides), args.kind)


def _cmd_replay(args: argparse.Namespace) -> int:
    import time
    from collections import Counter

    from .policy.loader import load_policy
    from .replay import dumps, replay

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


def _cmd_policy(args: argparse.Namespace) -> int:
    from .policy.loader import policy_check

    ok, message = policy_check(Path(args.file))
    print(message, file=sys.stdout if ok else sys.stderr)
    return 0 if ok else 1


def _cmd_policy_diff(args: argparse.Namespace) -> int:
    """`policy diff OLD NEW --on TURNS.jsonl`: conversations whose decision would change."""
    import orjson

    from .policy.loader import load_policy
    from .policy_diff import diff, read_labels, render

    old, new = load_policy(Path(args.old)), load_policy(Path(args.new))
    turns = Path(args.on).read_bytes().splitlines()
    labels = read_labels(Path(args.labels).read_bytes().splitlines()) if args.labels else None
    report = diff(turns, old, new, labels)
    if args.json:
        sys.stdout.buffer.write(orjson.dumps(report, option=orjson.OPT_INDENT_2) + b"\n")
        sys.stdout.buffer.flush()
    else:
        sys.stdout.write(render(report))
    return 0


def _cmd_audit(args: argparse.Namespace) -> int:
    import orjson

    from .audit import describe, read_audit
    from .topics import topics_for

    if (args.decision_id is None) == (args.conversation is None):
        raise WarmhandoffError("give a DECISION_ID or --conversation ID (one of them)")
    settings = _settings(args)
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


def _cmd_report(args: argparse.Namespace) -> int:
    """`report [FILE|-] [--json]`: KPIs, trigger performance and deflection candidates."""
    import orjson

    from .report import build_report, read_streams, render

    if not 0.0 < args.target_precision <= 1.0:
        raise WarmhandoffError("--target-precision must be in (0, 1]")
    if args.from_topics:
        from datetime import UTC, datetime, timedelta

        from .report_topics import read_topics
        from .topics import topics_for

        if args.file is not None:
            raise WarmhandoffError("give a FILE or --from-topics, not both")
        settings = _settings(args)
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
        sys.stdout.buffer.write(orjson.dumps(report, option=orjson.OPT_INDENT_2) + b"\n")
        sys.stdout.buffer.flush()
    else:
        sys.stdout.write(render(report))
    return 0


def _cmd_simulate(args: argparse.Namespace) -> int:
    from datetime import UTC, datetime

    from warmhandoff.agents.scenarios import generate

    if args.learning:
        return _cmd_learning(args)
    if args.minutes is not None:
        return _cmd_contact_centre(args)
    args.conversations = 100 if args.conversations is None else args.conversations
    start = datetime.fromisoformat(args.start) if args.start else datetime.now(UTC)
    if start.tzinfo is None:
        raise WarmhandoffError("--start needs a timezone, e.g. 2026-11-25T16:00:00Z")
    conversations = generate(
        args.conversations, seed=args.seed, escalating_share=args.escalating_share, start=start
    )
    turns = sorted((t for c in conversations for t in c.turns), key=lambda t: t.ts)
    out = sys.stdout.buffer
    for turn in turns:
        out.write(turn.model_dump_json(exclude_none=True).encode() + b"\n")
    out.flush()
    return 0


def _cmd_learning(args: argparse.Namespace) -> int:
    """`simulate --learning`: the learned trigger against the static rules (issue 8)."""

    from .learning.simulation import LearningSimConfig, run_learning_simulation
    from .policy.loader import load_policy

    n = 3000 if args.conversations is None else args.conversations
    if n < 30:
        raise WarmhandoffError("--conversations must be at least 30 with --learning")
    report = run_learning_simulation(
        load_policy(args.policy), LearningSimConfig(conversations=n, seed=args.seed)
    )
    _print_report(report, as_json=args.json, width=26)
    return 0


def _print_report(report: dict[str, object], *, as_json: bool, width: int) -> None:
    """A simulation's report: indented JSON, or one `key value` line per entry."""
    if as_json:
        import orjson

        sys.stdout.buffer.write(orjson.dumps(report, option=orjson.OPT_INDENT_2) + b"\n")
        sys.stdout.buffer.flush()
        return
    for key, value in report.items():
        print(f"{key:<{width}} {value}")


def _cmd_contact_centre(args: argparse.Namespace) -> int:
    """`simulate --minutes M`: the accelerated contact centre through the routing code."""
    from datetime import datetime

    from .policy.loader import load_policy
    from .routing.simulation import DEFAULT_START, SimConfig, run_simulation

    if args.minutes <= 0 or args.minutes > 10_080:
        raise WarmhandoffError("--minutes must be above 0 and at most 10080 (a week)")
    if args.rate <= 0 or args.staffing <= 0:
        raise WarmhandoffError("--rate and --staffing must be positive")
    start = datetime.fromisoformat(args.start) if args.start else DEFAULT_START
    if start.tzinfo is None:
        raise WarmhandoffError("--start needs a timezone, e.g. 2026-11-25T09:00:00Z")
    config = SimConfig(
        minutes=args.minutes,
        seed=args.seed,
        start=start,
        handoffs_per_minute=args.rate,
        staffing=args.staffing,
    )
    report = run_simulation(load_policy(args.policy), config)
    _print_report(report, as_json=args.json, width=22)
    return 0


def _cmd_eval(args: argparse.Namespace) -> int:
    from .evaluate import evaluate
    from .policy.loader import load_policy

    if args.max_per_set is not None and args.max_per_set < 1:
        raise WarmhandoffError("--max-per-set must be at least 1")
    report = evaluate(args.data, max_per_set=args.max_per_set, policy=load_policy(args.policy))
    if args.json:
        import orjson

        sys.stdout.buffer.write(orjson.dumps(report, option=orjson.OPT_INDENT_2) + b"\n")
        sys.stdout.buffer.flush()
    else:
        from .eval_table import render_table

        sys.stdout.write(render_table(report))
    return 0


def _cmd_privacy(args: argparse.Namespace) -> int:
    from .privacy import corpus, measure, render

    if args.per_kind < 1:
        raise WarmhandoffError("--per-kind must be at least 1")
    report = measure(corpus(args.per_kind, seed=args.seed))
    report["per_kind"], report["seed"] = args.per_kind, args.seed
    if args.json:
        import orjson

        sys.stdout.buffer.write(orjson.dumps(report, option=orjson.OPT_INDENT_2) + b"\n")
        sys.stdout.buffer.flush()
    else:
        sys.stdout.write(render(report))
    return 0


def _interrupt_on_sigterm() -> None:
    """SIGTERM unwinds like Ctrl-C, so the broker and processes a command started are stopped."""
    import signal

    def interrupt(signum: int, frame: object) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, interrupt)


def _cmd_demo(args: argparse.Namespace) -> int:
    from .demo import run_demo

    _interrupt_on_sigterm()
    return run_demo(conversations=args.conversations, rate=args.rate, seed=args.seed)


def _cmd_bench(args: argparse.Namespace) -> int:
    import json

    from .bench import bench_main
    from .logs import configure_logging

    configure_logging("WARNING")  # logs to stderr: stdout carries the result only
    _interrupt_on_sigterm()
    if args.state_store is not None:
        from .bench import state_store

        print(json.dumps(state_store(args.state_store)))
        return 0
    if args.seconds <= 0 or (args.rate is not None and args.rate <= 0):
        raise WarmhandoffError("--seconds and --rate must be above 0")
    say = (lambda text: None) if args.json else (lambda text: print(f"[bench] {text}", flush=True))
    outcome = asyncio.run(
        bench_main(
            seconds=args.seconds, rate=args.rate, seed=args.seed, say=say, profile=args.profile
        )
    )
    print(json.dumps(outcome.as_json(), indent=None if args.json else 2))
    return 0


def _cmd_soak(args: argparse.Namespace) -> int:
    import json

    from .logs import configure_logging
    from .soak import Plan, render, soak_main

    configure_logging("WARNING")  # logs to stderr: stdout carries the result only
    _interrupt_on_sigterm()
    fraction = 0.6 if args.fraction is None else args.fraction
    plan = Plan(args.minutes, args.rate, fraction, args.window, args.seed, args.warmup)
    say = (lambda text: None) if args.json else (lambda text: print(f"[soak] {text}", flush=True))
    report = asyncio.run(soak_main(plan, bootstrap=args.bootstrap, say=say))
    sys.stdout.write(json.dumps(report) + "\n" if args.json else render(report))
    return 0


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="warmhandoff",
        description="Decide when a bot hands a customer to a human, and carry the handoff.",
    )
    sub = parser.add_subparsers(title="commands", metavar="COMMAND")

    p = sub.add_parser("demo", help="run the whole pipeline on simulated bots and summarise")
    p.add_argument("--conversations", type=int, default=300, help="conversations to simulate")
    p.add_argument("--rate", type=float, default=150.0, help="turns per second offered")
    p.add_argument("--seed", type=int, default=7, help="seed of the simulated traffic")
    p.set_defaults(handler=_cmd_demo)

    p = sub.add_parser(
        "bench", help="measure the pipeline beside bare aiokafka and Faust relays (one broker)"
    )
    p.add_argument("--seconds", type=float, default=5.0, help="backlog size in seconds of work")
    p.add_argument("--rate", type=float, help="offered turns/s for latency (default: half)")
    p.add_argument("--seed", type=int, default=11, help="seed of the simulated traffic")
    p.add_argument("--json", action="store_true", help="print only the JSON result")
    p.add_argument(
        "--state-store",
        type=int,
        metavar="N",
        help="instead: N conversation states in RocksDB, and the process's peak RSS",
    )
    p.add_argument(
        "--profile", type=Path, metavar="FILE", help="sample the worker with py-spy into FILE"
    )
    p.set_defaults(handler=_cmd_bench)

    p = sub.add_parser(
        "soak", help="the whole path at a fixed share of the sustained rate for a long time"
    )
    p.add_argument("--minutes", type=float, default=30.0, help="how long to offer (default 30)")
    rate = p.add_mutually_exclusive_group()
    rate.add_argument("--rate", type=float, help="offered turns/s (skips measuring the rate)")
    rate.add_argument(
        "--fraction", type=float, help="share of the sustained rate, measured first (default 0.6)"
    )
    p.add_argument("--window", type=float, default=30.0, help="seconds per window (default 30)")
    p.add_argument(
        "--warmup", type=int, default=1, help="windows not judged, RSS measured after (default 1)"
    )
    p.add_argument("--seed", type=int, default=13, help="seed of the simulated traffic")
    p.add_argument("--json", action="store_true", help="print only the JSON report")
    p.add_argument("--bootstrap", help="use this broker (default: start the embedded one)")
    p.set_defaults(handler=_cmd_soak)

    p = sub.add_parser("broker", help="run the embedded Kafka-protocol broker (Tansu)")
    p.add_argument("--bootstrap", help="host:port to listen on (default from settings)")
    p.set_defaults(handler=_cmd_broker)

    p = sub.add_parser("topics", help="create or check the topics in topics.yaml")
    p.add_argument("action", choices=["apply", "check"])
    p.add_argument("--bootstrap", help="Kafka bootstrap servers (overrides settings)")
    p.set_defaults(handler=_cmd_topics)

    p = sub.add_parser(
        "audit",
        help="print the audit records (audit.decisions) of a decision or a conversation",
    )
    p.add_argument("decision_id", nargs="?", metavar="DECISION_ID", help="one decision's id")
    p.add_argument("--conversation", metavar="ID", help="every decision of this conversation")
    p.add_argument("--json", action="store_true", help="one JSON record a line, as published")
    p.add_argument("--bootstrap", help="Kafka bootstrap servers (overrides settings)")
    p.set_defaults(handler=_cmd_audit)

    p = sub.add_parser("worker", help="run a pipeline worker")
    p.add_argument("--bootstrap", help="Kafka bootstrap servers (overrides settings)")
    p.add_argument("--policy", type=Path, help="policy file (default: the shipped policy)")
    p.set_defaults(handler=_cmd_worker)

    p = sub.add_parser(
        "router", help="run the live router: routing, wait updates, queue health (one replica)"
    )
    p.add_argument("--bootstrap", help="Kafka bootstrap servers (overrides settings)")
    p.add_argument("--policy", type=Path, help="policy file (default: the packaged policy)")
    p.set_defaults(handler=_cmd_router)

    p = sub.add_parser(
        "learner",
        help="label decisions with their outcomes, learn the learned trigger, publish its model",
    )
    p.add_argument("--bootstrap", help="Kafka bootstrap servers (overrides settings)")
    p.add_argument(
        "--shadow-policy",
        type=Path,
        metavar="FILE",
        help="also decide every turn with this policy and report disagreements and its "
        "precision and recall on the labelled outcomes",
    )
    p.set_defaults(handler=_cmd_learner)

    p = sub.add_parser("sink", help="deliver handoff requests to a CRM (README, Sinks)")
    ssub = p.add_subparsers(title="sink kinds", metavar="KIND", dest="kind", required=True)
    ps = ssub.add_parser("webhook", help="POST each handoff, signed, to an HTTPS endpoint")
    ps.add_argument("--url", help="receiver URL (or WARMHANDOFF_SINK_WEBHOOK_URL)")
    ps.add_argument(
        "--secret", help="HMAC signing secret (prefer WARMHANDOFF_SINK_WEBHOOK_SECRET: ps shows it)"
    )
    ps = ssub.add_parser("salesforce", help="upsert a Salesforce Case per handoff")
    ps = ssub.add_parser("file", help="append each handoff once to a JSON-lines file")
    ps.add_argument("--path", type=Path, help="the file (or WARMHANDOFF_SINK_FILE_PATH)")
    for ps in ssub.choices.values():
        ps.add_argument("--bootstrap", help="Kafka bootstrap servers (overrides settings)")
        ps.set_defaults(handler=_cmd_sink)

    p = sub.add_parser("replay", help="run the pipeline offline on turn events (JSON lines)")
    p.add_argument("file", nargs="?", help="input file, or - for stdin (default)")
    p.add_argument("--policy", type=Path, help="policy file (default: the shipped policy)")
    p.add_argument("--stats", action="store_true", help="print CPU per line and actions to stderr")
    p.set_defaults(handler=_cmd_replay)

    p = sub.add_parser("simulate", help="write simulated conversations as turn events (JSON lines)")
    p.add_argument(
        "--conversations",
        type=int,
        help="conversations to generate (default 100; 3000 with --learning)",
    )
    p.add_argument("--seed", type=int, default=7, help="seed (same seed, same output)")
    p.add_argument(
        "--learning",
        action="store_true",
        help="instead: the learned trigger against the static rules on simulated conversations "
        "with a hidden ground truth (AUCs, precision, recall; README, Learning from outcomes)",
    )
    p.add_argument("--escalating-share", type=float, default=0.2, help="share needing a human")
    p.add_argument("--start", help="ISO time of the first conversation (default: now)")
    p.add_argument(
        "--minutes",
        type=float,
        help="run the accelerated contact centre for M simulated minutes instead (routing, "
        "SLAs, wait estimates) and print its report",
    )
    p.add_argument(
        "--json", action="store_true", help="with --minutes or --learning: one JSON object"
    )
    p.add_argument(
        "--rate", type=float, default=3.0, help="with --minutes: handoffs offered per minute"
    )
    p.add_argument(
        "--staffing", type=float, default=0.85, help="with --minutes: times Erlang C staffing"
    )
    p.add_argument("--policy", type=Path, help="with --minutes: policy file (default: shipped)")
    p.set_defaults(handler=_cmd_simulate)

    p = sub.add_parser(
        "eval", help="measure the detectors on labelled data sets against issue 3's targets"
    )
    p.add_argument("--data", type=Path, required=True, help="folder laid out as ../shared/data")
    p.add_argument("--json", action="store_true", help="print one JSON object, not a table")
    p.add_argument(
        "--max-per-set", type=int, metavar="N", help="use at most N evenly spaced rows per set"
    )
    p.add_argument("--policy", type=Path, help="policy file (default: the shipped policy)")
    p.set_defaults(handler=_cmd_eval)

    p = sub.add_parser(
        "privacy", help="measure redaction on a generated corpus: recall and false positives"
    )
    p.add_argument("--per-kind", type=int, default=200, help="sentences per kind of value")
    p.add_argument("--seed", type=int, default=0, help="seed (same seed, same corpus)")
    p.add_argument("--json", action="store_true", help="print one JSON object, not a table")
    p.set_defaults(handler=_cmd_privacy)

    p = sub.add_parser(
        "report", help="KPIs, trigger performance and deflection candidates from recorded streams"
    )
    p.add_argument(
        "file", nargs="?", help="JSON lines of topic records (README, Learning), or - for stdin"
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

    p = sub.add_parser("policy", help="policy tools")
    psub = p.add_subparsers(title="policy commands", metavar="ACTION")
    pc = psub.add_parser("check", help="validate a policy file")
    pc.add_argument("file", help="the policy YAML file")
    pc.set_defaults(handler=_cmd_policy)
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
    return parser


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
