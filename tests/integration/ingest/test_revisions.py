"""RevisionStore on real PostgreSQL: reads and writes waiting together share one statement."""

from __future__ import annotations

import asyncio
from datetime import date
from uuid import uuid4

from services.ingest.revisions import RevisionStore

DAY = date(2026, 11, 26)


async def test_reads_and_writes_queued_together_both_take_effect(pool):
    store = RevisionStore(pool)
    known, fresh, other = uuid4(), uuid4(), uuid4()
    await store.record([(known, "V001", "PL", DAY, 3)])
    # The first lookup is in flight; the record and the second lookup queue behind it and
    # go out as one statement (upsert as a CTE, then the read).
    first = asyncio.create_task(store.lookup([other]))
    await asyncio.sleep(0)
    both = await asyncio.gather(
        store.record([(fresh, "V002", "PL", DAY, 1), (known, "V001", "PL", DAY, 2)]),
        store.lookup([known, fresh]),
    )
    assert await first == {}
    found = both[1]
    assert found[known].revision == 3  # an older revision never lowers the recorded one
    assert fresh not in found or found[fresh].revision == 1
    after = await store.lookup([known, fresh])
    assert after[known].revision == 3 and after[fresh].revision == 1
    assert after[fresh].vehicle_id == "V002" and not after[fresh].cancelled
