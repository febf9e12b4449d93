"""Read side of the original system's decisions API (DESIGN §7.1): one vehicle's decisions
of a day or of every day, converted per day by services/decisions/items.py."""

from __future__ import annotations

from datetime import date
from typing import Any, Literal

import asyncpg

from services.decisions.items import INPUT_COLUMNS, INPUT_JOINS, original_days

_COLUMNS = f"d.delivery_day, d.requested_kwh, d.accepted_kwh, {INPUT_COLUMNS}"
OWNER = "SELECT owner_id FROM vehicles WHERE id = $1"
ONE_DAY = f"""
SELECT {_COLUMNS}
FROM schedule_decisions d {INPUT_JOINS}
WHERE d.delivery_day = $2 AND d.vehicle_id = $1
"""
# Every day: the index on (delivery_day, vehicle_id) cannot be searched by vehicle alone
# (PostgreSQL before 18 has no skip scan), so the days that have decisions are walked one
# index descent each (a "loose index scan"), and each day is probed for the vehicle: about
# two descents per day with decisions in the table, instead of reading every decision.
EVERY_DAY = f"""
WITH RECURSIVE days (day) AS (
    SELECT min(delivery_day) FROM schedule_decisions
    UNION ALL
    SELECT (SELECT min(s.delivery_day) FROM schedule_decisions s WHERE s.delivery_day > days.day)
    FROM days WHERE days.day IS NOT NULL
)
SELECT {_COLUMNS}
FROM days JOIN schedule_decisions d ON d.delivery_day = days.day AND d.vehicle_id = $1
{INPUT_JOINS}
"""

Refusal = Literal["unknown", "foreign"]


async def vehicle_days(
    pool: asyncpg.Pool, vehicle_id: str, day: date | None, owner: int | None
) -> list[tuple[date, dict[str, Any]]] | Refusal:
    """The vehicle's original decisions by day (of ``day``, or of every day when None), or
    why not: "unknown" (no such vehicle, nor any decision of it), "foreign" (a vehicle user
    asking for another owner's vehicle). ``owner`` None: an operator, who sees every vehicle."""
    async with pool.acquire() as conn:
        registered = await conn.fetchrow(OWNER, vehicle_id)
        if owner is not None:
            if registered is None:
                return "unknown"
            if registered["owner_id"] != owner:
                return "foreign"
        if day is None:
            rows = await conn.fetch(EVERY_DAY, vehicle_id)
        else:
            rows = await conn.fetch(ONE_DAY, vehicle_id, day)
    if not rows and registered is None:
        return "unknown"
    return original_days(rows)
