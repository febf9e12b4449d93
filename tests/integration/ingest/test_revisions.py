"""RevisionStore on real PostgreSQL: reads and writes waiting together share one statement."""

from __future__ import annotations

import asyncio
from datetime import date
from uuid import uuid4

from services.ingest.revisions import OWN_STATEMENT_MIN, RevisionStore, Row

DAY = date(2026, 11, 26)
H1, H3 = b"\x01" * 32, b"\x03" * 32  # body hashes


async def test_reads_and_writes_queued_together_both_take_effect(pool):
    store = RevisionStore(pool)
    known, fresh, other = uuid4(), uuid4(), uuid4()
    await store.record([(known, "V001", "PL", DAY, 3, H3)])
    # The first lookup is in flight; the record and the second lookup queue behind it and
    # go out as one statement (upsert as a CTE, then the read).
    first = asyncio.create_task(store.lookup([other]))
    await asyncio.sleep(0)
    both = await asyncio.gather(
        store.record([(fresh, "V002", "PL", DAY, 1, H1), (known, "V001", "PL", DAY, 2, None)]),
        store.lookup([known, fresh]),
    )
    assert await first == {}
    found = both[1]
    assert found[known].revision == 3  # an older revision never lowers the recorded one
    assert fresh not in found or found[fresh].revision == 1
    after = await store.lookup([known, fresh])
    assert after[known].revision == 3 and after[fresh].revision == 1
    assert after[fresh].vehicle_id == "V002" and not after[fresh].cancelled
    assert after[known].body_sha256 == H3 and after[fresh].body_sha256 == H1


async def test_batch_sized_reads_and_writes_run_as_their_own_concurrent_statements(pool):
    store = RevisionStore(pool)
    ids = [uuid4() for _ in range(2 * OWN_STATEMENT_MIN)]
    first, second = ids[:OWN_STATEMENT_MIN], ids[OWN_STATEMENT_MIN:]
    await store.record([(p, "V001", "PL", DAY, 2, None) for p in first])
    rows: list[Row] = [
        (p, "V002", "PL", DAY, 1, None) for p in ids
    ]  # 1 < 2: must not lower the first half
    rows += [(p, "V003", "PL", DAY, 3, H3) for p in second[:5]]  # a plan twice: newest wins
    found_before, _ = await asyncio.gather(store.lookup(ids), store.record(rows))
    assert set(found_before) <= set(ids)
    found = await store.lookup(ids)
    assert set(found) == set(ids)
    assert all(found[p].revision == 2 and found[p].vehicle_id == "V001" for p in first)
    assert all(found[p].revision == 3 and found[p].vehicle_id == "V003" for p in second[:5])
    assert all(found[p].body_sha256 == H3 for p in second[:5])
    assert all(found[p].revision == 1 for p in second[5:])
    assert store._ops._worker is None  # none of it went through the shared queue
