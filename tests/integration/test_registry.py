"""Registry on the real PostgreSQL: migrate, seed, tokens, lookups."""

from __future__ import annotations

import uuid

import pytest

from schemas.network import ChargingPoint, Node, Vehicle
from services.common import migrate, registry
from services.devstack import seed

pytestmark = pytest.mark.integration


async def test_migrations_are_idempotent(database_url, pool):
    migrate.upgrade(database_url)  # a second run changes nothing
    tables = {
        r["table_name"]
        for r in await pool.fetch(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public'"
        )
    }
    assert {"users", "api_tokens", "vehicles", "nodes", "charging_points", "market_areas"} <= tables


async def test_seed_loads_example_network_twice_without_duplicates(pool):
    data = seed.load()
    async with pool.acquire() as conn:
        await seed.apply(conn, data)
        counts = await seed.apply(conn, data)
    assert counts["vehicles"] == await pool.fetchval("SELECT count(*) FROM vehicles")
    nodes, points = await registry.network(pool, "PL")
    assert [n.id for n in nodes] == sorted(n.id for n in data.nodes)
    assert len(points) == len(data.charging_points)


async def test_token_is_stored_hashed_and_revocable(pool):
    name = f"fleet-{uuid.uuid4().hex[:6]}"
    async with pool.acquire() as conn:
        await registry.ensure_user(conn, name, "vehicle")
        token_id, token = await registry.create_token(conn, name, "test")
        stored = await conn.fetchrow(
            "SELECT token_hash, prefix FROM api_tokens WHERE id = $1", token_id
        )
        assert token.encode() not in bytes(stored["token_hash"])
        assert token.startswith(stored["prefix"])
        principal = await registry.authenticate(conn, token)
        assert principal is not None and principal.name == name and principal.role == "vehicle"
        assert await registry.authenticate(conn, token + "x") is None
        assert await registry.revoke_token(conn, token_id)
        assert await registry.authenticate(conn, token) is None
        assert not await registry.revoke_token(conn, token_id)


async def test_vehicle_and_network_round_trip(pool):
    owner = f"owner-{uuid.uuid4().hex[:6]}"
    area = registry.MarketArea(
        id=f"A{uuid.uuid4().hex[:4]}", timezone="Europe/Berlin", mtu_minutes=15
    )
    async with pool.acquire() as conn:
        await registry.upsert_market_area(conn, area)
        await registry.ensure_user(conn, owner, "vehicle")
        await registry.upsert_node(conn, Node(id=f"{area.id}-N1", capacity_kw=100), area.id)
        await registry.upsert_point(
            conn, ChargingPoint(id=f"{area.id}-P1", node_id=f"{area.id}-N1", max_power_kw=22)
        )
        await registry.upsert_vehicle(
            conn, Vehicle(id=f"{area.id}-V1", battery_kwh=60, max_power_kw=11), owner
        )
    vehicle, owner_id = await registry.get_vehicle(pool, f"{area.id}-V1")
    assert vehicle.battery_kwh == 60 and vehicle.max_power_kw == 11
    assert owner_id == await pool.fetchval("SELECT id FROM users WHERE name = $1", owner)
    assert await registry.get_market_area(pool, area.id) == area
    nodes, points = await registry.network(pool, area.id)
    assert [p.id for p in points] == [f"{area.id}-P1"] and nodes[0].capacity_kw == 100


async def test_unknown_role_is_rejected(pool):
    async with pool.acquire() as conn:
        with pytest.raises(ValueError, match="role must be one of"):
            await registry.ensure_user(conn, "x", "superuser")  # type: ignore[arg-type]
