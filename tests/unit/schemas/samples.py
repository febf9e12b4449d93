"""One valid instance of every event, for round trips and JSON Schema checks."""

from __future__ import annotations

from uuid import UUID

from schemas import (
    AggregateBid,
    Allocation,
    AuctionCleared,
    AuctionConfig,
    BidCurvePoint,
    ChargingPoint,
    Event,
    FieldError,
    GateClosureMarker,
    MarketResult,
    Node,
    NodeResult,
    PlanCancelled,
    PlanSubmitted,
    RejectedEvent,
    ScheduleDecision,
    Vehicle,
    WhatIfRequested,
    gate_closure,
    mtu_starts,
)

from .factories import DAY, PLAN_ID, plan

STARTS = mtu_starts(DAY, "Europe/Warsaw", 60)
AREA_DAY = {"market_area": "PL", "delivery_day": DAY, "run_id": "PL/2026-11-25/1"}


def every_event() -> list[Event]:
    curve = [BidCurvePoint(price_eur_mwh=400.0, quantity_mwh=0.01)]
    return [
        PlanSubmitted.from_plan(plan(), source="ingest"),
        PlanCancelled(
            plan_id=UUID(PLAN_ID), revision=2, vehicle_id="V1", market_area="PL", delivery_day=DAY
        ),
        RejectedEvent.from_record(
            topic="charging-plans",
            partition=3,
            offset=42,
            key=b"V1",
            value=b'{"plan_id": 1}',
            reasons=[FieldError(loc="plan_id", reason="Input should be a valid UUID")],
        ),
        AuctionConfig(
            market_area="PL",
            nodes=[Node(id="N1", capacity_kw=400.0)],
            charging_points=[ChargingPoint(id="P1", node_id="N1", max_power_kw=22.0)],
            vehicles=[Vehicle(id="V1", battery_kwh=60.0, max_power_kw=11.0)],
            price_forecast={DAY: [95.0] * 24},
        ),
        AggregateBid(
            **AREA_DAY, mtu_starts=STARTS, demand_kwh=[10.0] * 24, bid_curves=[curve] * 24
        ),
        MarketResult(
            **AREA_DAY,
            status="cleared",
            mtu_starts=STARTS,
            prices_eur_mwh=[95.0] * 24,
            awarded_mwh=[0.01] * 24,
        ),
        AuctionCleared(
            **AREA_DAY,
            phase=2,
            mtu_starts=STARTS,
            prices_eur_mwh=[95.0] * 24,
            welfare_eur=3.05,
            total_requested_kwh=30.0,
            total_accepted_kwh=30.0,
            coverage=1.0,
            nodes=[NodeResult(node_id="N1", energy_kwh=[0.0] * 24, price_eur_mwh=[95.0] * 24)],
        ),
        ScheduleDecision(
            **AREA_DAY,
            plan_id=UUID(PLAN_ID),
            revision=1,
            vehicle_id="V1",
            status="accepted",
            requested_kwh=30.0,
            accepted_kwh=30.0,
            coverage=1.0,
            cost_eur=2.85,
            allocations=[Allocation(charging_point_id="P1", mtu_start=STARTS[8], energy_kwh=11.0)],
        ),
        GateClosureMarker(
            market_area="PL", delivery_day=DAY, gate_closure=gate_closure(DAY, "Europe/Warsaw")
        ),
        WhatIfRequested(
            request_id="what-if-1",
            market_area="PL",
            delivery_day=DAY,
            requested_by="operator@example.org",
            node_capacity_kw={"N1": 200.0},
        ),
    ]
