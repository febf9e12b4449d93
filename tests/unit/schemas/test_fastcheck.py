"""plan_is_valid agrees with schemas.validation.validate_plan (it only short-cuts it)."""

from __future__ import annotations

import dataclasses
from datetime import UTC, date, datetime, timedelta, timezone
from uuid import uuid4

from hypothesis import given, settings
from hypothesis import strategies as st

from schemas.context import PointFacts, ValidationContext
from schemas.fastcheck import plan_is_valid
from schemas.network import Vehicle
from schemas.plan import BidStep, ChargingPlan, Stop
from schemas.validation import validate_plan

DAY = date(2026, 3, 29)  # the spring DST day in Warsaw: a 23-hour local day
CTX = ValidationContext(
    vehicles={"V1": Vehicle(id="V1", battery_kwh=40.0, max_power_kw=11.0)},
    charging_points={
        "P-A": PointFacts("N1", "PL", 11.0),
        "P-B": PointFacts("N1", "PL", 3.7),
        "P-OFF": PointFacts("N1", "PL", 11.0, active=False),
        "P-DE": PointFacts("N2", "DE", 22.0),
    },
    timezone="Europe/Warsaw",
    price_min_eur_mwh=-500.0,
    price_max_eur_mwh=4000.0,
)
# Offsets the client may use; times on a 30-minute grid around the day's bounds (local
# midnight = 23:00 UTC; the day is 23 h long) so that every boundary is hit exactly.
OFFSETS = st.sampled_from([timezone(timedelta(hours=h)) for h in (0, 1, 2, -5)])
MIDNIGHT = datetime(2026, 3, 28, 23, 0, tzinfo=UTC)
POINTS = ["P-A"] * 12 + ["P-B"] * 6 + ["P-OFF", "P-DE", "P-X"]


@st.composite
def stop_list(draw: st.DrawFn) -> list[Stop]:
    """Mostly sorted, disjoint stops inside the day; sometimes shuffled or stretched."""
    n = draw(st.integers(min_value=1, max_value=4))
    grid = st.integers(min_value=0, max_value=46).map(lambda k: k * 30)  # 46 * 30 min = 23 h
    marks = sorted(draw(st.lists(grid, min_size=2 * n, max_size=2 * n, unique=True)))
    pairs = [[marks[2 * i], marks[2 * i + 1]] for i in range(n)]
    if draw(st.integers(0, 3)) == 0:  # break something about the times
        i = draw(st.integers(0, n - 1))
        pairs[i][draw(st.integers(0, 1))] += draw(st.sampled_from([-90, -30, 30, 60, 600]))
    if draw(st.integers(0, 7)) == 0:
        pairs.reverse()
    return [
        Stop(
            charging_point_id=draw(st.sampled_from(POINTS)),
            arrival=(MIDNIGHT + timedelta(minutes=a)).astimezone(draw(OFFSETS)),
            departure=(MIDNIGHT + timedelta(minutes=d)).astimezone(draw(OFFSETS)),
            trip_kwh_after=draw(st.sampled_from([0.0, 3.0, 12.5, 39.0, 40.0, 41.0])),
        )
        for a, d in pairs
    ]


@st.composite
def plans(draw: st.DrawFn) -> ChargingPlan:
    price = st.sampled_from([-500.0, 0.0, 150.0, 400.0, 4000.0] * 8 + [-600.0, 4001.0])
    prices = draw(st.lists(price, min_size=1, max_size=3))
    energies = st.sampled_from([0.5, 2.0, 5.0, 10.0] * 4 + [30.0, 80.0])
    bid = [
        BidStep(energy_kwh=draw(energies), price_eur_mwh=p)
        for p in sorted(prices, reverse=draw(st.integers(0, 7)) > 0)
    ]
    return ChargingPlan(
        plan_id=uuid4(),
        revision=1,
        vehicle_id=draw(st.sampled_from(["V1"] * 15 + ["V9"])),
        market_area=draw(st.sampled_from(["PL"] * 15 + ["DE"])),
        delivery_day=DAY,
        initial_soc_kwh=draw(st.sampled_from([None, 0.0, 20.0, 39.0, 40.0, 41.0, None, 0.0])),
        stops=draw(stop_list()),
        bid=bid,
    )


# Today's date in the area: None (no horizon check), or far enough, just enough or not
# enough days before DAY for its default 7-day planning horizon.
TODAY = st.sampled_from([None, None, DAY - timedelta(days=7), DAY - timedelta(days=8), DAY])


@settings(max_examples=1500, deadline=None)
@given(plans(), TODAY)
def test_fast_verdict_equals_the_full_validator(plan: ChargingPlan, today: date | None):
    ctx = dataclasses.replace(CTX, today=today)
    assert plan_is_valid(plan, ctx, {}) == (validate_plan(plan, ctx) == [])


def test_fast_verdict_accepts_a_plain_valid_plan_and_defers_when_now_is_set():
    tz = timezone(timedelta(hours=1))
    plan = ChargingPlan(
        plan_id=uuid4(),
        vehicle_id="V1",
        market_area="PL",
        delivery_day=date(2026, 11, 26),
        stops=[
            Stop(
                charging_point_id="P-A",
                arrival=datetime(2026, 11, 26, 0, tzinfo=tz),
                departure=datetime(2026, 11, 26, 7, tzinfo=tz),
            )
        ],
        bid=[BidStep(energy_kwh=10.0, price_eur_mwh=100.0)],
    )
    assert plan_is_valid(plan, CTX, {})
    late = dataclasses.replace(CTX, now=datetime(2026, 11, 26, tzinfo=tz))
    assert not plan_is_valid(plan, late, {})


def test_the_rules_fastcheck_mirrors_have_not_changed():
    # plan_is_valid repeats the rules of these two files; a new or changed rule there must be
    # mirrored in schemas/fastcheck.py. Review it, then update the hash.
    import hashlib
    from pathlib import Path

    root = Path(__file__).resolve().parents[3] / "schemas"
    text = (root / "validation.py").read_bytes() + (root / "rules.py").read_bytes()
    assert hashlib.sha256(text).hexdigest()[:16] == "dc12af5b3402c578", "schemas rules changed"
