"""Auction instance, parameters and result (DESIGN §6).

The instance is what `chargeflow auction clear` reads; the result is what it prints and
what the aggregator publishes. Fields beyond §6 (marked "added") are documented in
docs/auction.md: they report per-plan status and reasons, the MTU prices actually applied
(phase 2 scarcity), per-node congestion prices and how much rounding the integer solver
and the bid lot introduced.
"""

from __future__ import annotations

from datetime import date
from typing import Literal
from uuid import UUID

from pydantic import AwareDatetime, Field

from schemas.base import AreaCode, DeliveryDay, Model, Price, Quantity
from schemas.market import Aggregate, Allocation, BidCurvePoint, NodeResult  # noqa: F401 (re-exported)
from schemas.network import ChargingPoint, Node, Vehicle
from schemas.plan import PlanBody


class AuctionParams(Model):
    """Market and solver parameters; the defaults are the harmonised day-ahead limits."""

    price_min_eur_mwh: Price = -500.0
    price_max_eur_mwh: Price = 4000.0
    # Bid prices and market prices are rounded to this tick before solving (integer costs).
    # The bounds keep every scaled number far inside int64 (docs/auction.md).
    price_tick_eur_mwh: float = Field(default=0.01, ge=1e-4, le=100.0)
    # Bid-curve volumes are rounded to this lot (the design's example curve uses 0.01 MWh).
    lot_mwh: float = Field(default=0.01, ge=1e-6, le=1000.0)
    max_steps: int = Field(default=200, ge=1, le=10_000)
    # Flow unit of the integer min-cost-flow: capacities are floored to this many kWh.
    energy_unit_kwh: float = Field(default=1e-5, ge=1e-6, le=1.0)
    # Min-cost-flow solver: our network simplex (numba) or OR-Tools' cost scaling; both
    # exact, the same welfare and prices (docs/auction.md, "How it is solved").
    solver: Literal["simplex", "ortools"] = "simplex"


class AuctionInstance(Model):
    """One market area and delivery day: network, fleet, plans and market prices."""

    market_area: AreaCode
    delivery_day: DeliveryDay
    timezone: str = Field(default="Europe/Warsaw", max_length=64)
    mtu_minutes: int = 60
    # Phase 1: the price forecast; phase 2: the cleared prices. One per MTU of the local day.
    prices_eur_mwh: list[Price] = Field(max_length=100)
    # Phase 2: awarded quantity per MTU (a cap on the total energy); ignored in phase 1.
    awarded_mwh: list[Quantity] | None = Field(default=None, max_length=100)
    nodes: list[Node]
    charging_points: list[ChargingPoint]
    vehicles: list[Vehicle]
    plans: list[PlanBody]


PlanStatus = Literal["accepted", "partial", "rejected"]


class PlanResult(Model):
    plan_id: UUID
    vehicle_id: str  # added
    status: PlanStatus  # added: accepted = full bid energy, rejected = nothing
    requested_kwh: float  # added: the sum of the bid steps
    accepted_kwh: float
    coverage: float
    cost_eur: float
    # added: the plan's marginal price (what one more kWh would cost it), EUR/MWh
    marginal_price_eur_mwh: float | None
    # added: why energy is missing, e.g. "price", "node_capacity", "battery"
    reasons: list[str]
    allocations: list[Allocation]


class Rounding(Model):
    """added: what the integer solver and the bid lot rounded (docs/auction.md)."""

    energy_unit_kwh: float
    price_tick_eur_mwh: float
    lot_mwh: float
    # A-posteriori bound on |welfare - exact optimum| from flooring capacities to the
    # energy unit and rounding prices to the tick.
    welfare_error_bound_eur: float
    # Per MTU: rounded total volume of the bid curve minus the unrounded demand.
    bid_volume_rounding_mwh: list[float]
    # Per MTU: steps merged to stay within max_steps (0 when none).
    bid_steps_merged: list[int]


class AuctionResult(Model):
    market_area: str
    delivery_day: date
    phase: Literal[1, 2]
    welfare_eur: float
    total_requested_kwh: float
    total_accepted_kwh: float
    coverage: float
    mtu_starts: list[AwareDatetime]
    mtu_prices_eur_mwh: list[float]  # added: market price plus phase-2 scarcity price
    aggregate: Aggregate
    nodes: list[NodeResult]
    plans: list[PlanResult]
    rounding: Rounding
