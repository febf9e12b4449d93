"""Preparing a day for the engine: re-validation, one plan per vehicle, deterministic runs."""

from __future__ import annotations

import uuid
from dataclasses import replace
from datetime import UTC, date, datetime
from typing import Any

import orjson
import pytest

from auction.flow import FlowError
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


def forged(s: c.Stored, **changes: object) -> c.Stored:
    """As if written straight to the by-day topic with the intake's "validated" header."""
    return replace(s, validated_with=str(CFG.event_id), **changes)  # type: ignore[arg-type]


def breaking_plan(i: int) -> c.Stored:
    """A plan the engine's solver fails with (see engine_breaks_on)."""
    return forged(stored(i))


@pytest.fixture
def engine_breaks_on(monkeypatch: pytest.MonkeyPatch) -> None:
    """The engine fails on any instance holding plan 3, as a solver fails on numbers too
    large for its integer scaling. (Such a plan can no longer be written: the schema bounds
    every number, docs/schemas.md; the culprit search is the second line of defence.)"""
    real = c.clear
    bad = breaking_plan(3).plan_id

    def clear(inst: Any, phase: int, params: Any) -> Any:
        if any(str(p.plan_id) == bad for p in inst.plans):
            raise FlowError("min-cost flow failed: numbers too large")
        return real(inst, phase, params)

    monkeypatch.setattr(c, "clear", clear)


@pytest.mark.usefixtures("engine_breaks_on")
def test_a_plan_that_breaks_the_engine_is_rejected_and_the_rest_clear_as_without_it() -> None:
    honest = [forged(stored(i)) for i in range(3)]
    forecast = CFG.forecast_for(DAY) or []
    prep = c.prepare("PL", DAY, CFG, [*honest, breaking_plan(3)])
    with pytest.raises(Exception, match="numbers too large"):  # it really breaks the engine
        c.solve(CFG, prep, 1, forecast)

    result, cleared, solves = c.clear_day(CFG, prep, 1, forecast)
    without = c.prepare("PL", DAY, CFG, honest)
    assert result == c.solve(CFG, without, 1, forecast)  # the same run as without it
    assert [str(p.plan_id) for p in cleared.plans] == [s.plan_id for s in honest]
    (culprit, reasons), *rest = cleared.rejected
    assert not rest and str(culprit.plan_id) == breaking_plan(3).plan_id
    assert reasons[0].reason.startswith("clearing_failed: FlowError: min-cost flow failed")
    assert solves <= 1 + 1 + 2 + 1  # full, empty, log2(4) bisection steps, the rest
    assert cleared.run_id == prep.run_id  # the day's run: same ids on a replay

    # Phase 2 after a restart: the plan is stored as excluded and stays out, in one solve.
    marked = forged(breaking_plan(3), excluded=tuple(reasons))
    again = c.prepare("PL", DAY, CFG, [*honest, marked])
    res2, cleared2, solves2 = c.clear_day(CFG, again, 2, [80.0] * 24, [1.0] * 24)
    assert solves2 == 1
    assert [(str(p.plan_id), why) for p, why in cleared2.rejected] == [(marked.plan_id, reasons)]
    got = c.decisions(cleared2, res2, again.run_id, NOW)
    want = c.decisions(without, c.solve(CFG, without, 2, [80.0] * 24, [1.0] * 24), "r", NOW)
    assert {str(d.plan_id): (d.status, d.accepted_kwh, d.allocations) for d in got} == {
        str(d.plan_id): (d.status, d.accepted_kwh, d.allocations) for d in want
    } | {marked.plan_id: ("rejected", 0.0, [])}


def test_a_stored_plan_that_does_not_parse_is_rejected_by_its_identity() -> None:
    pid = str(uuid.UUID(int=77))
    junk = c.Stored(pid, 3, "V3", 9, b'{"plan_id": "%s", "bid": []}' % pid.encode())
    prep = c.prepare("PL", DAY, CFG, [stored(0), junk])
    assert [str(p.plan_id) for p in prep.plans] == [stored(0).plan_id]
    (decision,) = [d for d in c.decisions(prep, None, "r", NOW) if str(d.plan_id) == pid]
    assert (decision.vehicle_id, decision.revision, decision.status) == ("V3", 3, "rejected")
    assert decision.reasons and decision.requested_kwh == 0.0


def test_non_finite_numbers_are_rejected_even_when_marked_as_validated() -> None:
    raw = stored(1).raw.replace(b'"price_eur_mwh":300.0', b'"price_eur_mwh":Infinity')
    doc = orjson.loads(stored(2).raw)
    doc["stops"][0]["trip_kwh_after"] = 1.0
    raw2 = orjson.dumps(doc).replace(b'"trip_kwh_after":1.0', b'"trip_kwh_after":1e400')
    prep = c.prepare(
        "PL", DAY, CFG, [forged(stored(0)), forged(stored(1), raw=raw), forged(stored(2), raw=raw2)]
    )
    assert [str(p.plan_id) for p in prep.plans] == [stored(0).plan_id]
    # The schema refuses non-finite numbers at parsing (unreadable, by the stored identity);
    # non_finite would name them too if a plan object had them (second line of defence).
    locs = {str(p.plan_id): [e.loc for e in errs] for p, errs in prep.rejected}
    locs |= {s.plan_id: [e.loc for e in errs] for s, errs in prep.unreadable}
    assert locs == {
        stored(1).plan_id: ["bid[0].price_eur_mwh"],
        stored(2).plan_id: ["stops[0].trip_kwh_after"],
    }
