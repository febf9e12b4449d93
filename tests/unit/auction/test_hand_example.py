"""A 3-vehicle, 2-node instance whose optimum is computed by hand.

Day 2026-11-25 (Europe/Warsaw, 24 hourly MTUs). Market prices: 60 EUR/MWh at 02:00,
80 at 03:00, 90 at 04:00, 100 otherwise.

Network: node N1 (10 kW) with points P1, P2 (11 kW each); node N2 (100 kW) with P3 (22 kW).
Vehicles: V1, V2 (60 kWh, 11 kW); V3 (20 kWh battery, 11 kW).

Plans:
  A (V1) at P1 02:00-04:00, bid 10 kWh @ 400, 10 kWh @ 150
  B (V2) at P2 02:00-04:00, bid 20 kWh @ 120
  C (V3) at P3 02:30-05:00, initial SoC 15 kWh, bid 30 kWh @ 300

Phase 1, by hand:
- N1 lets 10 kWh through per MTU, so A and B share 20 kWh (02:00 and 03:00). A's steps
  (400, 150) beat B's 120: A gets 10 kWh at 02:00 and 10 at 03:00 (it may draw 11 per
  MTU, the node allows 10), B gets nothing.
- C's battery holds 20 - 15 = 5 kWh: C takes 5 kWh in the cheapest MTU it touches,
  02:00 (it is there 30 min: 5.5 kWh possible at 60 EUR/MWh). The battery binds.
- Welfare = A: 10*0.400 + 10*0.150 - 10*0.060 - 10*0.080 = 4.1 EUR
            C: 5*0.300 - 5*0.060 = 1.2 EUR                   -> 5.3 EUR.
- Congestion at N1: one more kWh at N1 would go to B, worth 120 EUR/MWh, so the node
  price is 120 in both MTUs: congestion 60 at 02:00 and 40 at 03:00. N2 is not
  congested: its price is the market price.
- A pays 20 kWh * 120 = 2.40 EUR (<= its bid value 5.5 EUR; its steps 400, 150 >= 120).
  C pays 5 * 60 = 0.30 EUR. B's rejected bid (120) is not above N1's price (120).

Phase 2 with awarded 12 kWh at 02:00 (other MTUs unconstrained): 15 kWh wanted there.
A's 02:00 kWh are worth 150 - 60 = 90 each to it, while C loses only 80 - 60 = 20 per kWh
it moves to 03:00. So A keeps 10 + 10, C takes 2 kWh at 02:00 and 3 at 03:00.
Welfare = 4.1 + 5*0.3 - 2*0.06 - 3*0.08 = 5.24 EUR. The scarcity price of 02:00 is 20
(one more awarded kWh saves C 20): MTU price 80. N1 stays at 120 (congestion 40 on top
of 80 at 02:00), N2 at 02:00 costs 80. C pays 5 kWh * 80 = 0.40 EUR.
"""

from __future__ import annotations

import uuid
from datetime import date

import pytest

from auction.clear import clear
from schemas.auction import AuctionInstance, AuctionParams, AuctionResult
from schemas.network import ChargingPoint, Node, Vehicle
from schemas.plan import BidStep, PlanBody, Stop
from tests.unit.auction.factory import at

A, B, C = (uuid.UUID(int=i) for i in (1, 2, 3))


def hand_instance(awarded: list[float] | None = None) -> AuctionInstance:
    prices = [100.0] * 24
    prices[2], prices[3], prices[4] = 60.0, 80.0, 90.0
    return AuctionInstance(
        market_area="PL",
        delivery_day=date(2026, 11, 25),
        prices_eur_mwh=prices,
        awarded_mwh=awarded,
        nodes=[Node(id="N1", capacity_kw=10.0), Node(id="N2", capacity_kw=100.0)],
        charging_points=[
            ChargingPoint(id="P1", node_id="N1", max_power_kw=11.0),
            ChargingPoint(id="P2", node_id="N1", max_power_kw=11.0),
            ChargingPoint(id="P3", node_id="N2", max_power_kw=22.0),
        ],
        vehicles=[
            Vehicle(id="V1", battery_kwh=60.0, max_power_kw=11.0),
            Vehicle(id="V2", battery_kwh=60.0, max_power_kw=11.0),
            Vehicle(id="V3", battery_kwh=20.0, max_power_kw=11.0),
        ],
        plans=[
            PlanBody(
                plan_id=A,
                vehicle_id="V1",
                stops=[Stop(charging_point_id="P1", arrival=at(2), departure=at(4))],
                bid=[
                    BidStep(energy_kwh=10.0, price_eur_mwh=400.0),
                    BidStep(energy_kwh=10.0, price_eur_mwh=150.0),
                ],
            ),
            PlanBody(
                plan_id=B,
                vehicle_id="V2",
                stops=[Stop(charging_point_id="P2", arrival=at(2), departure=at(4))],
                bid=[BidStep(energy_kwh=20.0, price_eur_mwh=120.0)],
            ),
            PlanBody(
                plan_id=C,
                vehicle_id="V3",
                initial_soc_kwh=15.0,
                stops=[Stop(charging_point_id="P3", arrival=at(2.5), departure=at(5))],
                bid=[BidStep(energy_kwh=30.0, price_eur_mwh=300.0)],
            ),
        ],
    )


def allocations(result: AuctionResult, plan: uuid.UUID) -> dict[int, float]:
    p = next(p for p in result.plans if p.plan_id == plan)
    return {a.mtu_start.hour: a.energy_kwh for a in p.allocations}


def plan(result: AuctionResult, plan_id: uuid.UUID):  # type: ignore[no-untyped-def]
    return next(p for p in result.plans if p.plan_id == plan_id)


def test_phase1_matches_the_hand_computed_optimum() -> None:
    r = clear(hand_instance(), 1, AuctionParams(lot_mwh=0.001))
    assert r.welfare_eur == pytest.approx(5.3, abs=1e-6)
    assert allocations(r, A) == {2: 10.0, 3: 10.0}
    assert allocations(r, B) == {}
    assert allocations(r, C) == {2: 5.0}
    n1, n2 = r.nodes
    assert n1.price_eur_mwh[2:4] == [120.0, 120.0]
    assert n1.congestion_eur_mwh[2:4] == [60.0, 40.0]
    assert n2.price_eur_mwh[2:5] == [60.0, 80.0, 90.0]
    assert sum(n2.congestion_eur_mwh) == 0.0
    assert plan(r, A).cost_eur == pytest.approx(2.4)
    assert plan(r, C).cost_eur == pytest.approx(0.3)
    assert plan(r, B).status == "rejected"
    assert plan(r, C).reasons == ["battery"]
    assert plan(r, B).reasons == ["node_capacity"]


def test_phase1_bid_curves_use_each_plans_marginal_bid() -> None:
    r = clear(hand_instance(), 1, AuctionParams(lot_mwh=0.001))
    curves = [[(s.price_eur_mwh, s.quantity_mwh) for s in c] for c in r.aggregate.bid_curves]
    assert curves[2] == [(300.0, 0.005), (150.0, 0.015)]
    assert curves[3] == [(150.0, 0.01)]
    assert r.aggregate.demand_kwh[2:4] == [15.0, 10.0]


def test_phase2_binding_award_moves_energy_and_prices_scarcity() -> None:
    awarded = [1.0] * 24
    awarded[2] = 0.012
    r = clear(hand_instance(awarded), 2)
    assert r.welfare_eur == pytest.approx(5.24, abs=1e-6)
    assert allocations(r, A) == {2: 10.0, 3: 10.0}
    assert allocations(r, C) == {2: 2.0, 3: 3.0}
    assert r.aggregate.demand_kwh[2] == pytest.approx(12.0)
    assert r.mtu_prices_eur_mwh[2] == 80.0
    n1, n2 = r.nodes
    assert n1.price_eur_mwh[2] == 120.0 and n1.congestion_eur_mwh[2] == 40.0
    assert n2.price_eur_mwh[2] == 80.0
    assert plan(r, C).cost_eur == pytest.approx(0.4)
