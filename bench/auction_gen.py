"""Realistic auction instances for the benchmark (seeded, reproducible).

A city district on a winter weekday, scaled with N plans:
- commuters (60 %): home overnight -> work (shared 22 kW workplace points) -> home;
- one-stop parkers (30 %): one long stop at home or at a public 11 kW point;
- fast chargers (10 %): a 20-45 min stop at a 150 kW hub, some then home.
Residential transformers serve ~40 homes each and are congested in the evening
(`capacity_kw_by_mtu`: household load leaves less room 17:00-22:00). Workplace and hub
nodes are sized below their points' total power. Times are minute-resolution, so most
stops start and end inside an MTU. Bids have 1-3 steps: a small urgent step at a high
price, a bulk step near the usual price level, an opportunistic cheap step.
"""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import numpy as np

from auction.mtu import day_grid
from schemas.auction import AuctionInstance
from schemas.network import ChargingPoint, Node, Vehicle
from schemas.plan import BidStep, PlanBody, Stop

DAY = date(2026, 11, 25)
TZ = "Europe/Warsaw"


def _prices(rng: np.random.Generator, count: int, per_hour: int) -> list[float]:
    hours = np.arange(count) / per_hour
    shape = 90 + 40 * np.exp(-((hours - 8) ** 2) / 4) + 70 * np.exp(-((hours - 18.5) ** 2) / 5)
    noise = rng.normal(0, 6, count)
    return [round(float(p), 2) for p in shape + noise]


def evening_node(
    rng: np.random.Generator, name: str, sizes: list[float], evening: np.ndarray, left: float
) -> Node:
    """A transformer of one of `sizes` kW with only `left` of it free in the evening MTUs
    (household load)."""
    base = float(rng.choice(sizes))
    profile = np.where(evening, base * left, base)
    return Node.model_construct(
        id=name, capacity_kw=base, capacity_kw_by_mtu=[float(c) for c in profile]
    )


def generate(n: int, mtu_minutes: int = 60, seed: int = 1) -> AuctionInstance:
    rng = np.random.default_rng(seed)
    grid = day_grid(DAY, TZ, mtu_minutes)
    start = datetime.combine(DAY, time(0), tzinfo=ZoneInfo(TZ)).astimezone(UTC)
    n_res = max(1, n // 40)
    n_work_nodes = max(1, n // 400)
    n_hubs = max(1, n // 2000)
    nodes: list[Node] = []
    evening = np.array([17 <= (k * mtu_minutes) / 60 < 22 for k in range(grid.count)])
    nodes += [
        evening_node(rng, f"RES{i}", [120.0, 160.0, 200.0], evening, 0.55) for i in range(n_res)
    ]
    nodes += [
        Node.model_construct(
            id=f"WORK{i}", capacity_kw=float(rng.choice([250.0, 400.0])), capacity_kw_by_mtu=None
        )
        for i in range(n_work_nodes)
    ]
    nodes += [
        Node.model_construct(id=f"HUB{i}", capacity_kw=450.0, capacity_kw_by_mtu=None)
        for i in range(n_hubs)
    ]
    points: list[ChargingPoint] = []
    n_work_pts = max(1, n_work_nodes * 40)
    for i in range(n_work_pts):
        points.append(
            ChargingPoint.model_construct(
                id=f"W{i}", node_id=f"WORK{i % n_work_nodes}", max_power_kw=22.0, active=True
            )
        )
    for i in range(n_hubs * 6):
        points.append(
            ChargingPoint.model_construct(
                id=f"F{i}", node_id=f"HUB{i % n_hubs}", max_power_kw=150.0, active=True
            )
        )
    n_public = max(1, n // 20)
    for i in range(n_public):
        points.append(
            ChargingPoint.model_construct(
                id=f"Q{i}", node_id=f"RES{i % n_res}", max_power_kw=11.0, active=True
            )
        )
    kind = rng.choice(3, size=n, p=[0.6, 0.3, 0.1])
    battery = rng.choice([40.0, 58.0, 77.0, 100.0], size=n)
    vpower = rng.choice([7.4, 11.0, 11.0, 22.0], size=n)
    soc = np.round(battery * rng.uniform(0.15, 0.7, size=n), 1)
    minutes = rng.integers(0, 60, size=(n, 6))
    vehicles: list[Vehicle] = []
    plans: list[PlanBody] = []

    def t(h: float) -> datetime:
        return start + timedelta(minutes=round(h * 60))

    for i in range(n):
        vid = f"EV{i}"
        vehicles.append(
            Vehicle.model_construct(
                id=vid, battery_kwh=float(battery[i]), max_power_kw=float(vpower[i])
            )
        )
        home = f"H{i}"
        points.append(
            ChargingPoint.model_construct(
                id=home,
                node_id=f"RES{i % n_res}",
                max_power_kw=float(rng.choice([7.4, 11.0])),
                active=True,
            )
        )
        m = minutes[i]
        trip = float(round(rng.uniform(3, 14), 1))
        if kind[i] == 0:
            leave, arrive = 6 + m[0] / 60, 7 + m[1] / 60
            off, back = 15 + m[2] / 60 + rng.integers(0, 2), 17 + m[3] / 60
            stops = [
                Stop.model_construct(
                    charging_point_id=home, arrival=t(0), departure=t(leave), trip_kwh_after=trip
                ),
                Stop.model_construct(
                    charging_point_id=f"W{rng.integers(n_work_pts)}",
                    arrival=t(arrive),
                    departure=t(off),
                    trip_kwh_after=trip,
                ),
                Stop.model_construct(
                    charging_point_id=home, arrival=t(back), departure=t(24), trip_kwh_after=0.0
                ),
            ]
        elif kind[i] == 1:
            a = float(rng.uniform(0, 16))
            pid = home if rng.random() < 0.5 else f"Q{rng.integers(n_public)}"
            stops = [
                Stop.model_construct(
                    charging_point_id=pid,
                    arrival=t(a),
                    departure=t(min(24, a + rng.uniform(2, 9))),
                    trip_kwh_after=0.0,
                )
            ]
        else:
            a = float(rng.uniform(7, 20))
            stops = [
                Stop.model_construct(
                    charging_point_id=f"F{rng.integers(n_hubs * 6)}",
                    arrival=t(a),
                    departure=t(a + rng.uniform(0.34, 0.75)),
                    trip_kwh_after=trip,
                )
            ]
            if rng.random() < 0.5:
                stops.append(
                    Stop.model_construct(
                        charging_point_id=home,
                        arrival=t(a + 1.2),
                        departure=t(24),
                        trip_kwh_after=0.0,
                    )
                )
        n_steps = int(rng.integers(1, 4))
        prices = sorted(
            [
                round(float(rng.uniform(250, 900)), 2),
                round(float(rng.uniform(90, 220)), 2),
                round(float(rng.uniform(20, 110)), 2),
            ][:n_steps],
            reverse=True,
        )
        sizes = [
            round(float(rng.uniform(4, 12)), 1),
            round(float(rng.uniform(8, 30)), 1),
            round(float(rng.uniform(5, 20)), 1),
        ]
        plans.append(
            PlanBody.model_construct(
                plan_id=uuid.UUID(int=(seed << 96) + i + 1),
                vehicle_id=vid,
                initial_soc_kwh=float(soc[i]),
                stops=stops,
                bid=[
                    BidStep.model_construct(energy_kwh=s, price_eur_mwh=p)
                    for s, p in zip(sizes, prices, strict=False)
                ],
            )
        )
    prices = _prices(rng, grid.count, 60 // mtu_minutes)
    return assemble(mtu_minutes, prices, nodes, points, vehicles, plans)


def assemble(
    mtu_minutes: int,
    prices: list[float],
    nodes: list[Node],
    points: list[ChargingPoint],
    vehicles: list[Vehicle],
    plans: list[PlanBody],
) -> AuctionInstance:
    """A day in PL of the generators (DAY, TZ), built without validation: the benchmark
    runs check_instance on it."""
    return AuctionInstance.model_construct(
        market_area="PL",
        delivery_day=DAY,
        timezone=TZ,
        mtu_minutes=mtu_minutes,
        prices_eur_mwh=prices,
        awarded_mwh=None,
        nodes=nodes,
        charging_points=points,
        vehicles=vehicles,
        plans=plans,
    )
