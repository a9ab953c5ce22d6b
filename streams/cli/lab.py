"""`warmhandoff demo|simulate|eval|privacy|bench|soak`: try it, measure it.

The only commands that import the lab (streams/lab/): nothing else in the product does.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path

from warmhandoff.streams.cli.common import interrupt_on_sigterm, print_json
from warmhandoff.streams.contract.errors import WarmhandoffError


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the demo and the measuring commands."""
    p = sub.add_parser("demo", help="run the whole pipeline on simulated bots and summarise")
    p.add_argument("--conversations", type=int, default=300, help="conversations to simulate")
    p.add_argument("--rate", type=float, default=150.0, help="turns per second offered")
    p.add_argument("--seed", type=int, default=7, help="seed of the simulated traffic")
    p.set_defaults(handler=_cmd_demo)

    _register_simulate(sub)

    p = sub.add_parser("eval", help="measure the detectors on labelled data sets")
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


def _register_simulate(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
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
        "with a hidden ground truth (AUCs, precision, recall; docs/learning.md)",
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


def _cmd_demo(args: argparse.Namespace) -> int:
    from warmhandoff.streams.lab.demo.run import run_demo

    interrupt_on_sigterm()
    return run_demo(conversations=args.conversations, rate=args.rate, seed=args.seed)


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
    """`simulate --learning`: the learned trigger against the static rules."""
    from warmhandoff.streams.lab.simulation.learning import (
        LearningSimConfig,
        run_learning_simulation,
    )
    from warmhandoff.streams.policy.loader import load_policy

    n = 3000 if args.conversations is None else args.conversations
    if n < 30:
        raise WarmhandoffError("--conversations must be at least 30 with --learning")
    report = run_learning_simulation(
        load_policy(args.policy), LearningSimConfig(conversations=n, seed=args.seed)
    )
    _print_report(report, as_json=args.json, width=26)
    return 0


def _cmd_contact_centre(args: argparse.Namespace) -> int:
    """`simulate --minutes M`: the accelerated contact centre through the routing code."""
    from datetime import datetime

    from warmhandoff.streams.lab.simulation.routing import DEFAULT_START, SimConfig, run_simulation
    from warmhandoff.streams.policy.loader import load_policy

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

    if args.max_per_set is not None and args.max_per_set < 1:
        raise WarmhandoffError("--max-per-set must be at least 1")
    report = evaluate(args.data, max_per_set=args.max_per_set, policy=load_policy(args.policy))
    if args.json:
        print_json(report)
    else:
        from warmhandoff.streams.lab.eval.table import render_table

        sys.stdout.write(render_table(report))
    return 0


def _cmd_privacy(args: argparse.Namespace) -> int:
    from warmhandoff.streams.lab.eval.privacy import corpus, measure, render

    if args.per_kind < 1:
        raise WarmhandoffError("--per-kind must be at least 1")
    report = measure(corpus(args.per_kind, seed=args.seed))
    report["per_kind"], report["seed"] = args.per_kind, args.seed
    if args.json:
        print_json(report)
    else:
        sys.stdout.write(render(report))
    return 0


def _cmd_bench(args: argparse.Namespace) -> int:
    import json

    from warmhandoff.streams.lab.bench.throughput import bench_main
    from warmhandoff.streams.runtime.logs import configure_logging

    configure_logging("WARNING")  # logs to stderr: stdout carries the result only
    interrupt_on_sigterm()
    if args.state_store is not None:
        from warmhandoff.streams.lab.bench.throughput import state_store

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

    from warmhandoff.streams.lab.bench.soak import Plan, render, soak_main
    from warmhandoff.streams.runtime.logs import configure_logging

    configure_logging("WARNING")  # logs to stderr: stdout carries the result only
    interrupt_on_sigterm()
    fraction = 0.6 if args.fraction is None else args.fraction
    plan = Plan(args.minutes, args.rate, fraction, args.window, args.seed, args.warmup)
    say = (lambda text: None) if args.json else (lambda text: print(f"[soak] {text}", flush=True))
    report = asyncio.run(soak_main(plan, bootstrap=args.bootstrap, say=say))
    sys.stdout.write(json.dumps(report) + "\n" if args.json else render(report))
    return 0
