"""The call-log replay: trace formats, causality, the yardsticks, credited waiting."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import orjson
import pytest

from warmhandoff.streams.cli.main import main
from warmhandoff.streams.contract.models import PresenceState
from warmhandoff.streams.lab.simulation.trace import (
    HEADER,
    Trace,
    TraceError,
    TraceEvent,
    read_trace,
)
from warmhandoff.streams.lab.simulation.trace_replay import replay
from warmhandoff.streams.lab.simulation.trace_report import report, score
from warmhandoff.streams.policy import PolicyError
from warmhandoff.streams.routing.centre import Centre

from .routing_helpers import SMALL_POLICY, T0, presence, request, small_policy

SHARED_DATA = Path(__file__).resolve().parents[2].parent / "shared" / "data"
JANUARY = SHARED_DATA / "callcenter" / "01_January.txt"

# Hand-written calls in the Technion layout (not rows of the real log).
TECHNION_HEADER = (
    "vru+line\tcall_id\tcustomer_id\tpriority\ttype\tdate\tvru_entry\tvru_exit\tvru_time\t"
    "q_start\tq_exit\tq_time\toutcome\tser_start\tser_exit\tser_time\tserver\n"
)
TECHNION_ROWS = [
    # served at once, never queued
    "ZZ01\t1\t11\t0\tPS\t990301\t9:00:00\t9:00:05\t5\t0:00:00\t0:00:00\t0\tAGENT\t"
    "9:00:05\t9:02:05\t120\tDANA\n",
    # queued 40 s, priority 2, served by DANA after her first call
    "ZZ01\t2\t12\t2\tNE\t990301\t9:00:30\t9:00:40\t10\t9:00:40\t9:01:20\t40\tAGENT\t"
    "9:02:10\t9:03:10\t60\tDANA\n",
    # internet queue, gave up after 25 s
    "ZZ02\t3\t0\t1\tIN\t990301\t9:01:00\t9:01:10\t10\t9:01:10\t9:01:35\t25\tHANG\t"
    "0:00:00\t0:00:00\t0\tNO_SERVER\n",
    # a virtual call
    "ZZ02\t4\t0\t0\tPS\t990301\t9:01:30\t9:01:31\t1\t9:01:31\t9:01:40\t9\tPHANTOM\t"
    "0:00:00\t0:00:00\t0\tNO_SERVER\n",
    # hung up in the voice-response unit
    "ZZ03\t5\t0\t0\tPS\t990301\t9:01:50\t9:01:59\t9\t0:00:00\t0:00:00\t0\tHANG\t"
    "0:00:00\t0:00:00\t0\tNO_SERVER\n",
]


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def csv_trace(rows: list[tuple[int, str, str, str, str, str]]) -> str:
    """CSV trace text from (seconds after T0, event, caller, queue, priority, agent) rows."""
    lines = [",".join(HEADER)]
    for seconds, event, caller, queue, priority, agent in rows:
        ts = (T0 + timedelta(seconds=seconds)).isoformat()
        lines.append(f"{ts},{event},{caller},{queue},{priority},{agent}")
    return "\n".join(lines) + "\n"


# One agent, A. c1 is answered on arrival; c2 and c3 queue; c3 gives up; c4 queues later.
TINY = [
    (0, "arrive", "c1", "q", "", ""),
    (0, "answer", "c1", "", "", "A"),
    (10, "arrive", "c2", "q", "", ""),
    (30, "arrive", "c3", "q", "", ""),
    (60, "end", "c1", "", "", ""),
    (60, "answer", "c2", "", "", "A"),
    (70, "arrive", "c4", "q", "", ""),
    (100, "abandon", "c3", "", "", ""),
    (120, "end", "c2", "", "", ""),
    (120, "answer", "c4", "", "", "A"),
    (150, "end", "c4", "", "", ""),
]


def test_technion_importer_maps_queues_priorities_and_outcomes(tmp_path: Path) -> None:
    path = write(tmp_path, "log.txt", TECHNION_HEADER + "".join(TECHNION_ROWS))
    trace = read_trace([path], "technion")
    seen = [(e.event, e.caller.split("-")[-1], e.queue, e.priority, e.agent) for e in trace.events]
    assert seen == [
        ("arrive", "1", "regular", 3, "DANA"),
        ("answer", "1", "regular", 3, "DANA"),
        ("arrive", "2", "regular", 2, "DANA"),
        ("arrive", "3", "internet", 3, None),
        ("answer", "2", "regular", 2, "DANA"),
        ("abandon", "3", "internet", 3, None),
        ("end", "1", "regular", 3, "DANA"),
        ("end", "2", "regular", 2, "DANA"),
    ]
    assert trace.events[0].ts.hour == 9 and trace.events[0].ts.utcoffset() == timedelta(hours=2)
    # Priority 2's 90 s head start: a level (60 s at one point a minute) and 30 s of credit.
    assert trace.points_per_minute == 1.0 and trace.credits == {2: 30.0}
    answered = next(e for e in trace.events if e.event == "answer" and e.caller.endswith("-2"))
    arrived = next(e for e in trace.events if e.event == "arrive" and e.caller.endswith("-2"))
    assert answered.ts - arrived.ts == timedelta(seconds=40)


@pytest.mark.parametrize(
    ("row", "message"),
    [
        ("ZZ01\t9\t0\t0\tPS\t990301\t9:00:00\n", "log.txt:3: expected 17 tab-separated fields"),
        (TECHNION_ROWS[0].replace("9:00:05\t9:02:05", "9:0x:05\t9:02:05"), "log.txt:3: time"),
        (TECHNION_ROWS[0].replace("AGENT", "LOST"), "log.txt:3: outcome 'LOST'"),
        (TECHNION_ROWS[0].replace("990301", "991340"), "log.txt:3: date '991340'"),
    ],
)
def test_technion_bad_lines_name_the_line(tmp_path: Path, row: str, message: str) -> None:
    path = write(tmp_path, "log.txt", TECHNION_HEADER + TECHNION_ROWS[1] + row)
    with pytest.raises(TraceError, match=message):
        read_trace([path], "technion")


def test_csv_trace_reads_in_order(tmp_path: Path) -> None:
    trace = read_trace([write(tmp_path, "t.csv", csv_trace(TINY))])
    assert [e.event for e in trace.events][:3] == ["arrive", "answer", "arrive"]
    assert trace.events[0].priority == 3 and trace.events[1].agent == "A"
    assert trace.credits == {}


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("ts,event,caller\n", "t.csv:1: the header must be"),
        (
            csv_trace([(0, "arrive", "c1", "q", "", "")]).replace("+00:00", ""),
            "t.csv:2: .*timezone",
        ),
        (csv_trace([(0, "arrive", "c1", "q", "", "")]).replace("arrive", "join"), "t.csv:2: event"),
        (csv_trace([(0, "arrive", "c1", "", "", "")]), "t.csv:2: arrive needs a queue"),
        (csv_trace([(0, "arrive", "c1", "q", "9", "")]), "t.csv:2: priority '9'"),
        (
            csv_trace([(5, "arrive", "c1", "q", "", ""), (0, "arrive", "c2", "q", "", "")]),
            "t.csv:3: out of time order",
        ),
        (csv_trace([(0, "answer", "c1", "", "", "A")]), "t.csv:2: caller 'c1': answer before"),
        (
            csv_trace([(0, "arrive", "c1", "q", "", ""), (1, "end", "c1", "", "", "")]),
            "t.csv:3: caller 'c1': end after arrive",
        ),
        ("ts,event,caller,queue,priority,agent\nnot a time,arrive,c,q,,\n", "t.csv:2: ts"),
    ],
)
def test_csv_bad_input_names_the_line(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(TraceError, match=message):
        read_trace([write(tmp_path, "t.csv", text)])


def test_cli_bad_input_is_one_line_and_non_zero(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["simulate", "--trace", str(tmp_path / "missing.csv")]) == 2
    assert "missing.csv: no such file" in capsys.readouterr().err
    bad = write(tmp_path, "bad.csv", csv_trace([(0, "arrive", "c1", "q", "7", "")]))
    assert main(["simulate", "--trace", str(bad)]) == 2
    err = capsys.readouterr().err
    assert "bad.csv:2: priority '7'" in err and "Traceback" not in err and err.count("\n") == 1
    assert main(["simulate", "--trace", str(bad), "--minutes", "5"]) == 2
    assert "give --minutes or --trace, not both" in capsys.readouterr().err
    assert main(["simulate", "--format", "technion"]) == 2
    assert "--format needs --trace" in capsys.readouterr().err


def test_yardsticks_on_a_tiny_trace_by_hand(tmp_path: Path) -> None:
    predictions = {
        p.caller: p for p in replay(read_trace([write(tmp_path, "t.csv", csv_trace(TINY))]))
    }
    # Head of line: c2 found nobody waiting, c3 found c2 (20 s), c4 found c3 (40 s).
    assert [predictions[c].hol for c in ("c2", "c3", "c4")] == [0.0, 20.0, 40.0]
    # Last to enter service from the queue: none before c2 answered (50 s) at 60.
    assert [predictions[c].les for c in ("c2", "c3", "c4")] == [0.0, 0.0, 50.0]
    # Naive: place x mean handle / agents; the handle time is the prior (300 s) shrunk with
    # c1's 60 s once it ended: (60 + 5 x 300) / 6 = 260, and c4 is second behind c3.
    assert predictions["c2"].naive == pytest.approx(300.0)
    assert predictions["c4"].naive == pytest.approx(520.0)
    assert (predictions["c2"].waited, predictions["c4"].waited) == (50.0, 50.0)
    assert predictions["c3"].abandoned and predictions["c3"].waited == 70.0
    assert not predictions["c1"].queued
    found = score([p for p in predictions.values() if p.queued])
    assert found["callers"] == 2
    assert found["hol_rase_s"] == pytest.approx(((50**2 + 10**2) / 2) ** 0.5, abs=0.05)
    assert found["les_rase_s"] == pytest.approx(((50**2 + 0) / 2) ** 0.5, abs=0.05)
    assert found["naive_rase_s"] == pytest.approx(((250**2 + 470**2) / 2) ** 0.5, abs=0.05)
    gone = found["abandoned"]
    assert gone["callers"] == 1
    assert gone["before_range"] + gone["inside_range"] + gone["after_range"] == pytest.approx(1)


def test_an_estimate_never_reads_the_future(tmp_path: Path) -> None:
    base = replay(read_trace([write(tmp_path, "a.csv", csv_trace(TINY))]))
    # Everything after c3's arrival changes: later answers, another caller, no abandonment.
    future = [
        *TINY[:3],
        (30, "arrive", "c3", "q", "", ""),
        (40, "arrive", "c9", "q", "1", ""),
        (90, "end", "c1", "", "", ""),
        (95, "answer", "c9", "", "", "A"),
        (300, "end", "c9", "", "", ""),
        (300, "answer", "c2", "", "", "B"),
        (310, "answer", "c3", "", "", "A"),
    ]
    changed = replay(read_trace([write(tmp_path, "b.csv", csv_trace(future))]))
    before = {p.caller: p for p in base}
    after = {p.caller: p for p in changed}
    for caller in ("c1", "c2", "c3"):
        kept = (before[caller].point, before[caller].low, before[caller].high)
        assert (after[caller].point, after[caller].low, after[caller].high) == kept
        assert (after[caller].naive, after[caller].hol, after[caller].les) == (
            before[caller].naive,
            before[caller].hol,
            before[caller].les,
        )
    assert after["c2"].waited != before["c2"].waited  # the future did change


def test_report_has_every_key_and_breakdowns() -> None:
    events = [
        TraceEvent(T0 + timedelta(seconds=s), ev, c, q or "q", 3, a or None, f"x:{i}")
        for i, (s, ev, c, q, _, a) in enumerate(TINY)
    ]
    found = report(replay(Trace(events)), events=len(events))
    for key in ("rase_s", "mae_s", "in_range_rate", "naive_rase_s", "hol_rase_s", "les_rase_s"):
        assert key in found
    assert found["callers"] == 2 and found["events"] == len(TINY)
    assert set(found["by_queue_priority"]) == {"q priority 3"}
    assert set(found["by_week"]) == {"week 1"}


def test_credited_waiting_orders_the_queue_and_counts_in_the_view() -> None:
    defaults = {**SMALL_POLICY["defaults"], "priority_credit_seconds": {2: 30}}
    credited = Centre.from_policy(small_policy(defaults=defaults))
    plain = Centre.from_policy(small_policy())
    for centre in (credited, plain):
        centre.presence(presence("a1", state=PresenceState.busy, active=1), T0)
        centre.arrive(request("early", priority=3, created=T0), T0)
        later = T0 + timedelta(seconds=75)
        centre.arrive(request("late", priority=2, created=later), later)
    now = T0 + timedelta(seconds=80)
    # Early: 3 - 80/60 = 1.67. Late: 2 - 5/60 = 1.92 plain, 2 - 35/60 = 1.42 with credit.
    assert plain.view(plain.waiting["late"], now).ahead == 1
    assert credited.view(credited.waiting["late"], now).ahead == 0
    assert credited.view(credited.waiting["early"], now).ahead == 1
    assert credited.waiting["late"].credit_seconds == 30.0
    assert credited.view(credited.waiting["late"], now).credit_seconds == 30.0


def test_credited_waiting_is_validated() -> None:
    defaults = {**SMALL_POLICY["defaults"], "priority_credit_seconds": {9: 30}}
    with pytest.raises(PolicyError):
        small_policy(defaults=defaults)


@pytest.mark.data
@pytest.mark.skipif(not JANUARY.is_file(), reason="../shared/data/callcenter is not present")
@pytest.mark.timeout(240)
def test_january_replay_reports_every_key(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["simulate", "--trace", str(JANUARY), "--format", "technion", "--json"]) == 0
    found = orjson.loads(capsys.readouterr().out)
    for key in ("rase_s", "mae_s", "in_range_rate", "naive_rase_s", "hol_rase_s", "les_rase_s"):
        assert isinstance(found[key], float)
    assert found["callers"] > 0
    assert {"regular", "internet"} == set(found["by_queue"])
    assert len(found["by_week"]) >= 4
