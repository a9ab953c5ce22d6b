"""aiokafka's offset reset refreshes its metadata when it asked a broker that no longer leads.

A consumer resets a partition without a committed offset (`auto_offset_reset`) with a
ListOffsets request to the partition's leader as its cached metadata has it. aiokafka 0.14's
`Fetcher._update_fetch_positions` retries a NOT_LEADER answer every 100 ms without refreshing
that metadata, so after a leader moved (a broker frozen or restarted on a cluster) the reset,
and every other partition waiting behind it on that broker, stalls until the metadata's
maximum age (5 minutes by default). Seen on a three-node cluster: a sink froze for over 90 s
after a broker came back from a 30-s SIGSTOP (tests/faults/test_cluster_faults.py). aiokafka's
own `_retrieve_offsets` already refreshes on the same error, as the Java client does.

`apply()` wraps `Fetcher._proc_offset_request` so an error that says the metadata is stale
asks for fresh metadata before it propagates; every warmhandoff process applies it at start.
`test_the_private_names_this_fix_wraps_still_exist` (tests/unit/test_offset_reset.py) fails if
an aiokafka upgrade renames what it wraps.
"""

from __future__ import annotations

import functools
from typing import Any

from aiokafka.consumer import fetcher
from aiokafka.errors import KafkaError

_MARK = "_warmhandoff_refreshes_metadata"


def apply() -> None:
    """Wrap the offset request once per process (calling it again changes nothing)."""
    original = fetcher.Fetcher._proc_offset_request
    if getattr(original, _MARK, False):
        return

    @functools.wraps(original)
    async def proc_offset_request(self: Any, node_id: int, topic_data: Any) -> Any:
        try:
            return await original(self, node_id, topic_data)
        except KafkaError as error:
            if error.invalid_metadata:
                self._client.force_metadata_update()
            raise

    setattr(proc_offset_request, _MARK, True)
    fetcher.Fetcher._proc_offset_request = proc_offset_request
