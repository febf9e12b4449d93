"""The original system's schedules as stored (table ``legacy_schedules``, migration 0006).

The id is drawn first: it is also the revision of the plan the schedule becomes, so a later
schedule of the same vehicle and day replaces the earlier one (DESIGN §5 revisions). The row
is written only after the broker acknowledged the plan: a schedule listed was published.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from uuid import UUID

import asyncpg
import orjson

_NEXT_ID = "SELECT nextval(pg_get_serial_sequence('legacy_schedules', 'id'))::integer"
_INSERT = """
INSERT INTO legacy_schedules (id, user_id, vehicle_id, mode, charge_percent, trip_percent,
    point_schedules, market_area, delivery_day, plan_id, plan, conversion)
VALUES ($1, $2, $3, $4, $5, $6, $7::jsonb, $8, $9, $10, $11::jsonb, $12::jsonb)
RETURNING created_at
"""
# The newest `limit` of the caller's schedules, oldest first (the original listed by id).
_LIST = """
SELECT * FROM (
    SELECT id, vehicle_id, mode, charge_percent, trip_percent, point_schedules::text,
           market_area, delivery_day, plan_id, plan::text, conversion::text, created_at
    FROM legacy_schedules WHERE user_id = $1 ORDER BY id DESC LIMIT $2
) s ORDER BY id
"""


@dataclass(frozen=True)
class StoredSchedule:
    id: int
    vehicle_id: str
    mode: str
    charge_percent: float
    trip_percent: float
    point_schedules: list[dict[str, str]]  # {point, arrival_time, departure_time}: aware text
    market_area: str
    delivery_day: date
    plan_id: UUID
    plan: dict[str, Any]
    conversion: dict[str, Any]
    created_at: datetime | None = None  # set by the database


class ScheduleStore:
    def __init__(self, pool: asyncpg.Pool) -> None:
        self._pool = pool

    async def next_id(self) -> int:
        return int(await self._pool.fetchval(_NEXT_ID))

    async def insert(self, user_id: int, schedule: StoredSchedule) -> datetime:
        created: datetime = await self._pool.fetchval(
            _INSERT,
            schedule.id,
            user_id,
            schedule.vehicle_id,
            schedule.mode,
            schedule.charge_percent,
            schedule.trip_percent,
            orjson.dumps(schedule.point_schedules).decode(),
            schedule.market_area,
            schedule.delivery_day,
            schedule.plan_id,
            orjson.dumps(schedule.plan).decode(),
            orjson.dumps(schedule.conversion).decode(),
        )
        return created

    async def of_user(self, user_id: int, limit: int) -> list[StoredSchedule]:
        rows = await self._pool.fetch(_LIST, user_id, limit)
        return [
            StoredSchedule(
                id=r["id"],
                vehicle_id=r["vehicle_id"],
                mode=r["mode"],
                charge_percent=r["charge_percent"],
                trip_percent=r["trip_percent"],
                point_schedules=orjson.loads(r["point_schedules"]),
                market_area=r["market_area"],
                delivery_day=r["delivery_day"],
                plan_id=r["plan_id"],
                plan=orjson.loads(r["plan"]),
                conversion=orjson.loads(r["conversion"]),
                created_at=r["created_at"],
            )
            for r in rows
        ]
