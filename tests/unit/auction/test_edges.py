"""Edge cases: no plans, nothing awarded, negative prices, merged bid-curve steps."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from auction.bids import aggregate_curves
from auction.clear import clear
from schemas.auction import AuctionInstance, AuctionParams

EXAMPLE = Path(__file__).resolve().parents[3] / "examples" / "instance.json"


def example(**changes: object) -> AuctionInstance:
    return AuctionInstance.model_validate(json.loads(EXAMPLE.read_text()) | changes)


def test_a_day_without_plans_clears_to_zero() -> None:
    r = clear(example(plans=[]))
    assert (r.welfare_eur, r.total_requested_kwh, r.coverage, r.plans) == (0.0, 0.0, 0.0, [])
    assert r.aggregate.bid_curves == [[] for _ in range(24)]


def test_nothing_awarded_rejects_every_plan_for_the_award() -> None:
    r = clear(example(awarded_mwh=[0.0] * 24), phase=2)
    assert r.total_accepted_kwh == 0.0
    assert all(p.status == "rejected" and p.reasons == ["awarded_quantity"] for p in r.plans)
    # the scarcity price is the value of the first kWh someone would take
    assert max(r.mtu_prices_eur_mwh) == 400.0


def test_negative_prices_pay_vehicles_to_charge() -> None:
    r = clear(example(prices_eur_mwh=[-50.0] * 24))
    assert all(p.cost_eur < 0 for p in r.plans)
    assert r.welfare_eur > 0


def test_more_price_levels_than_steps_are_merged_downwards() -> None:
    params = AuctionParams(max_steps=3, lot_mwh=0.001)
    x_t = np.zeros(7, dtype=np.int64)
    kwh = np.full(7, 1.0)
    ticks = np.array([70000, 60000, 50000, 40000, 30000, 20000, 10000], dtype=np.int64)
    curves = aggregate_curves(x_t, kwh, ticks, 1, params)
    assert curves.steps[0] == [(500.0, 0.003), (300.0, 0.005), (100.0, 0.007)]
    assert curves.merged == [4]
    prices = [p for p, _ in curves.steps[0]]
    assert prices == sorted(prices, reverse=True)


def test_a_shared_point_is_rationed_by_bid_and_reported() -> None:
    from uuid import UUID

    from schemas.network import ChargingPoint, Node, Vehicle
    from schemas.plan import BidStep, PlanBody, Stop
    from tests.unit.auction.factory import at

    def plan(i: int, price: float) -> PlanBody:
        return PlanBody(
            plan_id=UUID(int=i),
            vehicle_id=f"V{i}",
            stops=[Stop(charging_point_id="P", arrival=at(1), departure=at(2))],
            bid=[BidStep(energy_kwh=10.0, price_eur_mwh=price)],
        )

    inst = AuctionInstance(
        market_area="PL",
        delivery_day=example().delivery_day,
        prices_eur_mwh=[100.0] * 24,
        nodes=[Node(id="N", capacity_kw=500.0)],
        charging_points=[ChargingPoint(id="P", node_id="N", max_power_kw=11.0)],
        vehicles=[Vehicle(id=f"V{i}", battery_kwh=50.0, max_power_kw=11.0) for i in (1, 2)],
        plans=[plan(1, 400.0), plan(2, 200.0)],
    )
    r = clear(inst)
    assert [p.accepted_kwh for p in r.plans] == [10.0, 1.0]
    assert r.plans[1].reasons == ["point_capacity"]
    # points are rationed by bid, not priced: both pay the node price (no congestion)
    assert [p.cost_eur for p in r.plans] == [1.0, 0.1]
