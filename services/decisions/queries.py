"""Read side: the caller's decisions of a day or of a range of days, one page at a time
(rows converted by services/decisions/items.py), and one decision for OCPP."""

from __future__ import annotations

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
# One page of the caller's plans and decisions in one round trip. The allocations' JSON is
# built by PostgreSQL (as it always was: no JSON parsing in Python); the windows come from
# the arrays of INPUT_COLUMNS.
# $1 vehicle (NULL = all), $2 owner (NULL = operator/admin: every vehicle), $3 last day,
# $4 $5 $6 where the decided part starts, $7 $8 $9 where the undecided part starts
# (paging.bounds), $10 $11 their row limits (0: that part is done), $12 page size + 1,
# $13 the days from the earlier start to the last day.
# One statement per scope: a generic "$2 IS NULL OR ..." plan scanned every decision of the
# day for each request (300 000 rows → 25 req/s); starting from the caller's vehicles uses
# vehicles_owner_idx and the (delivery_day, vehicle_id) indexes. Each part starts after its
# key (a row comparison) and stops at the page size + 1 rows (one more shows that a next
# page exists). Every vehicle (operators): one ordered scan of the (delivery_day,
# vehicle_id) index from the key, so a page costs the same however deep it is. Some
# vehicles (an owner's, or vehicle_id): one index probe per (day, vehicle) — `delivery_day
# = ANY($13)`, since a range on the index's first column would read every vehicle's entries
# of those days — then the top of those rows: a page costs vehicles × days probes.
_PAGE = """
-- every parameter typed here, whichever of them the scope's statement uses
WITH args AS (
    SELECT $1::text AS vehicle, $2::bigint AS owner, $3::date AS last, $13::date[] AS days
),
dec AS (
    SELECT d.* FROM {decisions}
    WHERE {on_decision}
      AND (d.delivery_day, d.vehicle_id, d.plan_id) > ($4::date, $5::text, $6::uuid)
    ORDER BY d.delivery_day, d.vehicle_id, d.plan_id
    LIMIT $10
), undecided AS (
    -- plans seen on charging-plans without a decision yet: pending, or withdrawn
    SELECT p.* FROM {plans}
    WHERE {on_plan}
      AND (p.delivery_day, p.vehicle_id, p.plan_id) > ($7::date, $8::text, $9::uuid)
      AND NOT EXISTS (SELECT 1 FROM schedule_decisions d WHERE d.plan_id = p.plan_id)
    ORDER BY p.delivery_day, p.vehicle_id, p.plan_id
    LIMIT $11
)
SELECT * FROM (
    SELECT 0 AS section, d.plan_id, d.revision, d.vehicle_id, d.market_area, d.delivery_day,
           d.status, d.reasons::text AS reasons, d.requested_kwh, d.accepted_kwh, d.coverage,
           d.cost_eur, d.run_id, d.phase, d.occurred_at,
           coalesce((
               SELECT json_agg(json_build_object(
                   'charging_point_id', x.charging_point_id,
                   'mtu_start', iso_local(x.mtu_start, coalesce(a.timezone, 'UTC')),
                   'energy_kwh', x.energy_kwh) ORDER BY x.mtu_start, x.charging_point_id)
               FROM jsonb_to_recordset(d.allocations) AS x(
                   charging_point_id text, mtu_start timestamptz, energy_kwh double precision)
           ), '[]'::json)::text AS allocations,
           {inputs}
    FROM dec d {joins}
    UNION ALL
    SELECT 1, p.plan_id, p.revision, p.vehicle_id, p.market_area, p.delivery_day, p.status,
           NULL, p.requested_kwh, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
           NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL
    FROM undecided p
) items
ORDER BY delivery_day, section, vehicle_id, plan_id
LIMIT $12
"""
_VISIBLE = "SELECT EXISTS (SELECT 1 FROM vehicles WHERE id = $1 AND owner_id = $2)"


def _page_sql(by_owner: bool, by_vehicle: bool) -> str:
    common = {"inputs": INPUT_COLUMNS, "joins": INPUT_JOINS}
    if by_owner:
        where = "v.owner_id = $2" + (" AND v.id = $1" if by_vehicle else "")
        mine = f"(SELECT id FROM vehicles v WHERE {where}) v"
        return _PAGE.format(
            decisions=f"{mine} JOIN schedule_decisions d ON d.vehicle_id = v.id",
            plans=f"{mine} JOIN plans p ON p.vehicle_id = v.id",
            on_decision="d.delivery_day = ANY($13::date[])",
            on_plan="p.delivery_day = ANY($13::date[])",
            **common,
        )
    return _PAGE.format(
        decisions="schedule_decisions d",
        plans="plans p",
        on_decision="d.vehicle_id = $1 AND d.delivery_day = ANY($13::date[])"
        if by_vehicle
        else "d.delivery_day <= $3",
        on_plan="p.vehicle_id = $1 AND p.delivery_day = ANY($13::date[])"
        if by_vehicle
        else "p.delivery_day <= $3",
        **common,
    )


PAGE_SQL = {(o, v): _page_sql(o, v) for o in (False, True) for v in (False, True)}

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
            sql = PAGE_SQL[owner is not None, vehicle_id is not None]
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
    items = [decision_item(r) if r["section"] == 0 else undecided_item(r) for r in rows]
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
