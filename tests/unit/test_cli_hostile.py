"""Every subcommand refuses hostile arguments, files and environments the same way: a non-zero
exit status, exactly one line on stderr, and no traceback anywhere.

Most cases run in-process through `main(argv)`; the ones whose faithfulness depends on the
real process (logging configured by a long-running command, the Kafka client's own log
records, stdin, exit codes) run as `python -m warmhandoff.streams.cli`. No case starts a
broker, a worker or a demo: arguments are checked first, and the environment points at
127.0.0.1:1, where nothing answers, so a check that let a case through would fail fast
rather than start anything. Every case runs in its own tmp_path as the working directory.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.unit.hostile_strategies import HOSTILE
from warmhandoff.streams.cli import main

DEFAULT_POLICY = Path(__file__).resolve().parents[2] / "streams" / "policy" / "default.yaml"
NO_BROKER = "127.0.0.1:1"
BIG_LINE = 5 * 1024 * 1024


@dataclass(frozen=True)
class Case:
    """One hostile invocation: arguments (with {file} placeholders), environment, and a part
    of the one-line reason it must give."""

    argv: tuple[str, ...]
    says: str = ""
    env: dict[str, str] = field(default_factory=dict)
    stdin: bytes | None = None

    @property
    def id(self) -> str:
        words = " ".join(self.argv) or "(no command)"
        extra = " ".join(f"{k}={v}" for k, v in self.env.items())
        return f"{words} {extra}".strip().replace("{", "").replace("}", "")


def case(*argv: str, says: str = "", **env: str) -> Case:
    return Case(tuple(argv), says, {f"WARMHANDOFF_{k.upper()}": v for k, v in env.items()})


# --- files every case may name ----------------------------------------------------------


@pytest.fixture(scope="module")
def big_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One 5 MB line of JSON-looking text (shared: it takes a moment to write)."""
    path = tmp_path_factory.mktemp("big") / "big.jsonl"
    path.write_bytes(b'{"text": "' + b"x" * BIG_LINE + b'"}\n')
    return path


@pytest.fixture
def files(tmp_path: Path, big_file: Path) -> Iterator[dict[str, str]]:
    """Placeholder -> path: good inputs to combine with bad ones, and the bad ones."""
    turn = {
        "conversation_id": "c-1",
        "seq": 0,
        "ts": "2026-11-25T16:00:00Z",
        "role": "customer",
        "text": "hello",
        "locale": "en-US",
    }
    paths = {
        "policy": DEFAULT_POLICY,
        "turns": tmp_path / "turns.jsonl",
        "missing": tmp_path / "missing.jsonl",
        "dir": tmp_path / "folder",
        "bin": tmp_path / "binary.dat",
        "empty": tmp_path / "empty.jsonl",
        "junk": tmp_path / "junk.jsonl",
        "badpolicy": tmp_path / "bad.yaml",
        "big": big_file,
    }
    paths["turns"].write_bytes(orjson.dumps(turn) + b"\n")
    paths["dir"].mkdir()
    paths["bin"].write_bytes(bytes(range(256)) * 8)
    paths["empty"].write_bytes(b"")
    paths["junk"].write_bytes(b'{not json\n[1, 2]\n"a string"\n{"hello": 1}\n')
    paths["badpolicy"].write_text(
        DEFAULT_POLICY.read_text().replace("threshold: -0.6", "threshold: 3", 1)
    )
    with socket.socket() as listening:  # a port where something answers: not free for a broker
        listening.bind(("127.0.0.1", 0))
        listening.listen()
        found = {name: str(path) for name, path in paths.items()}
        found["listening"] = f"127.0.0.1:{listening.getsockname()[1]}"
        yield found


@pytest.fixture(autouse=True)
def hostile_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A clean environment pointing at no broker, and tmp_path as the working directory."""
    for name in list(os.environ):
        if name.startswith("WARMHANDOFF_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("WARMHANDOFF_BOOTSTRAP_SERVERS", NO_BROKER)
    monkeypatch.setenv("WARMHANDOFF_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.chdir(tmp_path)


def fill(argv: tuple[str, ...], files: dict[str, str]) -> list[str]:
    return [arg.format(**files) for arg in argv]


def assert_refused(code: object, out: str, err: str, says: str = "") -> None:
    """Non-zero, one line on stderr that names the reason, no traceback anywhere."""
    assert code not in (0, None), (code, out[-500:], err[-500:])
    assert "Traceback" not in out and "Traceback" not in err, err[-2000:]
    lines = err.splitlines()
    assert len(lines) == 1, err[-2000:]
    assert lines[0].startswith("warmhandoff: error: "), lines[0]
    assert says in lines[0], (says, lines[0])


def run_in_process(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[object, str, str]:
    try:
        code: object = main(argv)
    except SystemExit as exited:  # --help and --version only; anything else is a failure
        code = exited.code
    captured = capsys.readouterr()
    return code, captured.out, captured.err


# --- the table --------------------------------------------------------------------------

CASES = [
    # the command line as a whole
    case(says="required: COMMAND"),
    case("nonsense", says="invalid choice"),
    case("--bogus", "replay", "{turns}", says="unrecognized arguments: --bogus"),
    case("policy", says="required: ACTION"),
    case("sink", says="required: KIND"),
    # demo: checked before it starts a broker, a worker or a router
    case("demo", "--conversations", "0", says="--conversations: must be at least 1"),
    case("demo", "--conversations=-3", says="--conversations"),
    case("demo", "--conversations", "many", says="invalid int value"),
    case("demo", "--rate", "0", says="--rate: must be above 0"),
    case("demo", "--rate=-1", says="--rate"),
    case("demo", "--rate", "nan", says="--rate"),
    case("demo", "--rate", "inf", says="--rate"),
    case("demo", "--seed", "x", says="--seed"),
    case("demo", "--bogus", says="unrecognized arguments"),
    case("demo", says=f"no Kafka broker answers at {NO_BROKER}"),
    case("demo", says="WARMHANDOFF_WEB_PORT", web_port="notaport"),
    case("demo", says="WARMHANDOFF_BOOTSTRAP_SERVERS", bootstrap_servers="localhost:x"),
    # broker: never one that would start (the bootstrap is remote, taken or bad)
    case("broker", "--bootstrap", "example.com:9092", says="starts a local broker"),
    case("broker", "--bootstrap", "localhost:99999", says="bad port"),
    case("broker", "--bootstrap", "{listening}", says="already answers"),
    case("broker", "--bootstrap", "example.com:9092", says="WEB_PORT", web_port="notaport"),
    case("kafka", "--bootstrap", "example.com:9092", says="starts a local broker"),
    case("kafka", "--bootstrap", "localhost:99999", says="bad port"),
    case("kafka", "--bootstrap", "{listening}", says="already answers"),
    case("broker", "--bogus", says="unrecognized arguments"),
    # topics
    case("topics", says="required: action"),
    case("topics", "destroy", says="invalid choice"),
    case("topics", "apply", "--replication-factor", "0", says="--replication-factor"),
    case("topics", "check", "--replication-factor", "three", says="--replication-factor"),
    case("topics", "check", says=f"topic admin on {NO_BROKER} failed"),
    case("topics", "apply", "--bootstrap", NO_BROKER, says="failed"),
    case("topics", "apply", says="WARMHANDOFF_TOPIC_PREFIX", topic_prefix="not a prefix"),
    case("topics", "check", says="missing.jsonl", topics_file="{missing}"),
    case("topics", "check", says="SASL", security_protocol="SASL_SSL"),
    case("topics", "check", says="not UTF-8", topics_file="{bin}"),
    # worker, router, learner, sink: everything that fails before they log or connect
    case("worker", "--policy", "{missing}", says="no such file"),
    case("worker", "--policy", "{dir}", says="a directory"),
    case("worker", "--policy", "{bin}", says="not UTF-8"),
    case("worker", "--policy", "{empty}", says="empty"),
    case("worker", "--policy", "{badpolicy}", says="threshold"),
    case("worker", says="WARMHANDOFF_WEB_PORT", web_port="notaport"),
    case("worker", says="WARMHANDOFF_LOG_LEVEL", log_level="LOUD"),
    case("worker", says="missing.jsonl", policy_file="{missing}"),
    case("worker", "--bootstrap", "localhost:notaport", says="bad port"),
    case("worker", "--bogus", says="unrecognized arguments"),
    case("worker", says="junk.jsonl", topics_file="{junk}"),
    case("worker", says="TLS files", security_protocol="SSL", ssl_cafile="{missing}"),
    case("router", "--policy", "{bin}", says="not UTF-8"),
    case("router", "--policy", "{missing}", says="no such file"),
    case("router", says="junk.jsonl", policy_file="{junk}"),
    case("router", says="WARMHANDOFF_WEB_PORT", web_port="70000"),
    case("router", "--bootstrap", "localhost:0", says="bad port"),
    case("learner", "--shadow-policy", "{missing}", says="no such file"),
    case("learner", "--shadow-policy", "{junk}", says="junk.jsonl"),
    case("learner", says="SURVEY_SAMPLE", learner_survey_sample="2"),
    case("learner", says="WARMHANDOFF_WEB_PORT", web_port="notaport"),
    case("sink", "zendesk", says="invalid choice"),
    case("sink", "webhook", says="needs --url"),
    case("sink", "webhook", "--url", "https://crm.example.com/h", "--secret", "", says="empty"),
    case("sink", "webhook", "--url", "http://crm.example.com/h", "--secret", "s", says="https"),
    case("sink", "salesforce", says="CLIENT_ID"),
    case("sink", "salesforce", says="PRIORITIES", sink_salesforce_priorities="{{not json"),
    case("sink", "file", says="needs --path"),
    case("sink", "file", "--path", "{dir}", says="a directory"),
    case("sink", "file", "--path", "{bin}/handoffs.jsonl", says="not a directory"),
    case("sink", "file", "--path", "h.jsonl", says="RETRY_ATTEMPTS", sink_retry_attempts="0"),
    # replay
    case("replay", "{missing}", says="no such file"),
    case("replay", "{dir}", says="a directory"),
    case("replay", "{bin}", says="none a turn event"),
    case("replay", "{empty}", says="no turn events"),
    case("replay", "{junk}", says="read 4 lines, none a turn event"),
    case("replay", "{big}", says="longer than 64000 bytes"),
    case("replay", "--policy", "{bin}", "{turns}", says="not UTF-8"),
    case("replay", "{turns}", says="MAX_TURN_BYTES", max_turn_bytes="abc"),
    case("replay", "{turns}", says="MAX_TURN_BYTES", max_turn_bytes="0"),
    # policy check
    case("policy", "check", "{missing}", says="No such file"),
    case("policy", "check", "{dir}", says="directory"),
    case("policy", "check", "{bin}", says="not UTF-8"),
    case("policy", "check", "{empty}", says="empty"),
    case("policy", "check", "{junk}", says="junk.jsonl"),
    case("policy", "check", "{badpolicy}", says="threshold"),
    case("policy", "check", says="required: FILE"),
    # policy diff
    case("policy", "diff", "{missing}", "{policy}", "--on", "{turns}", says="OLD"),
    case("policy", "diff", "{policy}", "{bin}", "--on", "{turns}", says="not UTF-8"),
    case("policy", "diff", "{policy}", "{policy}", says="required: --on"),
    case("policy", "diff", "{policy}", "{policy}", "--on", "{missing}", says="no such file"),
    case("policy", "diff", "{policy}", "{policy}", "--on", "{dir}", says="a directory"),
    case("policy", "diff", "{policy}", "{policy}", "--on", "{bin}", says="none a turn event"),
    case("policy", "diff", "{policy}", "{policy}", "--on", "{empty}", says="no lines"),
    case("policy", "diff", "{policy}", "{policy}", "--on", "{junk}", says="4 lines, none"),
    case("policy", "diff", "{policy}", "{policy}", "--on", "{big}", says="longer than 64000"),
    case("policy", "diff", "{policy}", "{policy}", "--on", "{turns}", "--labels", "{empty}",
         says="no labels"),
    case("policy", "diff", "{policy}", "{policy}", "--on", "{turns}", "--labels", "{junk}",
         says="labels line 1"),
    case("policy", "diff", "{policy}", "{policy}", "--on", "{turns}", says="MAX_TURN_BYTES",
         max_turn_bytes="-1"),
    # report
    case("report", "{missing}", says="no such file"),
    case("report", "{dir}", says="a directory"),
    case("report", "{bin}", says="none a topic record or a replay line"),
    case("report", "{empty}", says="read 0 lines"),
    case("report", "{junk}", says="read 4 lines, none a topic record or a replay line"),
    case("report", "{big}", says="1 longer than"),
    case("report", "{turns}", says="replay them first"),
    case("report", "{turns}", "--target-precision", "0", says="--target-precision"),
    case("report", "{turns}", "--target-precision", "1.5", says="--target-precision"),
    case("report", "{turns}", "--target-precision", "nan", says="finite"),
    case("report", "{turns}", "--since-hours", "2", says="go with --from-topics"),
    case("report", "{turns}", "--from-topics", says="not both"),
    case("report", "--from-topics", says=f"no Kafka broker answers at {NO_BROKER}"),
    case("report", "--from-topics", "--since-hours", "0", says="--since-hours"),
    case("report", "--from-topics", says="SECURITY_PROTOCOL", security_protocol="bogus"),
    # audit
    case("audit", says="one of them"),
    case("audit", "d-1", "--conversation", "c-1", says="one of them"),
    case("audit", "", says="must not be empty"),
    case("audit", "d-1", says=f"no Kafka broker answers at {NO_BROKER}"),
    case("audit", "--conversation", "c-1", "--bootstrap", NO_BROKER, says="no Kafka broker"),
    case("audit", "d-1", says="WARMHANDOFF_APP_ID", app_id="no spaces allowed"),
    case("audit", "d-1", says="TLS files", security_protocol="SSL", ssl_cafile="{dir}"),
    # simulate
    case("simulate", "--conversations", "0", says="--conversations"),
    case("simulate", "--conversations=-5", says="--conversations"),
    case("simulate", "--conversations", "1e3", says="whole number"),
    case("simulate", "--learning", "--conversations", "10", says="at least 30"),
    case("simulate", "--escalating-share", "1.5", says="--escalating-share"),
    case("simulate", "--start", "notadate", says="--start"),
    case("simulate", "--start", "2026-11-25T16:00:00", says="timezone"),
    case("simulate", "--start", "9999-12-31T00:00:00Z", says="--start"),
    case("simulate", "--minutes", "0", says="--minutes"),
    case("simulate", "--minutes", "20000", says="a week"),
    case("simulate", "--rate", "3", says="--rate needs --minutes"),
    case("simulate", "--json", says="--json needs"),
    case("simulate", "--learning", "--minutes", "5", says="not both"),
    case("simulate", "--minutes", "5", "--escalating-share", "0.3", says="does not go with"),
    case("simulate", "--minutes", "5", "--staffing", "0", says="--staffing"),
    case("simulate", "--minutes", "5", "--policy", "{bin}", says="not UTF-8"),
    # eval
    case("eval", says="required: --data"),
    case("eval", "--data", "{missing}", says="not a directory"),
    case("eval", "--data", "{turns}", says="not a directory"),
    case("eval", "--data", "{dir}", says="none of the known data sets"),
    case("eval", "--data", "{dir}", "--max-per-set", "0", says="--max-per-set"),
    case("eval", "--data", "{dir}", "--policy", "{bin}", says="not UTF-8"),
    # privacy
    case("privacy", "--per-kind", "0", says="--per-kind"),
    case("privacy", "--per-kind", "x", says="whole number"),
    case("privacy", "--seed", "1.5", says="--seed"),
    # bench
    case("bench", "--seconds", "0", says="--seconds"),
    case("bench", "--rate=-1", says="--rate"),
    case("bench", "--state-store", "0", says="--state-store"),
    case("bench", "--state-store", "3", "--rate", "5", says="does not go with --state-store"),
    case("bench", "--profile", "{dir}", says="a directory"),
    case("bench", "--profile", "{missing}/out.txt", says="no directory"),
    case("bench", "--seconds", "1", says=f"no Kafka broker answers at {NO_BROKER}"),
    case("bench", says="WARMHANDOFF_WEB_PORT", web_port="notaport"),
    case("bench", "--broker", "zookeeper", says="invalid choice"),
    case("bench", "--broker", "kafka", says="unset WARMHANDOFF_BOOTSTRAP_SERVERS"),
    case("bench", "--state-store", "3", "--broker", "kafka", says="does not go with"),
    # soak
    case("soak", "--minutes", "0", says="--minutes"),
    case("soak", "--window", "0", says="--window"),
    case("soak", "--warmup", "0", says="--warmup"),
    case("soak", "--rate", "1", "--fraction", "0.5", says="not allowed with"),
    case("soak", "--fraction", "0", says="--fraction"),
    case("soak", "--minutes", "1", "--warmup", "5", says="leave windows to judge"),
    case("soak", "--bootstrap", NO_BROKER, says=f"no Kafka broker answers at {NO_BROKER}"),
]  # fmt: skip


@pytest.mark.parametrize("hostile", CASES, ids=lambda c: c.id)
def test_in_process(
    hostile: Case,
    files: dict[str, str],
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for name, value in hostile.env.items():
        monkeypatch.setenv(name, value.format(**files))
    code, out, err = run_in_process(fill(hostile.argv, files), capsys)
    assert_refused(code, out, err, hostile.says)


# --- through the real entry point ------------------------------------------------------

SUBPROCESS_CASES = [
    # long-running processes: logging is on before the broker probe, yet only the refusal shows
    case("worker", "--bootstrap", NO_BROKER, says="no Kafka broker answers"),
    case("router", says="no Kafka broker answers", log_level="DEBUG"),
    case("learner", says="no Kafka broker answers"),
    case("sink", "file", "--path", "h.jsonl", says="no Kafka broker answers"),
    case("router", says="WARMHANDOFF_WEB_PORT", web_port="notaport"),
    # the Kafka client's own log records of the failure are not printed beside the reason
    case("audit", "d-1", says="no Kafka broker answers"),
    case("report", "--from-topics", says="no Kafka broker answers"),
    case("topics", "check", says="failed"),
    # argparse, the demo's checks and standard input
    case("simulate", "--start", "notadate", says="--start"),
    case("demo", "--conversations", "0", says="--conversations"),
    Case(("report", "-"), "none a topic record", stdin=bytes(range(256)) * 4),
    Case(("replay", "-"), "no turn events", stdin=b""),
]


@pytest.mark.parametrize("hostile", SUBPROCESS_CASES, ids=lambda c: c.id)
def test_through_the_entry_point(hostile: Case, files: dict[str, str], tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("WARMHANDOFF_")}
    env |= {"WARMHANDOFF_BOOTSTRAP_SERVERS": NO_BROKER, "WARMHANDOFF_DATA_DIR": str(tmp_path)}
    env |= {name: value.format(**files) for name, value in hostile.env.items()}
    done = subprocess.run(
        [sys.executable, "-m", "warmhandoff.streams.cli", *fill(hostile.argv, files)],
        input=hostile.stdin or b"",
        capture_output=True,
        cwd=tmp_path,
        env=env,
        timeout=60,
    )
    out, err = done.stdout.decode(errors="replace"), done.stderr.decode(errors="replace")
    assert_refused(done.returncode, out, err, hostile.says)
    assert done.returncode == 2


# --- numbers out of range, drawn ---------------------------------------------------------

non_finite = st.sampled_from(["nan", "inf", "-inf"])
garbage = st.sampled_from(["", "x", "1e", "0x10", "1,5", "--", "½"])
not_positive = st.floats(max_value=0.0, allow_nan=False).map(repr) | non_finite | garbage
below_one = st.integers(max_value=0).map(str) | garbage | st.sampled_from(["1.5", "1e3"])
not_a_share = (
    st.floats(min_value=1.0, exclude_min=True, allow_infinity=False).map(repr)
    | st.floats(max_value=-1e-9, allow_infinity=False).map(repr)
    | non_finite
    | garbage
)
over_a_week = st.floats(min_value=10_080.0, exclude_min=True, allow_infinity=False).map(repr)
minutes = not_positive | over_a_week


# capsys is read after every example, so one fixture serves them all.
NUMBERS = settings(
    HOSTILE,
    max_examples=40,
    suppress_health_check=[*HOSTILE.suppress_health_check, HealthCheck.function_scoped_fixture],
)


def refused(argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run_in_process(argv, capsys)
    assert_refused(code, out, err)


@NUMBERS
@given(
    option=st.one_of(
        st.tuples(st.just("--conversations"), below_one),
        st.tuples(st.just("--escalating-share"), not_a_share),
        st.tuples(st.just("--minutes"), minutes),
    )
)
def test_simulate_numbers(option: tuple[str, str], capsys: pytest.CaptureFixture[str]) -> None:
    name, value = option
    refused(["simulate", f"{name}={value}"], capsys)


@NUMBERS
@given(name=st.sampled_from(["--rate", "--staffing"]), value=not_positive)
def test_simulate_contact_centre_numbers(
    name: str, value: str, capsys: pytest.CaptureFixture[str]
) -> None:
    refused(["simulate", "--minutes", "5", f"{name}={value}"], capsys)


@NUMBERS
@given(
    option=st.one_of(
        st.tuples(st.just("--target-precision"), not_a_share | st.just("0")),
        st.tuples(st.just("--since-hours"), not_positive),
    )
)
def test_report_numbers(option: tuple[str, str], capsys: pytest.CaptureFixture[str]) -> None:
    name, value = option
    refused(["report", "--from-topics", f"{name}={value}"], capsys)


@NUMBERS
@given(
    option=st.one_of(
        st.tuples(st.just("--conversations"), st.integers(max_value=0).map(str) | garbage),
        st.tuples(st.just("--rate"), not_positive),
    )
)
def test_demo_numbers(option: tuple[str, str], capsys: pytest.CaptureFixture[str]) -> None:
    name, value = option
    refused(["demo", f"{name}={value}"], capsys)


@NUMBERS
@given(
    option=st.sampled_from(
        [
            ("soak", "--minutes"),
            ("soak", "--window"),
            ("soak", "--rate"),
            ("bench", "--seconds"),
            ("bench", "--rate"),
        ]
    ),
    value=not_positive,
)
def test_lab_numbers(
    option: tuple[str, str], value: str, capsys: pytest.CaptureFixture[str]
) -> None:
    command, name = option
    refused([command, f"{name}={value}"], capsys)


# --- what still works ------------------------------------------------------------------


def test_a_report_of_replay_output_says_what_it_lacks(
    files: dict[str, str], capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["replay", files["turns"]]) == 0
    replayed = Path("replayed.jsonl")
    replayed.write_text(capsys.readouterr().out + "{not json\n")
    assert main(["report", str(replayed)]) == 0
    captured = capsys.readouterr()
    assert captured.err == "warmhandoff: skipped 1 of 2 lines: 1 not JSON\n"
    assert "1 decisions (1 from replay output)" in captured.out
    assert "csat                               -  (needs handoff events: csat)" in captured.out
    assert main(["report", str(replayed), "--json"]) == 0
    report = orjson.loads(capsys.readouterr().out)
    assert report["kpis"]["conversations"] == 1 and report["kpis"]["csat_responses"] is None
    assert report["missing"]["service_level"].startswith("handoff events")
    assert report["inputs"]["skipped"] == {"not JSON": 1}


def test_policy_diff_says_what_it_skipped(
    files: dict[str, str], capsys: pytest.CaptureFixture[str]
) -> None:
    turns = Path("mixed.jsonl")
    turns.write_bytes(
        Path(files["turns"]).read_bytes() + b"{not json\n" + Path(files["big"]).read_bytes()
    )
    argv = ["policy", "diff", files["policy"], files["policy"], "--on", str(turns), "--json"]
    assert main(argv) == 0
    captured = capsys.readouterr()
    assert captured.err == (
        "warmhandoff: mixed.jsonl: skipped 2 of 3 lines: 1 longer than 64000 bytes, 1 not JSON\n"
    )
    report = orjson.loads(captured.out)
    assert report["conversations"] == 1 and report["lines"] == 3
