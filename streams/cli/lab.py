"""`warmhandoff demo|simulate|eval|privacy|bench|soak`: try it, measure it.

The only commands that import the lab (streams/lab/): nothing else in the product does.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path

from warmhandoff.streams.cli.arguments import (
    directory,
    fraction,
    instant,
    output_file,
    positive,
    readable_file,
    share,
    whole,
)
from warmhandoff.streams.cli.common import (
    interrupt_on_sigterm,
    print_json,
    print_report,
    require_broker,
)
from warmhandoff.streams.cli.exceptions import UsageError
from warmhandoff.streams.contract.errors import WarmhandoffError

#: The most conversations `simulate` writes: they are generated in memory.
MAX_CONVERSATIONS = 1_000_000
WEEK_MINUTES = 10_080
#: Where the demo and bench take an existing broker from (else they start their own).
BOOTSTRAP_ENV = "WARMHANDOFF_BOOTSTRAP_SERVERS; unset it to start an embedded broker"


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the demo and the measuring commands."""
    p = sub.add_parser("demo", help="run the whole pipeline on simulated bots and summarise")
    p.add_argument("--conversations", type=int, default=300, help="conversations to simulate")
    p.add_argument("--rate", type=float, default=150.0, help="turns per second offered")
    p.add_argument("--seed", type=int, default=7, help="seed of the simulated traffic")
    p.add_argument(
        "--full-handoff",
        action="store_true",
        help="print the whole sample handoff as JSON, not its shortened view",
    )
    p.add_argument(
        "--desk",
        action="store_true",
        help="then keep the desk page up on the demo's traffic (prints its URL; Ctrl-C stops it)",
    )
    p.add_argument("--desk-port", type=int, default=6070, help="the desk page's port (with --desk)")
    p.set_defaults(handler=_cmd_demo)

    _register_simulate(sub)

    p = sub.add_parser("eval", help="measure the detectors on labelled data sets")
    p.add_argument(
        "--data", type=directory, required=True, help="folder laid out as ../shared/data"
    )
    p.add_argument("--json", action="store_true", help="print one JSON object, not a table")
    p.add_argument(
        "--max-per-set",
        type=whole(1),
        metavar="N",
        help="use at most N evenly spaced rows per set",
    )
    p.add_argument("--policy", type=readable_file, help="policy file (default: the shipped policy)")
    p.add_argument(
        "--embeddings",
        action="store_true",
        help="also measure the sentence-embedding blend (the embeddings extra): its "
        "leave-one-dataset-out rows and its cost per turn; encoding takes minutes",
    )
    p.add_argument(
        "--embeddings-cache",
        type=Path,
        metavar="DIR",
        help="with --embeddings: keep the texts' embeddings in DIR between runs",
    )
    p.set_defaults(handler=_cmd_eval)

    p = sub.add_parser(
        "privacy", help="measure redaction on a generated corpus: recall and false positives"
    )
    p.add_argument(
        "--per-kind", type=whole(1), default=200, help="sentences per kind of value (default 200)"
    )
    p.add_argument("--seed", type=int, default=0, help="seed (same seed, same corpus)")
    p.add_argument("--json", action="store_true", help="print one JSON object, not a table")
    p.set_defaults(handler=_cmd_privacy)

    p = sub.add_parser(
        "bench", help="measure the pipeline beside bare aiokafka and Faust relays (one broker)"
    )
    p.add_argument("--seconds", type=positive(), help="backlog size in seconds of work (default 5)")
    p.add_argument("--rate", type=positive(), help="offered turns/s for latency (default: half)")
    p.add_argument("--seed", type=int, default=11, help="seed of the simulated traffic")
    p.add_argument("--json", action="store_true", help="print only the JSON result")
    p.add_argument(
        "--state-store",
        type=whole(1),
        metavar="N",
        help="instead: N conversation states in RocksDB, and the process's peak RSS",
    )
    p.add_argument(
        "--profile",
        type=output_file,
        metavar="FILE",
        help="sample the worker with py-spy into FILE",
    )
    p.add_argument(
        "--broker",
        choices=("embedded", "kafka"),
        default="embedded",
        help="the broker the bench starts when WARMHANDOFF_BOOTSTRAP_SERVERS is unset: the "
        "embedded one, or Apache Kafka (needs Java 17+ and Maven once, like the tests)",
    )
    p.add_argument(
        "--processing-guarantee",
        choices=("at_least_once", "exactly_once"),
        help="the pipeline workers' processing guarantee (default: the worker's, "
        "WARMHANDOFF_PROCESSING_GUARANTEE); exactly_once needs a broker with transactions",
    )
    p.set_defaults(handler=_cmd_bench)

    p = sub.add_parser(
        "soak", help="the whole path at a fixed share of the sustained rate for a long time"
    )
    p.add_argument(
        "--minutes", type=positive(), default=30.0, help="how long to offer (default 30)"
    )
    rate = p.add_mutually_exclusive_group()
    rate.add_argument("--rate", type=positive(), help="offered turns/s (skips measuring the rate)")
    rate.add_argument(
        "--fraction",
        type=fraction,
        help="share of the sustained rate, measured first (default 0.6)",
    )
    p.add_argument(
        "--window", type=positive(), default=30.0, help="seconds per window (default 30)"
    )
    p.add_argument(
        "--warmup",
        type=whole(1),
        default=1,
        help="windows not judged, RSS measured after (default 1)",
    )
    p.add_argument("--seed", type=int, default=13, help="seed of the simulated traffic")
    p.add_argument("--json", action="store_true", help="print only the JSON report")
    broker = p.add_mutually_exclusive_group()
    broker.add_argument("--bootstrap", help="use this broker (default: start one, see --broker)")
    broker.add_argument(
        "--broker",
        choices=("embedded", "kafka"),
        default="embedded",
        help="the broker the soak starts: the embedded one, or Apache Kafka with segments "
        "rolled each minute (needs Java 17+ and Maven once, like the tests)",
    )
    p.add_argument(
        "--retention-minutes",
        type=positive(),
        metavar="M",
        help="keep the soak's records at most M minutes (default: topics.yaml's retention)",
    )
    p.add_argument(
        "--pin-worker",
        action="store_true",
        help="run the worker alone on one core and everything else (the broker it starts, the "
        "sink, offering turns) on the others, as in production where the broker and the bots "
        "run elsewhere (Linux, 2 cores or more)",
    )
    p.add_argument(
        "--check",
        action="store_true",
        help="exit with status 1 when a target is not met (default: 0 whenever the soak ran)",
    )
    p.set_defaults(handler=_cmd_soak)


def _register_simulate(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("simulate", help="write simulated conversations as turn events (JSON lines)")
    p.add_argument(
        "--conversations",
        type=whole(1, MAX_CONVERSATIONS),
        help="conversations to generate (default 100; 3000 with --learning, at least 30)",
    )
    p.add_argument("--seed", type=int, default=7, help="seed (same seed, same output)")
    p.add_argument(
        "--learning",
        action="store_true",
        help="instead: the learned trigger against the static rules on simulated conversations "
        "with a hidden ground truth (AUCs, precision, recall; docs/learning.md)",
    )
    p.add_argument(
        "--escalating-share", type=share, help="share needing a human, 0 to 1 (default 0.2)"
    )
    p.add_argument(
        "--start",
        type=instant,
        help="ISO time, with a timezone, of the first conversation (default: now)",
    )
    p.add_argument(
        "--minutes",
        type=positive(WEEK_MINUTES, what=" (a week)"),
        help="run the accelerated contact centre for M simulated minutes instead (routing, "
        "SLAs, wait estimates) and print its report",
    )
    p.add_argument(
        "--trace",
        type=readable_file,
        nargs="+",
        metavar="FILE",
        help="instead: replay a contact centre's call log through the router's estimator and "
        "score its waits against simple yardsticks (docs/routing.md)",
    )
    p.add_argument(
        "--format",
        choices=("csv", "technion"),
        help="with --trace: the trace format (default csv) or the Technion call-centre log",
    )
    p.add_argument(
        "--json",
        action="store_true",
        help="with --minutes, --learning or --trace: one JSON object",
    )
    p.add_argument(
        "--rate",
        type=positive(),
        help="with --minutes: handoffs offered per minute (default 3)",
    )
    p.add_argument(
        "--staffing",
        type=positive(),
        help="with --minutes: times Erlang C staffing (default 0.85)",
    )
    p.add_argument(
        "--policy",
        type=readable_file,
        help="with --minutes or --learning: policy file (default: shipped)",
    )
    p.set_defaults(handler=_cmd_simulate)


def _cmd_demo(args: argparse.Namespace) -> int:
    _check_demo(args)
    from warmhandoff.streams.lab.demo.run import run_demo

    interrupt_on_sigterm()
    return run_demo(
        conversations=args.conversations,
        rate=args.rate,
        seed=args.seed,
        full_handoff=args.full_handoff,
        desk_port=args.desk_port if args.desk else None,
    )


def _check_demo(args: argparse.Namespace) -> None:
    """The demo's arguments and environment, checked before it starts a broker or a worker."""
    import math
    import os

    if args.conversations < 1:
        raise UsageError(f"argument --conversations: must be at least 1, got {args.conversations}")
    if not (math.isfinite(args.rate) and args.rate > 0):
        raise UsageError(f"argument --rate: must be above 0, got {args.rate}")
    if not 1 <= args.desk_port <= 65535:
        raise UsageError(f"argument --desk-port: must be a port (1-65535), got {args.desk_port}")
    if args.desk and _port_taken(args.desk_port):
        raise UsageError(
            f"argument --desk-port: {args.desk_port} is in use: pick another with --desk-port"
        )
    _check_lab_environment(args, os.environ.get("WARMHANDOFF_BOOTSTRAP_SERVERS"), BOOTSTRAP_ENV)


def _port_taken(port: int) -> bool:
    """Whether something already listens on 127.0.0.1:`port`."""
    import socket

    with socket.socket() as probe:
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return True
    return False


def _check_lab_environment(args: argparse.Namespace, bootstrap: str | None, origin: str) -> None:
    """The settings the lab's workers will read, and the broker it was pointed at, if any."""
    from warmhandoff.streams.cli.common import settings_from
    from warmhandoff.streams.config.worker import WorkerSettings

    # Each run names its own topics, app id and broker use; every other setting is the
    # environment's, as its worker processes will read it.
    settings_from(
        args, WorkerSettings, topic_prefix="lab.", app_id="warmhandoff-lab", embedded_broker="never"
    )
    if bootstrap:
        require_broker(bootstrap, origin)


#: The options of `simulate` and the modes that use them: the turn output (neither
#: --minutes nor --learning), --minutes or --learning.
SIMULATE_OPTIONS = {
    "conversations": ("turns", "--learning"),
    "escalating_share": ("turns",),
    "start": ("turns", "--minutes"),
    "rate": ("--minutes",),
    "staffing": ("--minutes",),
    "policy": ("--minutes", "--learning"),
    "json": ("--minutes", "--learning", "--trace"),
    "format": ("--trace",),
}


def _cmd_simulate(args: argparse.Namespace) -> int:
    from datetime import UTC, datetime

    from warmhandoff.agents.scenarios import generate

    _check_simulate(args)
    if args.trace is not None:
        return _cmd_trace(args)
    if args.learning:
        return _cmd_learning(args)
    if args.minutes is not None:
        return _cmd_contact_centre(args)
    conversations = generate(
        100 if args.conversations is None else args.conversations,
        seed=args.seed,
        escalating_share=0.2 if args.escalating_share is None else args.escalating_share,
        start=args.start or datetime.now(UTC),
    )
    turns = sorted((t for c in conversations for t in c.turns), key=lambda t: t.ts)
    out = sys.stdout.buffer
    for turn in turns:
        out.write(turn.model_dump_json(exclude_none=True).encode() + b"\n")
    out.flush()
    return 0


def _check_simulate(args: argparse.Namespace) -> None:
    """Refuse options the chosen mode would ignore, and --learning with --minutes."""
    chosen = [
        flag
        for flag, given in (
            ("--minutes", args.minutes is not None),
            ("--learning", args.learning),
            ("--trace", args.trace is not None),
        )
        if given
    ]
    if len(chosen) > 1:
        both = "not both" if len(chosen) == 2 else "only one"
        raise UsageError(f"give {' or '.join(chosen)}, {both}")
    mode = chosen[0] if chosen else "turns"
    for name, modes in SIMULATE_OPTIONS.items():
        if getattr(args, name) in (None, False) or mode in modes:
            continue
        flag = "--" + name.replace("_", "-")
        if mode == "turns":
            raise UsageError(f"{flag} needs {' or '.join(modes)}")
        raise UsageError(f"{flag} does not go with {mode}")
    if args.learning and args.conversations is not None and args.conversations < 30:
        raise UsageError("--conversations must be at least 30 with --learning")


def _cmd_learning(args: argparse.Namespace) -> int:
    """`simulate --learning`: the learned trigger against the static rules."""
    from warmhandoff.streams.lab.simulation.learning import (
        LearningSimConfig,
        run_learning_simulation,
    )
    from warmhandoff.streams.policy.loader import load_policy

    n = 3000 if args.conversations is None else args.conversations
    report = run_learning_simulation(
        load_policy(args.policy), LearningSimConfig(conversations=n, seed=args.seed)
    )
    _print_report(report, as_json=args.json, width=26)
    return 0


def _cmd_trace(args: argparse.Namespace) -> int:
    """`simulate --trace FILE...`: a call log replayed through the router's estimator."""
    from warmhandoff.streams.lab.simulation.trace import read_trace
    from warmhandoff.streams.lab.simulation.trace_replay import replay
    from warmhandoff.streams.lab.simulation.trace_report import report

    trace = read_trace(args.trace, args.format or "csv")
    found = report(replay(trace), events=len(trace.events))
    _print_report(found, as_json=args.json, width=22)
    return 0


def _cmd_contact_centre(args: argparse.Namespace) -> int:
    """`simulate --minutes M`: the accelerated contact centre through the routing code."""
    from warmhandoff.streams.lab.simulation.routing import DEFAULT_START, SimConfig, run_simulation
    from warmhandoff.streams.policy.loader import load_policy

    config = SimConfig(
        minutes=args.minutes,
        seed=args.seed,
        start=args.start or DEFAULT_START,
        handoffs_per_minute=3.0 if args.rate is None else args.rate,
        staffing=0.85 if args.staffing is None else args.staffing,
    )
    report = run_simulation(load_policy(args.policy), config)
    _print_report(report, as_json=args.json, width=22)
    return 0


def _print_report(report: dict[str, object], *, as_json: bool, width: int) -> None:
    """A simulation's report: indented JSON, or one `key value` line per entry."""
    if as_json:
        print_json(report)
        return
    for key, value in report.items():
        print(f"{key:<{width}} {value}")


def _cmd_eval(args: argparse.Namespace) -> int:
    from warmhandoff.streams.lab.eval.detectors import evaluate
    from warmhandoff.streams.policy.loader import load_policy

    if args.embeddings_cache is not None and not args.embeddings:
        raise UsageError("--embeddings-cache needs --embeddings")
    report = evaluate(
        args.data,
        max_per_set=args.max_per_set,
        policy=load_policy(args.policy),
        embeddings=args.embeddings,
        embeddings_cache=args.embeddings_cache,
    )
    from warmhandoff.streams.lab.eval.table import render_table

    print_report(report, args.json, render_table)
    return 0


def _cmd_privacy(args: argparse.Namespace) -> int:
    from warmhandoff.streams.lab.eval.privacy import corpus, measure, render

    report = measure(corpus(args.per_kind, seed=args.seed))
    report["per_kind"], report["seed"] = args.per_kind, args.seed
    print_report(report, args.json, render)
    return 0


def _cmd_bench(args: argparse.Namespace) -> int:
    import json

    from warmhandoff.streams.lab.bench.throughput import bench_main
    from warmhandoff.streams.runtime.logs import configure_logging

    _check_bench(args)
    configure_logging("WARNING")  # logs to stderr: stdout carries the result only
    interrupt_on_sigterm()
    if args.state_store is not None:
        from warmhandoff.streams.lab.bench.throughput import state_store

        print(json.dumps(state_store(args.state_store)))
        return 0
    say = (lambda text: None) if args.json else (lambda text: print(f"[bench] {text}", flush=True))
    seconds = 5.0 if args.seconds is None else args.seconds
    outcome = asyncio.run(
        bench_main(
            seconds=seconds,
            rate=args.rate,
            seed=args.seed,
            say=say,
            profile=args.profile,
            broker_kind=args.broker,
            processing_guarantee=args.processing_guarantee,
        )
    )
    print(json.dumps(outcome.as_json(), indent=None if args.json else 2))
    return 0


def _check_bench(args: argparse.Namespace) -> None:
    """The bench's options and environment, checked before it starts a broker or a worker."""
    import os
    import shutil

    if args.state_store is not None:
        given = {"--seconds": args.seconds, "--rate": args.rate, "--profile": args.profile}
        given["--broker"] = args.broker if args.broker != "embedded" else None
        given["--processing-guarantee"] = args.processing_guarantee
        used = [flag for flag, value in given.items() if value is not None]
        if used:
            raise UsageError(f"{used[0]} does not go with --state-store")
        return
    if args.profile is not None and shutil.which("py-spy") is None:
        raise WarmhandoffError("--profile needs py-spy: pip install py-spy")
    if args.broker == "kafka" and os.environ.get("WARMHANDOFF_BOOTSTRAP_SERVERS"):
        raise UsageError(
            "--broker kafka starts its own broker: unset WARMHANDOFF_BOOTSTRAP_SERVERS"
        )
    embedded = args.broker == "embedded" and not os.environ.get("WARMHANDOFF_BOOTSTRAP_SERVERS")
    if args.processing_guarantee == "exactly_once" and embedded:
        raise UsageError(
            "--processing-guarantee exactly_once needs a broker with transactions, which the "
            "embedded one lacks: add --broker kafka"
        )
    _check_lab_environment(args, os.environ.get("WARMHANDOFF_BOOTSTRAP_SERVERS"), BOOTSTRAP_ENV)


def _cmd_soak(args: argparse.Namespace) -> int:
    import json

    from warmhandoff.streams.lab.bench.soak import Plan, render, soak_main
    from warmhandoff.streams.runtime.logs import configure_logging

    fraction = 0.6 if args.fraction is None else args.fraction
    plan = Plan(
        args.minutes,
        args.rate,
        fraction,
        args.window,
        args.seed,
        args.warmup,
        retention_minutes=args.retention_minutes,
        pin_worker=args.pin_worker,
    )
    plan.check()
    _check_lab_environment(args, args.bootstrap, "--bootstrap")
    configure_logging("WARNING")  # logs to stderr: stdout carries the result only
    interrupt_on_sigterm()
    say = (lambda text: None) if args.json else (lambda text: print(f"[soak] {text}", flush=True))
    report = asyncio.run(
        soak_main(plan, bootstrap=args.bootstrap, say=say, broker_kind=args.broker)
    )
    sys.stdout.write(json.dumps(report) + "\n" if args.json else render(report))
    if args.check and not report["met"]["all"]:
        unmet = ", ".join(k for k, ok in report["met"].items() if k != "all" and not ok)
        print(f"warmhandoff soak: targets not met: {unmet}", file=sys.stderr)
        return 1
    return 0
