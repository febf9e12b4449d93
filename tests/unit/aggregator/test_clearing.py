"""Preparing a day for the engine: re-validation, one plan per vehicle, deterministic runs."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime

import orjson

from schemas.config import AuctionConfig
from schemas.market import MarketResult
from schemas.network import ChargingPoint, Node, Vehicle
from services.aggregator import clearing as c

DAY = date(2026, 11, 26)
NOW = datetime(2026, 11, 25, 11, tzinfo=UTC)
CFG = AuctionConfig(
    market_area="PL",
    nodes=[Node(id="N1", capacity_kw=100)],
    charging_points=[ChargingPoint(id=f"P{i}", node_id="N1", max_power_kw=22) for i in range(4)],
    vehicles=[Vehicle(id=f"V{i}", battery_kwh=60, max_power_kw=11) for i in range(4)],
    price_forecast={DAY: [80.0] * 24},
)


def stored(i: int, vehicle: str | None = None, point: str | None = None, seq: int = 0) -> c.Stored:
    pid = str(uuid.UUID(int=i + 1))
    doc = {
        "event_type": "PlanSubmitted",
        "plan_id": pid,
        "revision": 0,
        "vehicle_id": vehicle or f"V{i}",
        "market_area": "PL",
        "delivery_day": DAY.isoformat(),
        "stops": [
            {
                "charging_point_id": point or f"P{i}",
                "arrival": "2026-11-26T08:00:00+01:00",
                "departure": "2026-11-26T12:00:00+01:00",
            }
        ],
        "bid": [{"energy_kwh": 10.0, "price_eur_mwh": 300.0}],
    }
    return c.Stored(pid, 0, vehicle or f"V{i}", seq or i, orjson.dumps(doc))


def test_prepare_rejects_invalid_plans_and_keeps_the_latest_plan_per_vehicle() -> None:
    plans = [stored(0), stored(1, point="P-GONE"), stored(2, vehicle="V0", seq=9)]
    prep = c.prepare("PL", DAY, CFG, plans)
    assert [str(p.plan_id) for p in prep.plans] == [plans[2].plan_id]
    reasons = {str(p.plan_id): [e.loc for e in errs] for p, errs in prep.rejected}
    assert reasons[plans[0].plan_id] == ["vehicle_id"]  # superseded by the later plan of V0
    assert "stops[0].charging_point_id" in reasons[plans[1].plan_id]


def test_run_id_and_events_are_deterministic() -> None:
    plans = [stored(i) for i in range(3)]
    a, b = c.prepare("PL", DAY, CFG, plans), c.prepare("PL", DAY, CFG, list(reversed(plans)))
    assert a.run_id == b.run_id
    other = c.prepare("PL", DAY, CFG, plans[:2])
    assert other.run_id != a.run_id
    r1 = c.solve(CFG, a, 1, CFG.forecast_for(DAY) or [])
    assert c.aggregate_bid(r1, a.run_id, 60, NOW) == c.aggregate_bid(
        c.solve(CFG, b, 1, CFG.forecast_for(DAY) or []), b.run_id, 60, NOW
    )
    d1 = c.decisions(a, c.solve(CFG, a, 2, [80.0] * 24, [1.0] * 24), a.run_id, NOW)
    assert len(d1) == 3 and all(d.status == "accepted" and d.accepted_kwh == 10 for d in d1)
    assert len({d.event_id for d in d1}) == 3


def test_market_inputs_fall_back_to_the_forecast() -> None:
    forecast = [80.0] * 24
    prices, awarded, fallback = c.market_inputs(None, forecast, 500.0)
    assert fallback and prices == forecast and awarded == [1.5] * 24
    rejected = MarketResult(market_area="PL", delivery_day=DAY, run_id="r", status="rejected")
    assert c.market_inputs(rejected, forecast, 0)[2] is True
    starts = CFG.mtu_starts_for(DAY)
    cleared = MarketResult(
        market_area="PL",
        delivery_day=DAY,
        run_id="r",
        status="cleared",
        mtu_starts=starts,
        prices_eur_mwh=[50.0] * 24,
        awarded_mwh=[0.2] * 24,
    )
    assert c.market_inputs(cleared, forecast, 0) == ([50.0] * 24, [0.2] * 24, False)


def test_auction_body_equals_a_validated_body_and_is_built_once() -> None:
    from schemas.plan import PlanBody

    prep = c.prepare("PL", DAY, CFG, [stored(0), stored(1)])
    validated = [
        PlanBody.model_validate(p.model_dump(include=set(PlanBody.model_fields)))
        for p in prep.plans
    ]
    assert [b.model_dump_json() for b in prep.bodies] == [v.model_dump_json() for v in validated]
    assert prep.bodies == validated
    assert prep.bodies is prep.bodies  # phase 1, phase 2 and what-ifs share them
    inst = c.instance(CFG, prep, [80.0] * 24, None)
    assert all(type(p) is PlanBody for p in inst.plans)
