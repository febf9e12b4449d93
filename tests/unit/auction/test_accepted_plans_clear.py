"""Property (issue 10): whatever plans ingest accepts — extreme and non-finite values
included — its fast and slow paths agree on, and the auction clears them without failing.

Plans are written as JSON text (NaN, Infinity and overflowing literals can only be written
so), parsed by both ingest parsers, checked by both validators, and every plan accepted
goes into an instance of extreme networks and market prices that is cleared in phase 1 and
phase 2: no exception, every number of the result finite, no plan paid above its bid.
"""

from __future__ import annotations

import math
import uuid
from datetime import timedelta
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from auction.clear import clear
from auction.mtu import day_grid
from schemas.auction import AuctionInstance, AuctionParams
from schemas.base import MAX_ENERGY_KWH, MAX_NODE_CAPACITY_KW, MAX_POWER_KW
from schemas.context import PointFacts, ValidationContext
from schemas.fastcheck import plan_is_valid
from schemas.fastplan import encode_plan, parse_one
from schemas.network import ChargingPoint, Node, Vehicle
from schemas.parsing import parse_plan
from schemas.plan import ChargingPlan, PlanBody
from schemas.validation import validate_plan
from tests.unit.auction.factory import DAY, TZ, at

VEHICLES = [
    Vehicle(id="V-TINY", battery_kwh=0.5, max_power_kw=0.1),
    Vehicle(id="V-CAR", battery_kwh=40.0, max_power_kw=11.0),
    Vehicle(id="V-MAX", battery_kwh=MAX_ENERGY_KWH, max_power_kw=MAX_POWER_KW),
]
NODES = [
    Node(id="N-ZERO", capacity_kw=0.0),
    Node(id="N-BIG", capacity_kw=MAX_NODE_CAPACITY_KW),
    Node(id="N-SMALL", capacity_kw=20.0),
]
POINTS = [
    ChargingPoint(id="P-ZERO", node_id="N-ZERO", max_power_kw=MAX_POWER_KW),
    ChargingPoint(id="P-BIG", node_id="N-BIG", max_power_kw=MAX_POWER_KW),
    ChargingPoint(id="P-SMALL", node_id="N-SMALL", max_power_kw=3.7),
]
CTX = ValidationContext(
    vehicles={v.id: v for v in VEHICLES},
    charging_points={p.id: PointFacts(p.node_id, "PL", p.max_power_kw) for p in POINTS},
    market_area="PL",
    timezone=TZ,
    today=DAY - timedelta(days=1),
)
HOURS = day_grid(DAY, TZ, 60).count

# JSON number literals: the declared bounds, just beyond them, and non-finite ones; drawn
# one time in five, so that most plans are near-valid and many are accepted.
EXTREME = st.one_of(
    st.sampled_from(["1e-300", "-0.0", "0", "1e4", "10000.000001", "99999.9", "1e5", "-1e5"]),
    st.sampled_from(["1e308", "1e400", "-1e400", "NaN", "Infinity", "-Infinity", "4000.0001"]),
    st.sampled_from(["0.5", "40", "40.000001", "-500", "4000", "-500.0001"]),
    st.floats(-2e5, 2e5, allow_nan=False).map(repr),
)


def number(ordinary: list[str]) -> st.SearchStrategy[str]:
    return st.integers(0, 4).flatmap(lambda k: EXTREME if k == 0 else st.sampled_from(ordinary))


@st.composite
def plan_text(draw: st.DrawFn, vehicle: str) -> str:
    n = draw(st.integers(1, 3))
    marks = draw(st.lists(st.integers(0, HOURS * 4), min_size=2 * n, max_size=2 * n, unique=True))
    hours = sorted(marks)
    stops = []
    for k in range(n):
        a, d = hours[2 * k] / 4, hours[2 * k + 1] / 4
        stops.append(
            f'{{"charging_point_id": "{draw(st.sampled_from([p.id for p in POINTS]))}", '
            f'"arrival": "{at(a).isoformat()}", "departure": "{at(d).isoformat()}", '
            f'"trip_kwh_after": {draw(number(["0", "0.1", "3", "12.5"]))}}}'
        )
    prices = ["4000", "900", "400", "150", "0", "-20.5", "-500"]
    steps = [
        f'{{"energy_kwh": {draw(number(["0.01", "0.3", "2", "10"]))}, '
        f'"price_eur_mwh": {draw(number(prices[i:]))}}}'
        for i in sorted(draw(st.lists(st.integers(0, 6), min_size=1, max_size=3)))
    ]
    soc = draw(st.one_of(st.just("null"), number(["0", "0.2", "5", "39"])))
    return (
        f'{{"plan_id": "{uuid.uuid4()}", "vehicle_id": "{vehicle}", "market_area": "PL", '
        f'"delivery_day": "{DAY.isoformat()}", "initial_soc_kwh": {soc}, '
        f'"stops": [{", ".join(stops)}], "bid": [{", ".join(steps)}]}}'
    )


def accepted(text: str) -> PlanBody | None:
    """The plan when ingest would accept it; asserts that both of its paths agree."""
    slow, errors = parse_plan(text)
    fast = parse_one(text.encode())
    if fast is not None:  # the fast parse may refuse more, never accept more
        assert slow is not None, errors
        assert ChargingPlan.model_validate_json(encode_plan(fast)) == slow
    if slow is None:
        return None
    valid = validate_plan(slow, CTX) == []
    assert plan_is_valid(slow, CTX, {}) == valid
    if fast is not None:
        assert plan_is_valid(fast, CTX, {}) == valid
    return (
        PlanBody.model_validate(slow.model_dump(include=set(PlanBody.model_fields)))
        if valid
        else None
    )


def finite(value: Any) -> bool:
    if isinstance(value, float):
        return math.isfinite(value)
    if isinstance(value, dict):
        return all(finite(v) for v in value.values())
    if isinstance(value, list):
        return all(finite(v) for v in value)
    return True


PRICE = st.sampled_from([-500.0, 0.0, 0.01, 95.0, 3999.99, 4000.0])
AWARD = st.sampled_from([0.0, 1e-5, 0.01, 5.0, 1e6])


@settings(max_examples=200, deadline=None, suppress_health_check=list(HealthCheck))
@given(
    st.tuples(*(plan_text(v.id) for v in VEHICLES)),
    st.lists(PRICE, min_size=HOURS, max_size=HOURS),
    st.lists(AWARD, min_size=HOURS, max_size=HOURS),
)
def test_every_plan_ingest_accepts_clears_without_failing(texts, prices, awards):
    plans = [p for p in map(accepted, texts) if p is not None]
    instance = AuctionInstance(
        market_area="PL",
        delivery_day=DAY,
        timezone=TZ,
        mtu_minutes=60,
        prices_eur_mwh=prices,
        nodes=NODES,
        charging_points=POINTS,
        vehicles=VEHICLES,
        plans=plans,
    )
    params = AuctionParams()
    first = clear(instance, 1, params)
    second = clear(instance.model_copy(update={"awarded_mwh": awards}), 2, params)
    for result in (first, second):
        dumped = result.model_dump()
        assert finite(dumped)
        for plan in result.plans:  # individual rationality, within rounding
            bid = next(p for p in plans if p.plan_id == plan.plan_id).bid
            assert plan.cost_eur <= worth(bid, plan.accepted_kwh) + 0.01 * len(bid) + 1e-6


def worth(bid: list[Any], accepted_kwh: float) -> float:
    """EUR the accepted energy is worth to the driver: the bid's steps in order."""
    total, left = 0.0, accepted_kwh
    for step in bid:
        take = min(step.energy_kwh, max(left, 0.0))
        total += take * step.price_eur_mwh / 1000
        left -= take
    return total


def test_the_extreme_generator_produces_accepted_plans():
    """Guard against a vacuous property: extreme but valid plans are accepted and cleared."""
    text = (
        f'{{"plan_id": "{uuid.uuid4()}", "vehicle_id": "V-MAX", "market_area": "PL", '
        f'"delivery_day": "{DAY}", "initial_soc_kwh": 1e4, "stops": [{{"charging_point_id": '
        f'"P-BIG", "arrival": "{at(0).isoformat()}", "departure": "{at(HOURS).isoformat()}", '
        f'"trip_kwh_after": 1e4}}], "bid": [{{"energy_kwh": 1e-300, "price_eur_mwh": 4000}}]}}'
    )
    plan = accepted(text)
    assert plan is not None
    extreme = plan.model_copy(update={"initial_soc_kwh": 0.0, "bid": [plan.bid[0].model_copy(
        update={"energy_kwh": MAX_ENERGY_KWH})]})  # fmt: skip
    instance = AuctionInstance(
        market_area="PL", delivery_day=DAY, timezone=TZ, mtu_minutes=60,
        prices_eur_mwh=[-500.0] * HOURS, nodes=NODES, charging_points=POINTS,
        vehicles=VEHICLES, plans=[extreme],
    )  # fmt: skip
    result = clear(instance, 1, AuctionParams())
    assert result.plans[0].accepted_kwh == MAX_ENERGY_KWH and finite(result.model_dump())
