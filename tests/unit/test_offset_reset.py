"""The offset reset's metadata refresh (streams/runtime/offset_reset.py), on plain values."""

from __future__ import annotations

import inspect
from typing import Any

import pytest
from aiokafka.client import AIOKafkaClient
from aiokafka.consumer import fetcher
from aiokafka.errors import NotLeaderForPartitionError, OffsetOutOfRangeError

from warmhandoff.streams.runtime import offset_reset

pytestmark = pytest.mark.timeout(30)


class Client:
    def __init__(self) -> None:
        self.refreshes = 0

    def force_metadata_update(self) -> None:
        self.refreshes += 1


class Fetcher:
    """Stands in for aiokafka's Fetcher: only what the wrapper touches."""

    def __init__(self) -> None:
        self._client = Client()


def test_the_private_names_this_fix_wraps_still_exist() -> None:
    params = list(inspect.signature(fetcher.Fetcher._proc_offset_request).parameters)
    assert params == ["self", "node_id", "topic_data"]
    assert inspect.iscoroutinefunction(fetcher.Fetcher._proc_offset_request)
    assert inspect.isfunction(AIOKafkaClient.force_metadata_update)


async def test_a_stale_leader_answer_refreshes_the_metadata_then_propagates(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    answers: list[Exception | None] = [NotLeaderForPartitionError(), OffsetOutOfRangeError(), None]

    async def original(self: Any, node_id: int, topic_data: Any) -> Any:
        answer = answers.pop(0)
        if answer is not None:
            raise answer
        return {"tp": (7, 0)}

    monkeypatch.setattr(fetcher.Fetcher, "_proc_offset_request", original)
    offset_reset.apply()
    offset_reset.apply()  # once per process, however often it is called
    wrapped = fetcher.Fetcher._proc_offset_request
    me = Fetcher()
    with pytest.raises(NotLeaderForPartitionError):
        await wrapped(me, 2, {})
    assert me._client.refreshes == 1  # the leader moved: ask for fresh metadata
    with pytest.raises(OffsetOutOfRangeError):
        await wrapped(me, 2, {})
    assert me._client.refreshes == 1  # not a metadata problem: nothing to refresh
    assert await wrapped(me, 2, {}) == {"tp": (7, 0)}
    assert me._client.refreshes == 1
