"""Auction and market events (DESIGN §4, shapes of the auction output in §6).

Keys: ``aggregate-bids``, ``market-results``, ``auction-results`` use
``"{market_area}/{delivery_day}"`` (:func:`area_day_key`); ``schedule-decisions`` uses
vehicle_id. Consumers dedupe on ``(market_area, delivery_day, run_id)``
and, for decisions, on ``(plan_id, revision)``.
Per-MTU lists are aligned with ``mtu_starts`` (same length, same order).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Literal
from uuid import UUID

from pydantic import Field, model_validator

from schemas.base import (
    AreaCode,
    DeliveryDay,
    Event,
    FieldError,
    Id64,
    Model,
    Price,
    Quantity,
    Revision,
    RunId,
    Timestamp,
)


def area_day_key(market_area: str, delivery_day: date) -> str:
    """Kafka key of the per-(area, day) topics, e.g. ``"PL/2026-11-25"``."""
    return f"{market_area}/{delivery_day.isoformat()}"


class BidCurvePoint(Model):
    """One point of a per-MTU demand curve: this quantity is bought at prices ≤ price."""

    price_eur_mwh: Price
    quantity_mwh: Quantity


class Aggregate(Model):
    """The fleet's demand per MTU and its step curves (the ``aggregate`` of §6)."""

    demand_kwh: list[float] = Field(default_factory=list)
    bid_curves: list[list[BidCurvePoint]] = Field(default_factory=list)


class Allocation(Model):
    """Energy a plan may take at one point in one MTU."""

    charging_point_id: Id64
    mtu_start: Timestamp
    energy_kwh: float = Field(ge=0)


class NodeResult(Model):
    """A node's load and price per MTU (market price + congestion price)."""

    node_id: Id64
    energy_kwh: list[float]
    price_eur_mwh: list[float]
    congestion_eur_mwh: list[float] | None = Field(
        default=None, description="Congestion part of price_eur_mwh (shadow price of capacity)"
    )


class _AreaDay(Event):
    market_area: AreaCode
    delivery_day: DeliveryDay
    run_id: RunId

    @property
    def key(self) -> str:
        return area_day_key(self.market_area, self.delivery_day)


def _check_aligned(n: int, **lists: Sequence[object] | None) -> None:
    for name, values in lists.items():
        if values is not None and len(values) != n:
            raise ValueError(f"{name} has {len(values)} entries, mtu_starts has {n}")


class AggregateBid(_AreaDay):
    """Phase-1 bid to the market: per MTU a step curve quantity(price), prices descending."""

    event_type: Literal["AggregateBid"] = "AggregateBid"
    mtu_minutes: int = Field(default=60, description="15 or 60")
    mtu_starts: list[Timestamp] = Field(min_length=1)
    demand_kwh: list[float] = Field(default_factory=list, description="Requested, per MTU")
    bid_curves: list[list[BidCurvePoint]]

    @model_validator(mode="after")
    def _aligned(self) -> AggregateBid:
        _check_aligned(
            len(self.mtu_starts),
            bid_curves=list(self.bid_curves),
            demand_kwh=list(self.demand_kwh) or None,
        )
        return self


class MarketResult(_AreaDay):
    """The exchange's answer to an AggregateBid (same run_id)."""

    event_type: Literal["MarketResult"] = "MarketResult"
    status: Literal["cleared", "rejected", "cancelled"] = Field(
        description="cleared: prices and awards valid; rejected/cancelled: no award (fallback)"
    )
    mtu_starts: list[Timestamp] = Field(default_factory=list)
    prices_eur_mwh: list[Price] = Field(default_factory=list, description="Clearing price")
    awarded_mwh: list[Quantity] = Field(default_factory=list, description="Awarded quantity")
    reason: str | None = Field(default=None, max_length=2000)

    @model_validator(mode="after")
    def _aligned(self) -> MarketResult:
        if self.status == "cleared" and not self.mtu_starts:
            raise ValueError("a cleared result needs mtu_starts, prices and awards per MTU")
        _check_aligned(
            len(self.mtu_starts),
            prices_eur_mwh=list(self.prices_eur_mwh),
            awarded_mwh=list(self.awarded_mwh),
        )
        return self


class AuctionCleared(_AreaDay):
    """Summary of one clearing run (phase 1 at gate closure, phase 2 on market results)."""

    event_type: Literal["AuctionCleared"] = "AuctionCleared"
    phase: Literal[1, 2]
    fallback: bool = Field(default=False, description="Phase 2 ran without a market result")
    what_if: bool = Field(default=False, description="Operator what-if run, nothing sent out")
    mtu_minutes: int = 60
    mtu_starts: list[Timestamp] = Field(min_length=1)
    prices_eur_mwh: list[float] = Field(description="Market price per MTU (forecast in phase 1)")
    welfare_eur: float
    total_requested_kwh: float = Field(ge=0)
    total_accepted_kwh: float = Field(ge=0)
    coverage: float = Field(ge=0, description="accepted / requested in [0, 1]; 0 when none")
    plans_total: int = Field(default=0, ge=0)
    plans_accepted: int = Field(default=0, ge=0)
    aggregate: Aggregate | None = None
    nodes: list[NodeResult] = Field(default_factory=list)

    @model_validator(mode="after")
    def _aligned(self) -> AuctionCleared:
        n = len(self.mtu_starts)
        _check_aligned(n, prices_eur_mwh=list(self.prices_eur_mwh))
        for i, node in enumerate(self.nodes):
            _check_aligned(
                n,
                **{
                    f"nodes[{i}].energy_kwh": list(node.energy_kwh),
                    f"nodes[{i}].price_eur_mwh": list(node.price_eur_mwh),
                    f"nodes[{i}].congestion_eur_mwh": node.congestion_eur_mwh,
                },
            )
        return self


class ScheduleDecision(_AreaDay):
    """The outcome for one plan revision. Key: vehicle_id."""

    event_type: Literal["ScheduleDecision"] = "ScheduleDecision"
    plan_id: UUID
    revision: Revision
    vehicle_id: Id64
    phase: Literal[1, 2] = 2
    status: Literal["accepted", "rejected"]
    reasons: list[FieldError] = Field(default_factory=list)
    requested_kwh: float = Field(ge=0)
    accepted_kwh: float = Field(default=0.0, ge=0)
    coverage: float = Field(default=0.0, ge=0, description="accepted / requested")
    cost_eur: float = 0.0
    allocations: list[Allocation] = Field(default_factory=list)

    @model_validator(mode="after")
    def _consistent(self) -> ScheduleDecision:
        if self.status == "rejected" and not self.reasons:
            raise ValueError("a rejected decision needs at least one reason")
        return self
