"""Registry facts the validator needs, cached in-process with a short TTL.

Per request the gateway would otherwise need 3+ queries (area, points, vehicle). Areas and
charging points are small and loaded whole; vehicles are fetched by id in one query per
request (or batch) for the ids not cached. Changes in the registry are seen within
``ttl_s`` (default 5 s); concurrent refreshes of the network are coalesced.
"""

from __future__ import annotations

import asyncio
import time
from collections import OrderedDict
from collections.abc import Iterable
from dataclasses import dataclass

import asyncpg

from schemas.context import PointFacts
from schemas.network import Vehicle
from services.common.registry import MarketArea


@dataclass(frozen=True)
class VehicleFacts:
    vehicle: Vehicle
    owner_id: int
    min_charge_kwh: float | None = None  # the registry's vehicles.min_charge_kwh, if it has one


@dataclass(frozen=True)
class Network:
    areas: dict[str, MarketArea]
    points: dict[str, PointFacts]


_POINTS_SQL = (
    "SELECT p.id, p.node_id, p.max_power_kw, p.active, n.market_area "
    "FROM charging_points p JOIN nodes n ON n.id = p.node_id"
)
_VEHICLES_SQL = (
    "SELECT id, battery_kwh, max_power_kw, owner_id, {min_charge} AS min_charge_kwh "
    "FROM vehicles WHERE id = ANY($1::text[])"
)
# The vehicle's minimum charge is a column the operator panels' migration adds (issue 11);
# until it exists, vehicles have none. Looked up with the network, so it is seen within ttl_s.
_HAS_MIN_CHARGE_SQL = (
    "SELECT EXISTS (SELECT 1 FROM information_schema.columns WHERE table_schema = "
    "current_schema() AND table_name = 'vehicles' AND column_name = 'min_charge_kwh')"
)


class RegistryFacts:
    def __init__(self, pool: asyncpg.Pool, ttl_s: float = 5.0, max_vehicles: int = 200_000):
        self._pool = pool
        self.ttl_s = ttl_s
        self._max_vehicles = max_vehicles
        self._network: Network | None = None
        self._network_expiry = 0.0
        self._network_lock = asyncio.Lock()
        self._vehicles: OrderedDict[str, tuple[float, VehicleFacts | None]] = OrderedDict()
        self._vehicles_sql = _VEHICLES_SQL.format(min_charge="NULL::float8")

    async def network(self) -> Network:
        if self._network is not None and time.monotonic() < self._network_expiry:
            return self._network
        async with self._network_lock:  # one refresh for all waiting requests
            if self._network is None or time.monotonic() >= self._network_expiry:
                self._network = await self._load_network()
                self._network_expiry = time.monotonic() + self.ttl_s
            return self._network

    async def _load_network(self) -> Network:
        async with self._pool.acquire() as conn:
            area_rows = await conn.fetch("SELECT * FROM market_areas")
            point_rows = await conn.fetch(_POINTS_SQL)
            has_min_charge = await conn.fetchval(_HAS_MIN_CHARGE_SQL)
        column = "min_charge_kwh" if has_min_charge else "NULL::float8"
        self._vehicles_sql = _VEHICLES_SQL.format(min_charge=column)
        areas = {r["id"]: MarketArea(**dict(r)) for r in area_rows}
        points = {
            r["id"]: PointFacts(r["node_id"], r["market_area"], r["max_power_kw"], r["active"])
            for r in point_rows
        }
        return Network(areas, points)

    async def vehicles(self, ids: Iterable[str]) -> dict[str, VehicleFacts | None]:
        """Facts for each id (None = not registered); unknown ids are cached as well."""
        now = time.monotonic()
        found: dict[str, VehicleFacts | None] = {}
        missing: list[str] = []
        for vid in set(ids):
            if "\x00" in vid:  # PostgreSQL text cannot hold NUL: such a vehicle cannot exist
                found[vid] = None
                continue
            hit = self._vehicles.get(vid)
            if hit is not None and hit[0] > now:
                found[vid] = hit[1]
            else:
                missing.append(vid)
        if missing:
            rows = await self._pool.fetch(self._vehicles_sql, missing)
            loaded: dict[str, VehicleFacts | None] = dict.fromkeys(missing)
            for r in rows:
                vehicle = Vehicle(
                    id=r["id"], battery_kwh=r["battery_kwh"], max_power_kw=r["max_power_kw"]
                )
                loaded[r["id"]] = VehicleFacts(vehicle, int(r["owner_id"]), r["min_charge_kwh"])
            expiry = time.monotonic() + self.ttl_s
            for vid, facts in loaded.items():
                self._vehicles[vid] = (expiry, facts)
                self._vehicles.move_to_end(vid)
            while len(self._vehicles) > self._max_vehicles:
                self._vehicles.popitem(last=False)
            found.update(loaded)
        return found
