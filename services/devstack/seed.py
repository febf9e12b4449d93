"""A small example network and fleet (`chargeflow seed`), also used by the demo and tests.

A seed file is plain registry data (market areas, users, nodes, charging points,
vehicles), so `chargeflow seed FILE` also loads a real network into any registry.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import asyncpg
from pydantic import BaseModel, Field

from schemas.network import ChargingPoint, Node, Vehicle
from services.common import registry

EXAMPLE = Path(__file__).parent / "seed_example.json"


class SeedUser(BaseModel):
    name: str
    role: registry.Role


class SeedVehicle(Vehicle):
    owner: str


class SeedArea(BaseModel):
    id: str
    timezone: str = "Europe/Warsaw"
    mtu_minutes: int = 60
    gate_closure: str = "12:00"
    plan_horizon_days: int = 7


class SeedData(BaseModel):
    market_areas: list[SeedArea] = Field(min_length=1)
    users: list[SeedUser] = []
    nodes: list[Node] = []
    charging_points: list[ChargingPoint] = []
    vehicles: list[SeedVehicle] = []


def load(path: Path = EXAMPLE) -> SeedData:
    return SeedData.model_validate_json(path.read_bytes())


async def apply(conn: asyncpg.Connection, data: SeedData) -> dict[str, Any]:
    """Upsert everything in one transaction; running it twice changes nothing."""
    from datetime import time

    async with conn.transaction():
        for area in data.market_areas:
            hh, mm = (int(x) for x in area.gate_closure.split(":"))
            await registry.upsert_market_area(
                conn,
                registry.MarketArea(
                    area.id,
                    area.timezone,
                    area.mtu_minutes,
                    time(hh, mm),
                    plan_horizon_days=area.plan_horizon_days,
                ),
            )
        for user in data.users:
            await registry.ensure_user(conn, user.name, user.role)
        for node in data.nodes:
            await registry.upsert_node(conn, node, node.market_area or data.market_areas[0].id)
        for point in data.charging_points:
            await registry.upsert_point(conn, point)
        for v in data.vehicles:
            vehicle = Vehicle(id=v.id, battery_kwh=v.battery_kwh, max_power_kw=v.max_power_kw)
            await registry.upsert_vehicle(conn, vehicle, v.owner)
    return {
        "market_areas": len(data.market_areas),
        "users": len(data.users),
        "nodes": len(data.nodes),
        "charging_points": len(data.charging_points),
        "vehicles": len(data.vehicles),
    }


def load_into(database_url: str, data: SeedData) -> dict[str, Any]:
    """`apply` on a connection of its own, for callers without an event loop (CLI, stack)."""

    async def run() -> dict[str, Any]:
        conn = await asyncpg.connect(database_url)
        try:
            return await apply(conn, data)
        finally:
            await conn.close()

    return asyncio.run(run())
