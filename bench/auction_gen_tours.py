"""A second instance family for the benchmark: service fleets on tours (seeded).

`auction_gen.py` models private cars: one to three stops, nodes that bind only in the
evening. Here every vehicle works a tour - delivery vans, taxis, car sharing - with more
stops per day and grid nodes that bind most of the day:

- 3 to 8 stops per vehicle (median 5): overnight at its depot or home until 05:00-08:00,
  then 20-150 min stops at public points, fast hubs or back at the depot, and home from
  17:00-21:00 to midnight; the drives between stops use 4-22 kWh each;
- depots: 40 shared 22 kW points on a connection of half to all of their power
  (`depot_share` scales it: 1/3 makes depots bind whenever the fleet is in, the case
  where the network simplex slows down most, docs/auction.md);
- districts: public 11/22 kW points, about 8 vehicles per point, behind transformers of
  60-140 kW with a household evening peak (45 % left from 16:00 to 21:00);
- fast hubs: 8 x 150 kW on 600 kW;
- a battery that the day's drives can empty (initial charge 20-60 %), so the battery
  chain of a tour binds; bids of 1-4 steps that together ask for about the day's drives.

Stops start and end on the minute. Every plan passes `check_instance`.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import numpy as np
from auction_gen import DAY, TZ, assemble, evening_node

from auction.mtu import day_grid
from schemas.auction import AuctionInstance
from schemas.network import ChargingPoint, Node, Vehicle
from schemas.plan import BidStep, PlanBody, Stop

PRICE_LEVELS = ((350.0, 950.0), (120.0, 330.0), (70.0, 160.0), (20.0, 95.0))


def _prices(rng: np.random.Generator, count: int, per_hour: int) -> list[float]:
    hours = np.arange(count) / per_hour
    shape = 85 + 45 * np.exp(-((hours - 8) ** 2) / 4) + 80 * np.exp(-((hours - 18.5) ** 2) / 5)
    return [round(float(p), 2) for p in shape + rng.normal(0, 7, count)]


def _shared(prefix: str, node: str, count: int, kw: float, names: list[str]) -> list[ChargingPoint]:
    """`count` points of `kw` at `node`, their ids added to `names`."""
    names += [f"{prefix}{k}" for k in range(count)]
    return [
        ChargingPoint.model_construct(id=pid, node_id=node, max_power_kw=kw, active=True)
        for pid in names[-count:]
    ]


def _network(
    rng: np.random.Generator, n: int, evening: np.ndarray, depot_share: float
) -> tuple[list[Node], list[ChargingPoint], dict[str, list[str]]]:
    n_depots, n_districts, n_hubs = max(1, n // 150), max(1, n // 60), max(1, n // 1500)
    nodes: list[Node] = []
    points: list[ChargingPoint] = []
    kinds: dict[str, list[str]] = {"depot": [], "public": [], "hub": []}
    for d in range(n_depots):
        share = float(rng.choice([0.5, 0.75, 1.0])) * depot_share
        nodes.append(
            Node.model_construct(
                id=f"DEPOT{d}", capacity_kw=round(40 * 22.0 * share, 1), capacity_kw_by_mtu=None
            )
        )
        points += _shared(f"D{d}-", f"DEPOT{d}", 40, 22.0, kinds["depot"])
    sizes = [60.0, 100.0, 140.0]
    nodes += [evening_node(rng, f"DIST{r}", sizes, evening, 0.45) for r in range(n_districts)]
    for i in range(max(1, n // 8)):
        pid = f"P{i}"
        kinds["public"].append(pid)
        points.append(
            ChargingPoint.model_construct(
                id=pid,
                node_id=f"DIST{i % n_districts}",
                max_power_kw=float(rng.choice([11.0, 22.0])),
                active=True,
            )
        )
    for h in range(n_hubs):
        nodes.append(Node.model_construct(id=f"HUB{h}", capacity_kw=600.0, capacity_kw_by_mtu=None))
        points += _shared(f"F{h}-", f"HUB{h}", 8, 150.0, kinds["hub"])
    return nodes, points, kinds


def _bid(rng: np.random.Generator, need_kwh: float) -> list[BidStep]:
    n_steps = int(rng.integers(1, 5))
    shares = rng.dirichlet(np.ones(n_steps)) * need_kwh * rng.uniform(0.8, 1.3)
    prices = sorted(round(float(rng.uniform(*PRICE_LEVELS[k])), 2) for k in range(n_steps))
    return [
        BidStep.model_construct(energy_kwh=max(0.5, round(float(e), 1)), price_eur_mwh=p)
        for e, p in zip(shares, reversed(prices), strict=True)
    ]


def generate(
    n: int, mtu_minutes: int = 60, seed: int = 1, depot_share: float = 1.0
) -> AuctionInstance:
    rng = np.random.default_rng(seed)
    grid = day_grid(DAY, TZ, mtu_minutes)
    start = datetime.combine(DAY, time(0), tzinfo=ZoneInfo(TZ)).astimezone(UTC)
    evening = np.array([16 <= (k * mtu_minutes) / 60 < 21 for k in range(grid.count)])
    nodes, points, kinds = _network(rng, n, evening, depot_share)
    n_districts = max(1, n // 60)
    vehicles: list[Vehicle] = []
    plans: list[PlanBody] = []

    def at(minute: int) -> datetime:
        return start + timedelta(minutes=minute)

    for i in range(n):
        vid = f"EV{i}"
        battery = float(rng.choice([40.0, 58.0, 77.0, 90.0, 110.0]))
        vehicles.append(
            Vehicle.model_construct(
                id=vid, battery_kwh=battery, max_power_kw=float(rng.choice([11.0, 11.0, 22.0]))
            )
        )
        depot = bool(rng.random() < 0.6)
        if depot:
            base = kinds["depot"][int(rng.integers(len(kinds["depot"])))]
        else:  # home point of a driver who takes the vehicle home
            base = f"H{i}"
            points.append(
                ChargingPoint.model_construct(
                    id=base, node_id=f"DIST{i % n_districts}", max_power_kw=11.0, active=True
                )
            )
        n_stops = int(np.clip(rng.poisson(3.0) + 3, 3, 8))
        leave = int(rng.integers(300, 481))  # 05:00-08:00
        back = int(rng.integers(1020, 1261))  # 17:00-21:00
        # intermediate stops evenly spread over the working day, each 20-150 min
        slot = (back - leave) // (n_stops - 1)
        stops = [
            Stop.model_construct(
                charging_point_id=base,
                arrival=at(0),
                departure=at(leave),
                trip_kwh_after=round(float(rng.uniform(4, 22)), 1),
            )
        ]
        for k in range(1, n_stops - 1):
            arrive = leave + k * slot - slot // 2 + int(rng.integers(0, 15))
            stay = int(rng.integers(20, min(150, slot - 20) + 1))
            u = rng.random()
            pool = "hub" if u < 0.15 else ("depot" if u < 0.35 and depot else "public")
            pid = kinds[pool][int(rng.integers(len(kinds[pool])))]
            stops.append(
                Stop.model_construct(
                    charging_point_id=pid,
                    arrival=at(arrive),
                    departure=at(arrive + stay),
                    trip_kwh_after=round(float(rng.uniform(4, 22)), 1),
                )
            )
        stops.append(
            Stop.model_construct(
                charging_point_id=base,
                arrival=at(back),
                departure=at(24 * 60),
                trip_kwh_after=0.0,
            )
        )
        trips = sum(s.trip_kwh_after for s in stops)
        soc0 = round(battery * float(rng.uniform(0.2, 0.6)), 1)
        plans.append(
            PlanBody.model_construct(
                plan_id=uuid.UUID(int=(seed << 96) + (1 << 64) + i),
                vehicle_id=vid,
                initial_soc_kwh=soc0,
                stops=stops,
                bid=_bid(rng, min(max(trips - soc0, 5.0) + 10.0, 2 * battery)),
            )
        )
    prices = _prices(rng, grid.count, 60 // mtu_minutes)
    return assemble(mtu_minutes, prices, nodes, points, vehicles, plans)
