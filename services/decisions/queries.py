"""Read side: the caller's decisions of a day (JSON built in SQL), one decision for OCPP."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from uuid import UUID

import asyncpg
import orjson

from schemas.market_day import zone
from services.decisions.paging import PAGE, Cursor, encode_cursor

_DECISION_COLUMNS = (
    "d.plan_id, d.revision, d.vehicle_id, d.market_area, d.delivery_day, d.run_id, d.phase, "
    "d.status, d.requested_kwh, d.accepted_kwh, d.coverage, d.cost_eur, d.occurred_at"
)
# The whole body of the vehicle API in one round trip, JSON built by PostgreSQL: under load
# one pool checkout instead of four queries and no JSON building in Python (measured: the
# uncached path went from ~250 to ~310 req/s in bench/decisions.py on the 2-core box).
# $1 day, $2 vehicle (NULL = all), $3 owner (NULL = operator/admin: every vehicle),
# $4 $5 $6 the cursor (section, vehicle_id, plan_id; NULL: first page), $7 the page size.
# One statement per scope: a generic "$3 IS NULL OR ..." plan scanned every decision of the
# day for each request (300 000 rows → 25 req/s); starting from the caller's vehicles uses
# vehicles_owner_idx and the (delivery_day, vehicle_id) indexes. Paging is by key (see
# paging.py): each part starts after the cursor and stops at $7 + 1 rows (one more shows
# that a next page exists), so a page costs the same however deep it is.
_DAY_JSON = """
WITH dec AS (
    SELECT d.*, coalesce(a.timezone, 'UTC') AS tz
    FROM {decisions} LEFT JOIN market_areas a ON a.id = d.market_area
    WHERE d.delivery_day = $1 {on_decision}
      AND ($4::int IS NULL OR ($4 = 0 AND (d.vehicle_id, d.plan_id) > ($5::text, $6::uuid)))
    ORDER BY d.vehicle_id, d.plan_id
    LIMIT $7::int + 1
), undecided AS (
    -- plans seen on charging-plans without a decision yet: pending, or withdrawn
    SELECT p.* FROM {plans}
    WHERE p.delivery_day = $1 {on_plan}
      AND NOT EXISTS (SELECT 1 FROM schedule_decisions d WHERE d.plan_id = p.plan_id)
      AND ($4::int IS NULL OR $4 = 0 OR (p.vehicle_id, p.plan_id) > ($5::text, $6::uuid))
    ORDER BY p.vehicle_id, p.plan_id
    LIMIT $7::int + 1
), items AS (
    SELECT 0 AS section, d.vehicle_id, d.plan_id, json_build_object(
        'plan_id', d.plan_id, 'revision', d.revision, 'vehicle_id', d.vehicle_id,
        'market_area', d.market_area, 'delivery_day', d.delivery_day, 'status', d.status,
        'reasons', d.reasons, 'requested_kwh', d.requested_kwh,
        'accepted_kwh', d.accepted_kwh, 'coverage', d.coverage, 'cost_eur', d.cost_eur,
        'run_id', d.run_id, 'phase', d.phase, 'decided_at', iso_local(d.occurred_at, d.tz),
        'allocations', coalesce((
            SELECT json_agg(json_build_object(
                'charging_point_id', a.charging_point_id,
                'mtu_start', iso_local(a.mtu_start, d.tz), 'energy_kwh', a.energy_kwh)
                ORDER BY a.mtu_start, a.charging_point_id)
            FROM jsonb_to_recordset(d.allocations)
                AS a(charging_point_id text, mtu_start timestamptz, energy_kwh double precision)
            ), '[]'::json)) AS item
    FROM dec d
    UNION ALL
    SELECT 1, p.vehicle_id, p.plan_id, json_build_object(
        'plan_id', p.plan_id, 'revision', p.revision, 'vehicle_id', p.vehicle_id,
        'market_area', p.market_area, 'delivery_day', p.delivery_day,
        'status', CASE WHEN p.status = 'submitted' THEN 'pending' ELSE 'cancelled' END,
        'reasons', '[]'::json, 'requested_kwh', p.requested_kwh, 'accepted_kwh', 0.0,
        'coverage', 0.0, 'cost_eur', 0.0, 'run_id', NULL, 'phase', NULL,
        'decided_at', NULL, 'allocations', '[]'::json)
    FROM undecided p
), page AS (
    SELECT section, vehicle_id, plan_id, item,
           row_number() OVER (ORDER BY section, vehicle_id, plan_id) AS n
    FROM items
    ORDER BY section, vehicle_id, plan_id
    LIMIT $7::int + 1
)
SELECT $2::text IS NULL OR $3::bigint IS NULL OR EXISTS (
           SELECT 1 FROM vehicles v WHERE v.id = $2 AND v.owner_id = $3) AS visible,
       json_build_object('delivery_day', $1::date, 'decisions', coalesce(
           json_agg(item ORDER BY n) FILTER (WHERE n <= $7), '[]'::json),
           'next_cursor', NULL)::text AS body,
       coalesce(max(n), 0) > $7 AS more,
       max(section) FILTER (WHERE n = $7) AS last_section,
       max(vehicle_id) FILTER (WHERE n = $7) AS last_vehicle,
       (array_agg(plan_id) FILTER (WHERE n = $7))[1] AS last_plan
FROM page
"""


def _day_json(by_owner: bool, by_vehicle: bool) -> str:
    if by_owner:
        where = "v.owner_id = $3" + (" AND v.id = $2" if by_vehicle else "")
        mine = f"(SELECT id FROM vehicles v WHERE {where}) v"
        return _DAY_JSON.format(
            decisions=f"{mine} JOIN schedule_decisions d ON d.vehicle_id = v.id",
            plans=f"{mine} JOIN plans p ON p.vehicle_id = v.id",
            on_decision="",
            on_plan="",
        )
    return _DAY_JSON.format(
        decisions="schedule_decisions d",
        plans="plans p",
        on_decision="AND d.vehicle_id = $2" if by_vehicle else "",
        on_plan="AND p.vehicle_id = $2" if by_vehicle else "",
    )


DAY_JSON = {(o, v): _day_json(o, v) for o in (False, True) for v in (False, True)}

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


async def day_json(
    pool: asyncpg.Pool,
    day: date,
    vehicle_id: str | None,
    owner: int | None,
    after: Cursor | None = None,
    limit: int = PAGE,
) -> bytes | None:
    """One page of the caller's plans and decisions of a day as the response body (with
    ``next_cursor``); None: ``vehicle_id`` is not the caller's."""
    sql = DAY_JSON[owner is not None, vehicle_id is not None]
    key = after or (None, None, None)
    row = await pool.fetchrow(sql, day, vehicle_id, owner, *key, limit)
    assert row is not None  # an aggregate without GROUP BY always yields one row
    if not row["visible"]:
        return None
    body: str = row["body"]
    if not row["more"]:
        return body.encode()
    last = Cursor(row["last_section"], row["last_vehicle"], row["last_plan"])
    # json_build_object wrote "next_cursor" : null last: put the cursor in its place
    head, _, _ = body.rpartition("null")
    return head.encode() + orjson.dumps(encode_cursor(last)) + b"}"


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
