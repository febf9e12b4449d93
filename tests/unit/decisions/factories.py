"""Decision, run and plan events built with the schemas models (no hand-written JSON)."""

from __future__ import annotations

import uuid
from datetime import date, datetime, timedelta

from schemas.market import Allocation, AuctionCleared, NodeResult, ScheduleDecision
from schemas.market_day import mtu_starts

DAY = date(2026, 11, 26)
TZ = "Europe/Warsaw"


def mtus(day: date = DAY) -> list[datetime]:
    return mtu_starts(day, TZ, 60)


def decision(
    vehicle_id: str = "V001",
    *,
    plan_id: uuid.UUID | None = None,
    revision: int = 1,
    phase: int = 2,
    day: date = DAY,
    energies: dict[tuple[str, int], float] | None = None,
    run_id: str = "run-1",
    occurred_at: datetime | None = None,
    area: str = "PL",
) -> ScheduleDecision:
    """An accepted decision; `energies` maps (point, MTU index) -> kWh."""
    energies = energies if energies is not None else {("P-HOME-01", 1): 7.0, ("P-HOME-01", 2): 3.5}
    starts = mtus(day)
    allocations = [
        Allocation(charging_point_id=p, mtu_start=starts[i], energy_kwh=e)
        for (p, i), e in energies.items()
    ]
    accepted = sum(energies.values())
    extra = {"occurred_at": occurred_at} if occurred_at else {}
    if not allocations:
        return ScheduleDecision(
            market_area=area, delivery_day=day, run_id=run_id, plan_id=plan_id or uuid.uuid4(),
            revision=revision, vehicle_id=vehicle_id, phase=phase, status="rejected",
            reasons=[{"loc": "bid[0].price_eur_mwh", "reason": "bid below the market price"}],
            requested_kwh=20.0, **extra,
        )  # fmt: skip
    return ScheduleDecision(
        market_area=area, delivery_day=day, run_id=run_id, plan_id=plan_id or uuid.uuid4(),
        revision=revision, vehicle_id=vehicle_id, phase=phase, status="accepted",
        requested_kwh=20.0, accepted_kwh=accepted, coverage=accepted / 20.0,
        cost_eur=round(accepted * 0.1, 4), allocations=allocations, **extra,
    )  # fmt: skip


def cleared(
    day: date = DAY, run_id: str = "run-1", phase: int = 2, area: str = "PL",
    nodes: tuple[str, ...] = ("N-HOME-1",), occurred_at: datetime | None = None,
) -> AuctionCleared:  # fmt: skip
    starts = mtus(day)
    n = len(starts)
    extra = {"occurred_at": occurred_at} if occurred_at else {}
    return AuctionCleared(
        market_area=area, delivery_day=day, run_id=run_id, phase=phase, mtu_starts=starts,
        prices_eur_mwh=[90.0 + i for i in range(n)], welfare_eur=12.5,
        total_requested_kwh=40.0, total_accepted_kwh=30.0, coverage=0.75, plans_total=2,
        plans_accepted=2,
        nodes=[
            NodeResult(node_id=node, energy_kwh=[float(i % 3) for i in range(n)],
                       price_eur_mwh=[90.0 + i for i in range(n)],
                       congestion_eur_mwh=[0.0] * n)
            for node in nodes
        ],
        **extra,
    )  # fmt: skip


def later(base: datetime, seconds: int) -> datetime:
    return base + timedelta(seconds=seconds)
