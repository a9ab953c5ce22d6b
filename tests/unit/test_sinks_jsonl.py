"""The file sink: one line per handoff_id, across restarts, processes and concurrent calls."""

from __future__ import annotations

import asyncio
from pathlib import Path

import orjson
import pytest

from warmhandoff.streams.sinks.exceptions import SinkConfigError, TransientDeliveryError
from warmhandoff.streams.sinks.jsonl import FileSink

from ..sinkdata import handoff_request

pytestmark = pytest.mark.timeout(30)


def lines(path: Path) -> list[dict[str, object]]:
    return [orjson.loads(line) for line in path.read_bytes().splitlines() if line.strip()]


async def started(path: Path) -> FileSink:
    sink = FileSink(path)
    await sink.start()
    return sink


async def test_appends_the_handoff_as_one_json_line(tmp_path: Path) -> None:
    path = tmp_path / "out" / "handoffs.jsonl"
    sink = await started(path)
    request = handoff_request()
    result = await sink.deliver(request)
    assert result.created is True
    assert result.reference == request.handoff_id
    assert lines(path) == [orjson.loads(request.model_dump_json(exclude_none=True))]
    assert path.read_bytes().endswith(b"\n")


async def test_a_redelivered_or_rerouted_handoff_is_not_appended_again(tmp_path: Path) -> None:
    path = tmp_path / "handoffs.jsonl"
    sink = await started(path)
    first = handoff_request()
    await sink.deliver(first)
    again = await sink.deliver(first)
    rerouted = await sink.deliver(handoff_request(queue="retention"))
    assert again.created is False and rerouted.created is False
    assert [line["handoff_id"] for line in lines(path)] == [first.handoff_id]
    assert lines(path)[0]["routing"]["queue"] == "billing"  # type: ignore[index]


async def test_after_a_restart_ids_already_in_the_file_are_not_appended(tmp_path: Path) -> None:
    path = tmp_path / "handoffs.jsonl"
    one, two = handoff_request("c-1"), handoff_request("c-2")
    await (await started(path)).deliver(one)
    restarted = await started(path)
    assert one.handoff_id in restarted
    assert (await restarted.deliver(one)).created is False
    assert (await restarted.deliver(two)).created is True
    assert [line["conversation_id"] for line in lines(path)] == ["c-1", "c-2"]


async def test_two_sinks_on_one_file_delivering_concurrently_write_one_line(
    tmp_path: Path,
) -> None:
    path = tmp_path / "handoffs.jsonl"
    a, b = await started(path), await started(path)
    request = handoff_request()
    results = await asyncio.gather(*(s.deliver(request) for s in (a, b, a, b)))
    assert sorted(r.created for r in results) == [False, False, False, True]
    assert len(lines(path)) == 1


async def test_a_line_torn_by_a_crash_is_closed_and_its_handoff_written_again(
    tmp_path: Path,
) -> None:
    path = tmp_path / "handoffs.jsonl"
    request = handoff_request()
    whole = request.model_dump_json(exclude_none=True).encode()
    path.write_bytes(whole[: len(whole) // 2])  # the crash cut the write in half
    sink = await started(path)
    assert request.handoff_id not in sink
    assert (await sink.deliver(request)).created is True
    raw = path.read_bytes().split(b"\n")
    assert raw[0] == whole[: len(whole) // 2]
    assert orjson.loads(raw[1])["handoff_id"] == request.handoff_id
    assert raw[2] == b""


async def test_an_unwritable_path_is_a_config_error_and_a_failed_write_is_retried(
    tmp_path: Path,
) -> None:
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("")
    with pytest.raises(SinkConfigError, match="file sink cannot use"):
        await started(blocker / "handoffs.jsonl")
    path = tmp_path / "handoffs.jsonl"
    sink = await started(path)
    path.unlink()
    path.mkdir()  # the file became something that cannot be appended to
    with pytest.raises(TransientDeliveryError) as caught:
        await sink.deliver(handoff_request())
    assert caught.value.reason == "unavailable"
