"""The generated traffic the integration and fault tests publish (tests/integration/conftest.py).

Gather deadlines are computed from turn timestamps, and the tests expect every one of them to
have passed on the wall clock. Enough conversations span more than an hour: stamped from an
hour ago without the shift, the last ones lay in the future and the long fault run counted
their transfers as lost handoffs."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from itertools import pairwise

from tests.integration.conftest import traffic
from warmhandoff.agents.scenarios import generate


def test_every_generated_turn_is_stamped_at_least_an_hour_ago_with_its_spacing_kept() -> None:
    turns = traffic(8000, seed=3)
    assert turns[-1].ts - turns[0].ts > timedelta(hours=1)  # the case that needs the shift
    assert turns[-1].ts <= datetime.now(UTC) - timedelta(hours=1)
    plain = generate(8000, seed=3, start=datetime.now(UTC), prefix="s3")
    unshifted = sorted((t for c in plain for t in c.turns), key=lambda t: t.ts)
    assert [(t.conversation_id, t.seq) for t in turns] == [
        (t.conversation_id, t.seq) for t in unshifted
    ]
    assert [b.ts - a.ts for a, b in pairwise(turns)] == [
        b.ts - a.ts for a, b in pairwise(unshifted)
    ]
