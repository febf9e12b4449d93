"""Write one consumed batch in ONE transaction: rows (COPY → staging → upsert) + offsets.

Because the consumed offsets are committed together with the rows, a crash anywhere
leaves the database either before or after the whole batch; the consumer then seeks to
the stored offsets, so the effect on the database is exactly-once although Kafka delivers
at least once. Upserts only replace a row with a newer one (see records.py for the order),
so replays and re-deliveries of older events are no-ops.
"""

from __future__ import annotations

import math
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import asyncpg

from schemas.base import FieldError
from services.decisions.fastpath import COLUMNS as DECISION_COLUMNS
from services.decisions.fastpath import jsonb
from services.decisions.records import Batch, Kind, Record, add, add_bad
from services.decisions.sql import (
    APPLY_STOPS,
    DELETE_STOPS,
    LOCK_OFFSETS,
    STAGING,
    STAGING_TABLES,
    UPSERT_DECISIONS,
    UPSERT_NODE_RESULT,
    UPSERT_OFFSET,
    UPSERT_PLANS,
    UPSERT_RUN,
)

PLAN_COLUMNS = (
    "plan_id", "revision", "vehicle_id", "market_area", "delivery_day", "status",
    "initial_soc_kwh", "requested_kwh", "bid", "source", "event_id", "occurred_at",
)  # fmt: skip


NOTIFY_CHANNEL = "chargeflow_decisions"

# What PostgreSQL answers when it refuses the *values* it was given: SQLSTATE class 22 (data
# exception: out of range, NUL byte, bad jsonb escape), 23 (integrity constraint), 54
# (program limit exceeded: a value too large for an index or an array).
_REFUSED_BY_DATABASE = (
    asyncpg.DataError,
    asyncpg.IntegrityConstraintViolationError,
    asyncpg.ProgramLimitExceededError,
)
# Failures of the database or the connection itself, whatever the records: the connection
# or server went away, timeouts, serialization failures and deadlocks (class 40), disk
# full (53), shutdown or cancel (57), a missing table (42), client-side driver state.
_NOT_ABOUT_A_RECORD = (
    asyncpg.PostgresError,
    asyncpg.InterfaceError,
    asyncpg.InternalClientError,
    OSError,
    TimeoutError,
    MemoryError,
)


def refused(exc: BaseException) -> bool:
    """Did writing fail because of the records' values (isolate them), rather than because
    the database is unavailable (stop and retry later, offsets untouched)?

    Besides PostgreSQL's refusals, a plain Python error raised while the driver encodes a
    row (`OverflowError` for an int beyond int4 or a timestamp whose UTC time is past year
    9999, `ValueError`, `TypeError`, ...) concerns the values too: the write path does no
    other I/O. Cancellation is a `BaseException` and never counts as a refusal.
    """
    if isinstance(exc, _REFUSED_BY_DATABASE):
        return True
    return isinstance(exc, Exception) and not isinstance(exc, _NOT_ABOUT_A_RECORD)


@dataclass(frozen=True)
class Written:
    """What a batch changed: rows applied (new or newer), the rest were older duplicates."""

    decisions: int
    plans: int
    runs: int
    bad: int


async def prepare(conn: asyncpg.Connection) -> None:
    """Create this connection's staging tables (temporary, emptied at every commit)."""
    for ddl in STAGING_TABLES:
        await conn.execute(ddl)


async def load_offsets(
    conn: asyncpg.Connection | asyncpg.Pool, consumer: str
) -> dict[tuple[str, int], int]:
    rows = await conn.fetch(
        "SELECT topic, partition, next_offset FROM consumed_offsets WHERE consumer = $1", consumer
    )
    return {(r["topic"], r["partition"]): r["next_offset"] for r in rows}


Hook = Callable[[Batch], Awaitable[None]]


async def write(
    conn: asyncpg.Connection,
    consumer: str,
    records: list[tuple[Kind, Record]],
    parsed: Batch | None = None,
    before_commit: Hook | None = None,
) -> tuple[Batch, Written]:
    """Apply the records and store their offsets atomically (the connection must be prepared).

    Records below the stored offset of their partition are skipped: the fetcher may return
    records read before the rebalance listener's seek, or a zombie may replay them; the
    offsets rows are locked first so two writers of one partition serialise here.
    `parsed`: the records already parsed into a batch (the consumer parses the next batch
    while this one is being written); reparsed only when some records must be skipped.
    `before_commit`: awaited with the batch of fresh records once its rows are written and
    before its offsets are stored (the consumer publishes the dead letters there: after
    the stale records are dropped, so a re-fetched record never gets a second one, and
    before the commit, so a crash cannot lose one).
    """
    async with conn.transaction():
        fresh = await _fresh(conn, consumer, records)
        batch = parsed if parsed is not None and len(fresh) == len(records) else _parse(fresh)
        if not batch.offsets:
            return batch, Written(0, 0, 0, 0)
        written = await _apply(conn, batch)
        await _finish(conn, consumer, batch, written, before_commit)
    return batch, written


async def write_isolating(
    conn: asyncpg.Connection,
    consumer: str,
    records: list[tuple[Kind, Record]],
    before_commit: Hook | None = None,
) -> tuple[Batch, Written]:
    """`write` for a batch whose rows the database refused: still one transaction, but the
    rows are applied part by part under savepoints; a refused part is halved until each
    refused record is alone, and that one is stored as refused (its reason: what the
    database or driver said). A few poison records cost O(log n) failed savepoints each,
    and their dead letters go out together, before the single commit. The parts are
    contiguous and applied in order, so newer events still win (the upserts' guards)."""
    async with conn.transaction():
        fresh = await _fresh(conn, consumer, records)
        total = _parse([])
        counts = [0, 0, 0]

        async def apply(part: list[tuple[Kind, Record]]) -> None:
            batch = _parse(part)
            try:
                async with conn.transaction():  # a savepoint
                    w = await _apply(conn, batch)
                    for table in STAGING:  # the next part's upserts read them whole
                        await conn.execute(f"DELETE FROM {table}")
            except Exception as exc:
                if not refused(exc):
                    raise
                if len(part) > 1:
                    await apply(part[: len(part) // 2])
                    await apply(part[len(part) // 2 :])
                else:
                    add_bad(total, part[0][1], [_refusal(exc)])
                return
            _merge(total, batch)
            for i, n in enumerate((w.decisions, w.plans, w.runs)):
                counts[i] += n

        await apply(fresh)
        written = Written(counts[0], counts[1], counts[2], len(total.bad))
        if total.offsets:
            await _finish(conn, consumer, total, written, before_commit)
    return total, written


async def _fresh(
    conn: asyncpg.Connection, consumer: str, records: list[tuple[Kind, Record]]
) -> list[tuple[Kind, Record]]:
    """Lock the batch's offset rows; keep the records at or past the stored offsets."""
    partitions = sorted({(r.topic, r.partition) for _, r in records})
    stored = {
        (row["topic"], row["partition"]): row["next_offset"]
        for row in await conn.fetch(
            LOCK_OFFSETS, consumer, [t for t, _ in partitions], [p for _, p in partitions]
        )
    }
    return [(kind, r) for kind, r in records if r.offset >= stored.get((r.topic, r.partition), 0)]


def _parse(records: list[tuple[Kind, Record]]) -> Batch:
    batch = Batch()
    for kind, record in records:
        add(batch, kind, record)
    return batch


async def _apply(conn: asyncpg.Connection, batch: Batch) -> Written:
    decisions = await _decisions(conn, batch)
    plans = await _plans(conn, batch)
    runs = await _runs(conn, batch)
    return Written(decisions, plans, runs, len(batch.bad))


async def _finish(
    conn: asyncpg.Connection, consumer: str, batch: Batch, written: Written, hook: Hook | None
) -> None:
    """The refused records, the dead letters (hook), the change notice, the offsets."""
    await _bad(conn, consumer, batch)
    if hook is not None:
        await hook(batch)
    if written.decisions or written.plans or written.runs:
        # Delivered at commit to every replica's listener: their GET caches drop.
        await conn.execute("SELECT pg_notify($1, '')", NOTIFY_CHANNEL)
    await conn.executemany(
        UPSERT_OFFSET, [(consumer, t, p, o) for (t, p), o in batch.offsets.items()]
    )


def _refusal(exc: Exception) -> FieldError:
    if isinstance(exc, asyncpg.PostgresError):
        text = f"rejected by the database: {exc}"
    else:  # raised by the driver while encoding the row, or by the row builder
        text = f"cannot be stored ({type(exc).__name__}: {exc})"
    return FieldError(loc="", reason=text[:2000])


def _merge(total: Batch, part: Batch) -> None:
    """Add one applied part of a batch to the batch's total."""
    total.offsets.update(part.offsets)
    total.bad.extend(part.bad)
    total.decisions.update(part.decisions)
    for topic, n in part.consumed.items():
        total.consumed[topic] = total.consumed.get(topic, 0) + n


async def _decisions(conn: asyncpg.Connection, batch: Batch) -> int:
    if not batch.decisions:
        return 0
    await conn.copy_records_to_table(
        "stage_decisions", records=batch.decisions.values(), columns=DECISION_COLUMNS
    )
    return _count(await conn.execute(UPSERT_DECISIONS))


async def _plans(conn: asyncpg.Connection, batch: Batch) -> int:
    if not batch.plans:
        return 0
    rows: list[tuple[object, ...]] = []
    stops: list[tuple[object, ...]] = []
    for p in batch.plans.values():
        if p.event_type == "PlanSubmitted":
            bid = jsonb([s.model_dump() for s in p.bid])
            requested = sum(s.energy_kwh for s in p.bid)
            if not math.isfinite(requested):  # finite steps whose sum overflows
                raise ValueError(f"plan {p.plan_id}: the bid's energies sum to infinity")
            rows.append(
                (p.plan_id, p.revision, p.vehicle_id, p.market_area, p.delivery_day,
                 "submitted", p.initial_soc_kwh, requested, bid, p.source, p.event_id,
                 p.occurred_at)
            )  # fmt: skip
            stops.extend(
                (p.plan_id, i, s.charging_point_id, s.arrival, s.departure, s.trip_kwh_after)
                for i, s in enumerate(p.stops)
            )
        else:  # a cancellation keeps what was submitted (stops, bid) and marks it
            rows.append(
                (p.plan_id, p.revision, p.vehicle_id, p.market_area, p.delivery_day,
                 "cancelled", None, 0.0, "[]", None, p.event_id, p.occurred_at)
            )  # fmt: skip
    await conn.copy_records_to_table("stage_plans", records=rows, columns=PLAN_COLUMNS)
    if stops:
        await conn.copy_records_to_table("stage_stops", records=stops)
    applied = _count(await conn.execute(UPSERT_PLANS))
    if applied and stops:
        await conn.execute(DELETE_STOPS)
        await conn.execute(APPLY_STOPS)
    return applied


async def _runs(conn: asyncpg.Connection, batch: Batch) -> int:
    applied = 0
    for r in batch.runs.values():
        aggregate = r.aggregate.model_dump_json() if r.aggregate is not None else None
        changed = await conn.fetchval(
            UPSERT_RUN,
            r.market_area, r.delivery_day, r.run_id, r.phase, r.fallback, r.what_if,
            r.mtu_minutes, r.mtu_starts, r.prices_eur_mwh, r.welfare_eur,
            r.total_requested_kwh, r.total_accepted_kwh, r.coverage, r.plans_total,
            r.plans_accepted, aggregate, r.event_id, r.occurred_at,
        )  # fmt: skip
        if not changed:
            continue  # an older or identical copy of a run we already hold
        applied += 1
        await conn.execute(
            "DELETE FROM auction_node_results WHERE market_area = $1 AND delivery_day = $2 "
            "AND run_id = $3",
            r.market_area, r.delivery_day, r.run_id,
        )  # fmt: skip
        await conn.executemany(
            UPSERT_NODE_RESULT,
            [
                (r.market_area, r.delivery_day, r.run_id, n.node_id, i, r.mtu_starts[i],
                 n.energy_kwh[i], n.price_eur_mwh[i],
                 n.congestion_eur_mwh[i] if n.congestion_eur_mwh is not None else None)
                for n in r.nodes
                for i in range(len(r.mtu_starts))
            ],
        )  # fmt: skip
    return applied


async def _bad(conn: asyncpg.Connection, consumer: str, batch: Batch) -> None:
    if not batch.bad:
        return
    await conn.executemany(
        "INSERT INTO consume_errors (consumer, topic, partition, \"offset\", reasons, value) "
        "VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT DO NOTHING",
        [
            (consumer, b.topic, b.partition, b.offset,
             jsonb([r.model_dump() for r in b.reasons]), b.value)
            for b in batch.bad
        ],
    )  # fmt: skip


def _count(status: str) -> int:
    """Rows of an `INSERT 0 n` command status."""
    return int(status.rsplit(" ", 1)[-1])
