"""Registry access (asyncpg): users, tokens, vehicles, nodes, charging points, market areas."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import time, timedelta
from typing import Literal

import asyncpg

from schemas.network import ChargingPoint, Node, Vehicle
from services.common.tokens import display_prefix, hash_token, new_token

Role = Literal["vehicle", "operator", "admin"]
ROLES: tuple[Role, ...] = ("vehicle", "operator", "admin")


@dataclass(frozen=True)
class Principal:
    """Who is calling: the user behind a valid, unrevoked token."""

    user_id: int
    name: str
    role: Role
    token_id: int


@dataclass(frozen=True)
class MarketArea:
    id: str
    timezone: str = "Europe/Warsaw"
    mtu_minutes: int = 60
    gate_closure: time = time(12, 0)
    price_min_eur_mwh: float = -500.0
    price_max_eur_mwh: float = 4000.0
    plan_horizon_days: int = 7


class UnknownUser(LookupError):
    pass


async def ensure_user(conn: asyncpg.Connection, name: str, role: Role) -> int:
    """Create the user if missing (role is kept if it exists) and return its id."""
    if role not in ROLES:
        raise ValueError(f"role must be one of {', '.join(ROLES)}")
    row = await conn.fetchrow(
        "INSERT INTO users (name, role) VALUES ($1, $2) "
        "ON CONFLICT (name) DO UPDATE SET name = EXCLUDED.name RETURNING id",
        name,
        role,
    )
    assert row is not None
    return int(row["id"])


async def create_token(
    conn: asyncpg.Connection | asyncpg.Pool,
    user: str,
    label: str = "",
    expires_in: timedelta | None = None,
) -> tuple[int, str]:
    """Issue a token for `user`; returns (token id, the token). The token is not stored.
    ``expires_in``: how long it is valid (None: until revoked)."""
    user_id = await conn.fetchval("SELECT id FROM users WHERE name = $1", user)
    if user_id is None:
        raise UnknownUser(user)
    token = new_token()
    token_id = await conn.fetchval(
        "INSERT INTO api_tokens (user_id, token_hash, prefix, label, expires_at) "
        "VALUES ($1, $2, $3, $4, now() + $5::interval) RETURNING id",
        user_id,
        hash_token(token),
        display_prefix(token),
        label,
        expires_in,
    )
    return int(token_id), token


async def revoke_token(conn: asyncpg.Connection, token_id: int) -> bool:
    status = await conn.execute(
        "UPDATE api_tokens SET revoked_at = now() WHERE id = $1 AND revoked_at IS NULL", token_id
    )
    return bool(status.endswith(" 1"))


async def authenticate(conn: asyncpg.Connection | asyncpg.Pool, token: str) -> Principal | None:
    row = await conn.fetchrow(
        "SELECT t.id AS token_id, u.id AS user_id, u.name, u.role FROM api_tokens t "
        "JOIN users u ON u.id = t.user_id WHERE t.token_hash = $1 AND t.revoked_at IS NULL "
        "AND (t.expires_at IS NULL OR t.expires_at > now())",
        hash_token(token),
    )
    if row is None:
        return None
    return Principal(row["user_id"], row["name"], row["role"], row["token_id"])


async def upsert_market_area(conn: asyncpg.Connection, area: MarketArea) -> None:
    await conn.execute(
        "INSERT INTO market_areas (id, timezone, mtu_minutes, gate_closure, price_min_eur_mwh, "
        "price_max_eur_mwh, plan_horizon_days) VALUES ($1, $2, $3, $4, $5, $6, $7) "
        "ON CONFLICT (id) DO UPDATE SET "
        "timezone = EXCLUDED.timezone, mtu_minutes = EXCLUDED.mtu_minutes, "
        "gate_closure = EXCLUDED.gate_closure, price_min_eur_mwh = EXCLUDED.price_min_eur_mwh, "
        "price_max_eur_mwh = EXCLUDED.price_max_eur_mwh, "
        "plan_horizon_days = EXCLUDED.plan_horizon_days",
        area.id,
        area.timezone,
        area.mtu_minutes,
        area.gate_closure,
        area.price_min_eur_mwh,
        area.price_max_eur_mwh,
        area.plan_horizon_days,
    )


async def upsert_node(conn: asyncpg.Connection, node: Node, market_area: str) -> None:
    await conn.execute(
        "INSERT INTO nodes (id, market_area, capacity_kw) VALUES ($1, $2, $3) "
        "ON CONFLICT (id) DO UPDATE SET market_area = EXCLUDED.market_area, "
        "capacity_kw = EXCLUDED.capacity_kw",
        node.id,
        market_area,
        node.capacity_kw,
    )


async def upsert_point(conn: asyncpg.Connection, point: ChargingPoint) -> None:
    await conn.execute(
        "INSERT INTO charging_points (id, node_id, max_power_kw, active) VALUES ($1, $2, $3, $4) "
        "ON CONFLICT (id) DO UPDATE SET node_id = EXCLUDED.node_id, "
        "max_power_kw = EXCLUDED.max_power_kw, active = EXCLUDED.active",
        point.id,
        point.node_id,
        point.max_power_kw,
        point.active,
    )


async def upsert_vehicle(conn: asyncpg.Connection, vehicle: Vehicle, owner: str) -> None:
    owner_id = await conn.fetchval("SELECT id FROM users WHERE name = $1", owner)
    if owner_id is None:
        raise UnknownUser(owner)
    await conn.execute(
        "INSERT INTO vehicles (id, owner_id, battery_kwh, max_power_kw) VALUES ($1, $2, $3, $4) "
        "ON CONFLICT (id) DO UPDATE SET owner_id = EXCLUDED.owner_id, "
        "battery_kwh = EXCLUDED.battery_kwh, max_power_kw = EXCLUDED.max_power_kw",
        vehicle.id,
        owner_id,
        vehicle.battery_kwh,
        vehicle.max_power_kw,
    )


async def get_vehicle(
    conn: asyncpg.Connection | asyncpg.Pool, vehicle_id: str
) -> tuple[Vehicle, int] | None:
    """The vehicle and its owner's user id, or None."""
    row = await conn.fetchrow(
        "SELECT id, battery_kwh, max_power_kw, owner_id FROM vehicles WHERE id = $1", vehicle_id
    )
    if row is None:
        return None
    vehicle = Vehicle(
        id=row["id"], battery_kwh=row["battery_kwh"], max_power_kw=row["max_power_kw"]
    )
    return vehicle, int(row["owner_id"])


async def network(
    conn: asyncpg.Connection | asyncpg.Pool, market_area: str
) -> tuple[list[Node], list[ChargingPoint]]:
    """Nodes and charging points of one market area, sorted by id (deterministic)."""
    nodes = await conn.fetch(
        "SELECT id, capacity_kw FROM nodes WHERE market_area = $1 ORDER BY id", market_area
    )
    points = await conn.fetch(
        "SELECT p.id, p.node_id, p.max_power_kw, p.active FROM charging_points p "
        "JOIN nodes n ON n.id = p.node_id WHERE n.market_area = $1 ORDER BY p.id",
        market_area,
    )
    return (
        [Node(id=r["id"], capacity_kw=r["capacity_kw"], market_area=market_area) for r in nodes],
        [
            ChargingPoint(
                id=r["id"], node_id=r["node_id"], max_power_kw=r["max_power_kw"], active=r["active"]
            )
            for r in points
        ],
    )


async def get_market_area(
    conn: asyncpg.Connection | asyncpg.Pool, area_id: str
) -> MarketArea | None:
    row = await conn.fetchrow("SELECT * FROM market_areas WHERE id = $1", area_id)
    return MarketArea(**dict(row)) if row is not None else None
