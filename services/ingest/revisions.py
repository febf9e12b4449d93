"""The newest accepted revision of each plan (table ``ingest_plan_revisions``).

Order of operations, so that nothing is lost or doubled:
1. read the recorded revision (older submitted revision -> 409, same -> idempotent 202);
2. publish and wait for the broker ack;
3. only then record the revision (a conditional upsert that never lowers it).
A crash between 2 and 3 leaves the table one revision behind: the client's retry of the
same revision is published again (a duplicate that consumers dedupe on plan_id+revision)
and answered 202. Within one process, requests for the same plan_id are serialized
(``PlanLocks``) so two concurrent revisions cannot both pass step 1.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from uuid import UUID

import asyncpg

from services.ingest.coalesce import Coalescer


@dataclass(frozen=True)
class Recorded:
    plan_id: UUID
    vehicle_id: str
    market_area: str
    delivery_day: date
    revision: int
    cancelled: bool
    body_sha256: bytes | None = None  # None: recorded before the hash existed (migration 0004)


_SELECT = (
    "SELECT plan_id, vehicle_id, market_area, delivery_day, revision, cancelled, body_sha256 "
    "FROM ingest_plan_revisions WHERE plan_id = ANY($1::uuid[])"
)
# Never lowers a revision: a late write of an older revision changes nothing.
_UPSERT = """
INSERT INTO ingest_plan_revisions AS r
    (plan_id, vehicle_id, market_area, delivery_day, revision, body_sha256)
SELECT * FROM unnest($1::uuid[], $2::text[], $3::text[], $4::date[], $5::integer[], $6::bytea[])
ON CONFLICT (plan_id) DO UPDATE SET
    vehicle_id = EXCLUDED.vehicle_id, market_area = EXCLUDED.market_area,
    delivery_day = EXCLUDED.delivery_day, revision = EXCLUDED.revision,
    body_sha256 = EXCLUDED.body_sha256, cancelled = false, accepted_at = now()
WHERE r.revision < EXCLUDED.revision
"""
_UPSERT_THEN_SELECT = f"WITH up AS ({_UPSERT}) {_SELECT.replace('$1', '$7')}"
_CANCEL = "UPDATE ingest_plan_revisions SET cancelled = true WHERE plan_id = $1 AND revision = $2"


# plan_id, vehicle_id, market_area, delivery_day, revision, SHA-256 of the plan's JSON
Row = tuple[UUID, str, str, date, int, bytes | None]
# From this many plans on, a request's read or write is its own statement on its own pool
# connection instead of joining the shared queue: a batch brings enough rows to fill a
# statement by itself, and the queue runs one statement at a time, so 8 batch requests
# spent ~26 ms each in it per read and per write (bench/ingest.py, batches of 500).
OWN_STATEMENT_MIN = 64


class RevisionStore:
    """Reads and writes of concurrent requests are coalesced into shared statements."""

    def __init__(self, pool: asyncpg.Pool) -> None:
        self._pool = pool
        # Reads and writes share one queue: a round trip carries both when both are waiting
        # (one statement: the upsert as a data-modifying CTE, then the read). Within this
        # process a plan's read and write are never in the same statement (PlanLocks holds
        # the plan from read to write), so the read's snapshot missing the write is moot.
        self._ops: Coalescer[UUID | Row, dict[UUID, Recorded]] = Coalescer(self._run_all)

    async def lookup(self, plan_ids: Sequence[UUID]) -> dict[UUID, Recorded]:
        if not plan_ids:
            return {}
        if len(plan_ids) >= OWN_STATEMENT_MIN:
            found = _recorded(await self._pool.fetch(_SELECT, list(plan_ids)))
        else:
            found = await self._ops.run(plan_ids)
        if not found:  # the common case: new plans
            return {}
        return {p: found[p] for p in plan_ids if p in found}

    async def record(self, accepted: Sequence[Row]) -> None:
        """Record accepted revisions (after the broker ack)."""
        if len(accepted) >= OWN_STATEMENT_MIN:
            await self._pool.execute(_UPSERT, *_columns(_newest(accepted)))
        elif accepted:
            await self._ops.run(accepted)

    async def _run_all(self, items: list[UUID | Row]) -> dict[UUID, Recorded]:
        ids = [i for i in items if isinstance(i, UUID)]
        newest = _newest(items)
        columns = _columns(newest)
        if not newest:
            rows = await self._pool.fetch(_SELECT, ids)
        elif not ids:
            await self._pool.execute(_UPSERT, *columns)
            return {}
        else:
            rows = await self._pool.fetch(_UPSERT_THEN_SELECT, *columns, ids)
        return _recorded(rows)

    async def mark_cancelled(self, plan_id: UUID, revision: int) -> None:
        await self._pool.execute(_CANCEL, plan_id, revision)


def _recorded(rows: list[asyncpg.Record]) -> dict[UUID, Recorded]:
    return {r["plan_id"]: Recorded(**dict(r)) for r in rows}


def _newest(items: Sequence[UUID | Row]) -> dict[UUID, Row]:
    """One statement may not touch a row twice: the newest revision of each plan."""
    newest: dict[UUID, Row] = {}
    for row in items:
        if isinstance(row, tuple) and (row[0] not in newest or newest[row[0]][4] < row[4]):
            newest[row[0]] = row
    return newest


def _columns(newest: dict[UUID, Row]) -> list[list[object]]:
    # In plan_id order: concurrent statements (other processes) lock rows in the same order.
    rows = sorted(newest.values(), key=lambda row: row[0].int)
    return [list(c) for c in zip(*rows, strict=True)]


class PlanLocks:
    """Serializes requests touching the same plan_id within this process."""

    def __init__(self) -> None:
        # Keyed by the UUID's integer: UUID.__hash__ is Python code (~2% of the batch path).
        self._busy: dict[int, asyncio.Event] = {}

    def hold(self, plan_ids: Iterable[UUID]) -> _Held:
        return _Held(self._busy, {p.int for p in plan_ids})


class _Held:
    # A class rather than @asynccontextmanager: one per request, the generator version
    # cost ~2% of the single-plan profile.
    __slots__ = ("_busy", "_done", "_ids")

    def __init__(self, busy: dict[int, asyncio.Event], ids: set[int]) -> None:
        self._busy = busy
        self._ids = ids
        self._done: asyncio.Event | None = None

    async def __aenter__(self) -> None:
        busy, ids = self._busy, self._ids
        while True:
            waiting = [busy[p] for p in ids if p in busy]
            if not waiting:
                break
            await asyncio.gather(*(e.wait() for e in waiting))
        # No await between the check above and taking the locks: this is atomic in asyncio.
        done = self._done = asyncio.Event()
        for p in ids:
            busy[p] = done

    async def __aexit__(self, *exc_info: object) -> None:
        for p in self._ids:
            self._busy.pop(p, None)
        if self._done is not None:
            self._done.set()
