"""Small random auction instances for property tests (seeded, reproducible)."""

from __future__ import annotations

import random
import uuid
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from auction.mtu import day_grid
from schemas.auction import AuctionInstance
from schemas.network import ChargingPoint, Node, Vehicle
from schemas.plan import BidStep, PlanBody, Stop

DAY = date(2026, 11, 25)
TZ = "Europe/Warsaw"


def at(hour: float, day: date = DAY, tz: str = TZ) -> datetime:
    """Aware local time `hour` hours after local midnight (absolute time, DST-safe)."""
    tzinfo = ZoneInfo(tz)
    start = datetime.combine(day, time(0), tzinfo=tzinfo).astimezone(UTC)
    return (start + timedelta(hours=hour)).astimezone(tzinfo)


def random_instance(
    seed: int | random.Random,
    n_plans: int = 6,
    mtu_minutes: int = 60,
    day: date = DAY,
    phase2: bool = False,
) -> AuctionInstance:
    """A small valid instance: 1-3 nodes (some with per-MTU capacity), 1-4 shared points
    (some inactive), 1-3 stops per plan at minute-ish times, 1-3 bid steps, batteries small
    enough to bind, phase-2 awards small enough to bind."""
    rng = seed if isinstance(seed, random.Random) else random.Random(seed)
    grid = day_grid(day, TZ, mtu_minutes)
    hours = grid.count * mtu_minutes / 60
    n_nodes = rng.randint(1, 3)
    nodes = [
        Node(
            id=f"N{i}",
            capacity_kw=rng.choice([5.0, 11.0, 20.0, 50.0]),
            capacity_kw_by_mtu=(
                [rng.choice([3.0, 8.0, 30.0]) for _ in range(grid.count)]
                if rng.random() < 0.3
                else None
            ),
        )
        for i in range(n_nodes)
    ]
    points = [
        ChargingPoint(
            id=f"P{i}",
            node_id=f"N{rng.randrange(n_nodes)}",
            max_power_kw=rng.choice([3.7, 7.4, 11.0, 22.0]),
            active=rng.random() > 0.05,
        )
        for i in range(rng.randint(1, 4))
    ]
    vehicles = []
    plans = []
    for v in range(n_plans):
        vehicles.append(
            Vehicle(
                id=f"V{v}",
                battery_kwh=rng.choice([10.0, 20.0, 40.0]),
                max_power_kw=rng.choice([3.7, 7.4, 11.0]),
            )
        )
        n_stops = rng.randint(1, 3)
        cuts = sorted(rng.uniform(0, hours) for _ in range(2 * n_stops))
        stops = [
            Stop(
                charging_point_id=f"P{rng.randrange(len(points))}",
                # keep at least 0.01 h before the day's end, so departure > arrival
                arrival=at(min(round(cuts[2 * k], 2), hours - 0.01), day),
                departure=at(min(round(cuts[2 * k + 1], 2) + 0.01, hours), day),
                # a drive never uses more than a full battery (the instance check's rule)
                trip_kwh_after=min(rng.choice([0.0, 2.0, 7.5, 15.0]), vehicles[-1].battery_kwh),
            )
            for k in range(n_stops)
        ]
        # make stops strictly non-overlapping after rounding
        fixed = [stops[0]]
        for s in stops[1:]:
            if s.arrival >= fixed[-1].departure:
                fixed.append(s)
        prices = sorted(
            (round(rng.uniform(-50, 600), 2) for _ in range(rng.randint(1, 3))), reverse=True
        )
        bid = [
            BidStep(energy_kwh=rng.choice([2.0, 5.5, 10.0, 25.0]), price_eur_mwh=p) for p in prices
        ]
        soc = rng.choice([None, 0.0, 5.0, 9.0])
        plans.append(
            PlanBody(
                plan_id=uuid.UUID(int=v + 1),
                vehicle_id=f"V{v}",
                initial_soc_kwh=soc,
                stops=fixed,
                bid=bid,
            )
        )
    prices = [round(rng.uniform(20, 300), 2) for _ in range(grid.count)]
    awarded = [round(rng.uniform(0, 0.03), 4) for _ in range(grid.count)] if phase2 else None
    return AuctionInstance(
        market_area="PL",
        delivery_day=day,
        timezone=TZ,
        mtu_minutes=mtu_minutes,
        prices_eur_mwh=prices,
        awarded_mwh=awarded,
        nodes=nodes,
        charging_points=points,
        vehicles=vehicles,
        plans=plans,
    )
