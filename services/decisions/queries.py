"""Read side: the caller's decisions of a day or of a range of days, one page at a time
(rows converted by services/decisions/items.py), and one decision for OCPP."""

from __future__ import annotations

import asyncio
from datetime import date, datetime, timedelta
from typing import Any
from uuid import UUID

import asyncpg
import orjson

from schemas.market_day import zone
from services.decisions.days import DayRange
from services.decisions.items import INPUT_COLUMNS, INPUT_JOINS, decision_item, undecided_item
from services.decisions.paging import PAGE, Bound, Cursor, bounds, cursor_after, encode_cursor

_DECISION_COLUMNS = (
    "d.plan_id, d.revision, d.vehicle_id, d.market_area, d.delivery_day, d.run_id, d.phase, "
    "d.status, d.requested_kwh, d.accepted_kwh, d.coverage, d.cost_eur, d.occurred_at"
)
# One page of the caller's plans and decisions in one round trip; items.py turns the rows
# (INPUT_COLUMNS: allocations as arrays, no JSON parsing) into the body.
# $1 vehicle (NULL = all), $2 owner (NULL = operator/admin: every vehicle), $3 last day,
# $4 $5 $6 where the decided part starts, $7 $8 $9 where the undecided part starts
# (paging.bounds), $10 $11 their row limits (0: that part is done), $12 page size + 1,
# $13 the days from the earlier start to the last day.
# One statement per scope and per one day or several: a generic "$2 IS NULL OR ..." plan
# scanned every decision of the day for each request (300 000 rows → 25 req/s). Each part
# starts after its key (a row comparison) and stops at the page size + 1 rows (one more
# shows that a next page exists).
# - Every vehicle (operators): one ordered scan of the (delivery_day, vehicle_id) index
#   from the key, so a page costs the same however deep it is.
# - An owner's vehicles: for each of them (vehicles_owner_idx), its rows of the days
#   (LATERAL, so that the plan starts from the vehicles whatever the estimates: with a day
#   list the planner scanned every plan of the day and checked its owner), then the first.
# - Several days of some vehicles: one index probe per (day, vehicle), `delivery_day =
#   ANY($13)`, since a range on the index's first column would read every vehicle's entries
#   of those days (PostgreSQL before 18 has no skip scan). One day: `delivery_day = $3`
#   (measured: `= ANY` of one day cost 1.5 ms a page against 0.4 ms).
_PAGE = """
-- every parameter typed here, whichever of them the scope's statement uses
WITH args AS (
    SELECT $1::text AS vehicle, $2::bigint AS owner, $3::date AS last, $13::date[] AS days
),
dec AS ({decided}),
undecided AS ({undecided})
SELECT * FROM (
    SELECT 0 AS section, d.plan_id, d.revision, d.vehicle_id, d.market_area, d.delivery_day,
           d.status, d.reasons::text AS reasons, d.requested_kwh, d.accepted_kwh, d.coverage,
           d.cost_eur, d.run_id, d.phase, d.occurred_at,
           {inputs}
    FROM dec d {joins}
    UNION ALL
    SELECT 1, p.plan_id, p.revision, p.vehicle_id, p.market_area, p.delivery_day, p.status,
           NULL, p.requested_kwh, NULL, NULL, NULL, NULL, NULL, NULL,
           NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL
    FROM undecided p
) items
ORDER BY delivery_day, section, vehicle_id, plan_id
LIMIT $12
"""
_VISIBLE = "SELECT EXISTS (SELECT 1 FROM vehicles WHERE id = $1 AND owner_id = $2)"


_ALL = """
    SELECT {t}.* FROM {table} {t}
    WHERE {days} {vehicle} {pending}
      AND ({t}.delivery_day, {t}.vehicle_id, {t}.plan_id) > ({key})
    ORDER BY {t}.delivery_day, {t}.vehicle_id, {t}.plan_id
    LIMIT {limit}
"""
_OWNED = """
    SELECT {t}.* FROM (SELECT id FROM vehicles v WHERE v.owner_id = $2 {vehicle}) v
    CROSS JOIN LATERAL (
        SELECT * FROM {table} {t}
        WHERE {t}.vehicle_id = v.id AND {days} {pending}
          AND ({t}.delivery_day, {t}.vehicle_id, {t}.plan_id) > ({key})
        ORDER BY {t}.delivery_day, {t}.plan_id
        LIMIT {limit}
    ) {t}
    ORDER BY {t}.delivery_day, {t}.vehicle_id, {t}.plan_id
    LIMIT {limit}
"""
# plans seen on charging-plans without a decision yet: pending, or withdrawn
_PENDING = "AND NOT EXISTS (SELECT 1 FROM schedule_decisions x WHERE x.plan_id = p.plan_id)"


def _part(t: str, by_owner: bool, by_vehicle: bool, one_day: bool) -> str:
    decided = t == "d"
    if one_day:
        days = f"{t}.delivery_day = $3"
    elif by_owner or by_vehicle:
        days = f"{t}.delivery_day = ANY($13::date[])"
    else:
        days = f"{t}.delivery_day <= $3"
    return (_OWNED if by_owner else _ALL).format(
        t=t,
        table="schedule_decisions" if decided else "plans",
        days=days,
        vehicle=("AND v.id = $1" if by_owner else f"AND {t}.vehicle_id = $1") if by_vehicle else "",
        pending="" if decided else _PENDING,
        key="$4::date, $5::text, $6::uuid" if decided else "$7::date, $8::text, $9::uuid",
        limit="$10" if decided else "$11",
    )


def _page_sql(by_owner: bool, by_vehicle: bool, one_day: bool) -> str:
    return _PAGE.format(
        decided=_part("d", by_owner, by_vehicle, one_day),
        undecided=_part("p", by_owner, by_vehicle, one_day),
        inputs=INPUT_COLUMNS,
        joins=INPUT_JOINS,
    )


_BOTH = (False, True)
PAGE_SQL = {(o, v, d): _page_sql(o, v, d) for o in _BOTH for v in _BOTH for d in _BOTH}

ALLOCATIONS = """
SELECT plan_id, charging_point_id, mtu_start, energy_kwh FROM decision_allocations
WHERE plan_id = ANY($1::uuid[]) ORDER BY plan_id, mtu_start, charging_point_id
"""
ONE_DECISION = f"""
SELECT {_DECISION_COLUMNS},
       coalesce(r.mtu_minutes, a.mtu_minutes, 60) AS mtu_minutes
FROM schedule_decisions d
LEFT JOIN auction_runs r ON (r.market_area, r.delivery_day, r.run_id)
                          = (d.market_area, d.delivery_day, d.run_id)
LEFT JOIN market_areas a ON a.id = d.market_area
WHERE d.plan_id = $1 AND ($2::bigint IS NULL OR EXISTS (
        SELECT 1 FROM vehicles v WHERE v.id = d.vehicle_id AND v.owner_id = $2))
"""


YIELD_EVERY = 500


def local(at: datetime, tz: str) -> str:
    return at.astimezone(zone(tz)).isoformat()


def _days(decided: Bound | None, undecided: Bound | None, last: date) -> list[date]:
    first = min(k.delivery_day for k in (decided, undecided) if k is not None)
    return [first + timedelta(days=i) for i in range((last - first).days + 1)]


def _args(key: Bound | None) -> tuple[Any, ...]:
    return (key.delivery_day, key.vehicle_id, key.plan_id) if key else (None, None, None)


async def page_json(
    pool: asyncpg.Pool,
    days: DayRange,
    vehicle_id: str | None,
    owner: int | None,
    after: Cursor | None = None,
    limit: int = PAGE,
) -> bytes | None:
    """One page of the caller's plans and decisions of ``days`` as the response body (with
    ``next_cursor``); None: ``vehicle_id`` is not the caller's."""
    decided, undecided = bounds(days.first, days.last, after)
    rows: list[asyncpg.Record] = []
    async with pool.acquire() as conn:
        if decided is not None or undecided is not None:
            sql = PAGE_SQL[owner is not None, vehicle_id is not None, days.first == days.last]
            rows = await conn.fetch(
                sql, vehicle_id, owner, days.last, *_args(decided), *_args(undecided),
                limit + 1 if decided else 0, limit + 1 if undecided else 0, limit + 1,
                _days(decided, undecided, days.last),
            )  # fmt: skip
        if not rows and vehicle_id is not None and owner is not None:
            if not await conn.fetchval(_VISIBLE, vehicle_id, owner):
                return None
    more = len(rows) > limit
    rows = rows[:limit]
    cursor = None
    if more:
        last = rows[-1]
        cursor = encode_cursor(
            cursor_after(
                days.first, last["delivery_day"], last["section"], last["vehicle_id"],
                last["plan_id"],
            )
        )  # fmt: skip
    items = []
    for n, r in enumerate(rows, 1):
        items.append(decision_item(r) if r["section"] == 0 else undecided_item(r))
        if n % YIELD_EVERY == 0:
            await asyncio.sleep(0)  # a page of 10 000 is ≈ 0.3 s of Python: let others in
    return orjson.dumps(
        {
            "delivery_day": days.first if days.single else None,
            "from": days.first,
            "to": days.last,
            "decisions": items,
            "next_cursor": cursor,
        }
    )


async def one_decision(
    pool: asyncpg.Pool, plan_id: UUID, owner: int | None
) -> tuple[asyncpg.Record, list[asyncpg.Record]] | None:
    """The decision and its allocations, if the caller may see it (None: 404 either way)."""
    async with pool.acquire() as conn:
        row = await conn.fetchrow(ONE_DECISION, plan_id, owner)
        if row is None:
            return None
        return row, await conn.fetch(ALLOCATIONS, [plan_id])


def mtu_length(row: asyncpg.Record) -> timedelta:
    return timedelta(minutes=int(row["mtu_minutes"]))
