"""Read side: the caller's decisions of a day, one decision with its MTU length, area zones."""

from __future__ import annotations

import json
from datetime import date, datetime, timedelta
from typing import Any
from uuid import UUID

import asyncpg

from schemas.market_day import zone

_DECISION_COLUMNS = (
    "d.plan_id, d.revision, d.vehicle_id, d.market_area, d.delivery_day, d.run_id, d.phase, "
    "d.status, d.reasons::text AS reasons, d.requested_kwh, d.accepted_kwh, d.coverage, "
    "d.cost_eur, d.occurred_at"
)
# $1 day, $2 vehicle (NULL = all), $3 owner (NULL = operator/admin: every vehicle)
DECISIONS_OF_DAY = f"""
SELECT {_DECISION_COLUMNS} FROM schedule_decisions d
WHERE d.delivery_day = $1 AND ($2::text IS NULL OR d.vehicle_id = $2)
  AND ($3::bigint IS NULL OR EXISTS (
        SELECT 1 FROM vehicles v WHERE v.id = d.vehicle_id AND v.owner_id = $3))
ORDER BY d.vehicle_id, d.plan_id
"""
UNDECIDED_PLANS_OF_DAY = """
SELECT p.plan_id, p.revision, p.vehicle_id, p.market_area, p.delivery_day, p.status,
       p.requested_kwh, p.occurred_at
FROM plans p
WHERE p.delivery_day = $1 AND ($2::text IS NULL OR p.vehicle_id = $2)
  AND ($3::bigint IS NULL OR EXISTS (
        SELECT 1 FROM vehicles v WHERE v.id = p.vehicle_id AND v.owner_id = $3))
  AND NOT EXISTS (SELECT 1 FROM schedule_decisions d WHERE d.plan_id = p.plan_id)
ORDER BY p.vehicle_id, p.plan_id
"""
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


class Zones:
    """Timezone of each market area (timestamps are shown in the area's local offset)."""

    def __init__(self) -> None:
        self._zones: dict[str, str] = {}

    async def of(self, pool: asyncpg.Pool, area: str) -> str:
        if area not in self._zones:
            tz = await pool.fetchval("SELECT timezone FROM market_areas WHERE id = $1", area)
            if tz is None:
                return "UTC"  # unknown area: not cached, it may be registered later
            self._zones[area] = tz
        return self._zones[area]


def local(at: datetime, tz: str) -> str:
    return at.astimezone(zone(tz)).isoformat()


async def vehicle_visible(pool: asyncpg.Pool, vehicle_id: str, owner: int | None) -> bool:
    if owner is None:
        return True
    found = await pool.fetchval(
        "SELECT 1 FROM vehicles WHERE id = $1 AND owner_id = $2", vehicle_id, owner
    )
    return found is not None


async def decisions_of_day(
    pool: asyncpg.Pool, zones: Zones, day: date, vehicle_id: str | None, owner: int | None
) -> list[dict[str, Any]]:
    """Every plan of the day the caller may see: decided ones, then undecided ones."""
    async with pool.acquire() as conn:
        rows = await conn.fetch(DECISIONS_OF_DAY, day, vehicle_id, owner)
        plans = await conn.fetch(UNDECIDED_PLANS_OF_DAY, day, vehicle_id, owner)
        allocations = await conn.fetch(ALLOCATIONS, [r["plan_id"] for r in rows]) if rows else []
    by_plan: dict[UUID, list[asyncpg.Record]] = {}
    for a in allocations:
        by_plan.setdefault(a["plan_id"], []).append(a)
    out = []
    for r in rows:
        tz = await zones.of(pool, r["market_area"])
        out.append(decision_json(r, by_plan.get(r["plan_id"], []), tz))
    for p in plans:
        out.append(
            {
                "plan_id": str(p["plan_id"]), "revision": p["revision"],
                "vehicle_id": p["vehicle_id"], "market_area": p["market_area"],
                "delivery_day": p["delivery_day"].isoformat(),
                # No decision yet: pending until the auction runs; or withdrawn by the driver.
                "status": "pending" if p["status"] == "submitted" else "cancelled",
                "reasons": [], "requested_kwh": p["requested_kwh"], "accepted_kwh": 0.0,
                "coverage": 0.0, "cost_eur": 0.0, "run_id": None, "phase": None,
                "decided_at": None, "allocations": [],
            }
        )  # fmt: skip
    return out


def decision_json(r: asyncpg.Record, allocations: list[asyncpg.Record], tz: str) -> dict[str, Any]:
    return {
        "plan_id": str(r["plan_id"]), "revision": r["revision"], "vehicle_id": r["vehicle_id"],
        "market_area": r["market_area"], "delivery_day": r["delivery_day"].isoformat(),
        "status": r["status"], "reasons": json.loads(r["reasons"]),
        "requested_kwh": r["requested_kwh"], "accepted_kwh": r["accepted_kwh"],
        "coverage": r["coverage"], "cost_eur": r["cost_eur"], "run_id": r["run_id"],
        "phase": r["phase"], "decided_at": local(r["occurred_at"], tz),
        "allocations": [
            {"charging_point_id": a["charging_point_id"], "mtu_start": local(a["mtu_start"], tz),
             "energy_kwh": a["energy_kwh"]}
            for a in allocations
        ],
    }  # fmt: skip


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
