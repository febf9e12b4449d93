"""A simulated fleet (`chargeflow simulate`): realistic next-day plans, submitted over HTTP.

Patterns, drawn per vehicle with a seeded RNG (same seed, same plans):
- commuter (50 %): home until the morning, work during the day, home in the evening;
- parker (35 %): one long stop, overnight-style in the evening or at work;
- fast stop (15 %): 30–60 minutes at a fast charger.
Points are told apart by power: ≤ 11 kW home, ≤ 22 kW work, above that fast. Each plan
bids a needed step at a high price and an optional step at a lower one, never more than the
battery can take. The plans go to the ingest gateway's batch endpoint, like a fleet operator's.
"""

from __future__ import annotations

import asyncio
import random
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

import asyncpg
import httpx

from schemas.market_day import day_bounds, next_delivery_day, zone
from schemas.network import ChargingPoint, Vehicle
from services.common import registry
from services.common.settings import utc_now


@dataclass(frozen=True)
class FleetSite:
    home: list[ChargingPoint]
    work: list[ChargingPoint]
    fast: list[ChargingPoint]

    @classmethod
    def classify(cls, points: list[ChargingPoint]) -> FleetSite:
        active = [p for p in points if p.active]
        return cls(
            home=[p for p in active if p.max_power_kw <= 11.0] or active,
            work=[p for p in active if 11.0 < p.max_power_kw <= 22.0] or active,
            fast=[p for p in active if p.max_power_kw > 22.0] or active,
        )


def _at(base: datetime, hours: float) -> datetime:
    # UTC arithmetic, then local: DST days keep their real length.
    return (base.astimezone(UTC) + timedelta(hours=hours)).astimezone(base.tzinfo)


def _stop(
    point: ChargingPoint, arrival: datetime, departure: datetime, trip: float
) -> dict[str, Any]:
    return {
        "charging_point_id": point.id,
        "arrival": arrival.isoformat(),
        "departure": departure.isoformat(),
        "trip_kwh_after": round(trip, 1),
    }


def plan_for(
    vehicle: Vehicle, site: FleetSite, day: date, tz: str, area: str, rng: random.Random
) -> dict[str, Any]:
    """One vehicle's plan for `day` (a ChargingPlan as JSON-ready dict)."""
    start, end = day_bounds(day, zone(tz))
    day_hours = (end.astimezone(UTC) - start.astimezone(UTC)).total_seconds() / 3600
    soc = round(vehicle.battery_kwh * rng.uniform(0.15, 0.5), 1)
    kind = rng.choices(["commuter", "parker", "fast"], weights=[50, 35, 15])[0]
    if kind == "commuter":
        home, work = rng.choice(site.home), rng.choice(site.work)
        trip = rng.uniform(4, 12)
        leave, back = rng.uniform(6.0, 8.0), rng.uniform(16.5, 18.5)
        stops = [
            _stop(home, start, _at(start, leave), trip),
            _stop(work, _at(start, leave + 0.75), _at(start, back - 0.75), trip),
            _stop(home, _at(start, back), end, 0.0),
        ]
    elif kind == "parker":
        point = rng.choice(site.home + site.work)
        arrive = rng.uniform(0.0, day_hours - 10)
        stops = [_stop(point, _at(start, arrive), _at(start, arrive + rng.uniform(6, 10)), 0.0)]
    else:
        point = rng.choice(site.fast)
        arrive = rng.uniform(6.0, day_hours - 2)
        stops = [_stop(point, _at(start, arrive), _at(start, arrive + rng.uniform(0.5, 1.0)), 0.0)]
    # Never more than the stops can deliver (power x time) or the battery can take.
    by_id = {p.id: p for p in site.home + site.work + site.fast}
    deliverable = sum(
        min(vehicle.max_power_kw, by_id[s["charging_point_id"]].max_power_kw)
        * (
            datetime.fromisoformat(s["departure"]) - datetime.fromisoformat(s["arrival"])
        ).total_seconds()
        / 3600
        for s in stops
    )
    room = max(min(vehicle.battery_kwh - soc, deliverable * 0.9), 1.0)
    need = round(min(room * 0.6, rng.uniform(5, 25)), 1)
    bid = [{"energy_kwh": need, "price_eur_mwh": round(rng.uniform(250, 800), 2)}]
    extra = round(min(room - need, rng.uniform(0, 15)) - 0.05, 1)
    if extra >= 1.0:
        bid.append({"energy_kwh": extra, "price_eur_mwh": round(rng.uniform(40, 200), 2)})
    return {
        "plan_id": str(uuid.UUID(int=rng.getrandbits(128), version=4)),
        "revision": 0,
        "vehicle_id": vehicle.id,
        "market_area": area,
        "delivery_day": day.isoformat(),
        "initial_soc_kwh": soc,
        "stops": stops,
        "bid": bid,
    }


def fleet_plans(
    vehicles: list[Vehicle],
    points: list[ChargingPoint],
    day: date,
    tz: str,
    area: str,
    seed: int = 1,
) -> list[dict[str, Any]]:
    """One plan per vehicle, deterministic for a seed."""
    rng = random.Random(f"{seed}/{area}/{day.isoformat()}")
    site = FleetSite.classify(points)
    return [plan_for(v, site, day, tz, area, rng) for v in sorted(vehicles, key=lambda v: v.id)]


async def load_fleet(conn: Any, area: str) -> tuple[list[Vehicle], list[ChargingPoint], str]:
    """Vehicles, the area's charging points and its timezone, from the registry."""
    facts = await registry.get_market_area(conn, area)
    if facts is None:
        raise LookupError(f"market area {area!r} is not in the registry (run `chargeflow seed`)")
    _, points = await registry.network(conn, area)
    rows = await conn.fetch("SELECT id, battery_kwh, max_power_kw FROM vehicles ORDER BY id")
    return [Vehicle(**dict(r)) for r in rows], points, facts.timezone


async def submit(
    ingest_url: str, token: str, plans: list[dict[str, Any]], chunk: int = 1000
) -> dict[str, int]:
    """POST the plans in batches; returns counts of accepted and rejected items."""
    counts = {"accepted": 0, "rejected": 0}
    reasons: dict[str, int] = {}
    headers = {"Authorization": f"Bearer {token}"}
    async with httpx.AsyncClient(base_url=ingest_url, headers=headers, timeout=60) as client:
        for i in range(0, len(plans), chunk):
            response = await client.post(
                "/charging-schedules/batch", json={"plans": plans[i : i + chunk]}
            )
            while response.status_code == 429:  # the token's plans/s: wait as told, resend
                await asyncio.sleep(float(response.headers.get("retry-after", "1")))
                response = await client.post(
                    "/charging-schedules/batch", json={"plans": plans[i : i + chunk]}
                )
            if response.status_code != 200:
                raise RuntimeError(f"ingest answered {response.status_code}: {response.text[:500]}")
            body = response.json()
            counts["accepted"] += body["accepted"]
            counts["rejected"] += body["rejected"]
            for item in body["results"]:
                if item["status"] != "accepted":
                    reasons[item["detail"]] = reasons.get(item["detail"], 0) + 1
    return counts | {f"rejected: {k}": v for k, v in sorted(reasons.items())}


async def simulate_day(
    database_url: str,
    ingest_url: str,
    area: str,
    *,
    day: date | None = None,
    now: datetime | None = None,
    token: str | None = None,
    vehicles: int | None = None,
    seed: int = 1,
    say: Callable[[str], None] = lambda _: None,
) -> dict[str, int]:
    """One plan per vehicle of the area's registry fleet (at most `vehicles`) for `day`
    (default: the next delivery day open at `now`, by default the wall clock's), submitted
    through the ingest gateway.
    Without a token, the operator user `simulator` gets a new one."""
    conn = await asyncpg.connect(database_url)
    try:
        fleet, points, tz = await load_fleet(conn, area)
        if token is None:
            await registry.ensure_user(conn, "simulator", "operator")
            _, token = await registry.create_token(conn, "simulator", "chargeflow simulate")
    finally:
        await conn.close()
    when = day or next_delivery_day(now or utc_now(), tz)
    plans = fleet_plans(fleet[:vehicles], points, when, tz, area, seed)
    say(f"submitting {len(plans)} plans for {area} {when} to {ingest_url}")
    return await submit(ingest_url, token, plans)
