"""Property tests: generated valid plans pass; MTU grids tile every local day."""

from __future__ import annotations

from datetime import UTC, date, timedelta, timezone
from itertools import pairwise

from hypothesis import given, settings
from hypothesis import strategies as st

from schemas import ChargingPlan, day_bounds, gate_closure, mtu_starts, validate_plan
from schemas.market_day import day_length

from .factories import PLAN_ID, context

POINTS = {"P1": 22.0, "P2": 3.7}  # active points in PL (see factories.context)
BATTERY, VEHICLE_KW = 60.0, 11.0
DAYS = [date(2026, 3, 29), date(2026, 10, 25), date(2026, 11, 25), date(2027, 6, 1)]


@st.composite
def valid_plans(draw: st.DrawFn) -> ChargingPlan:
    day = draw(st.sampled_from(DAYS))
    start, _ = day_bounds(day, "Europe/Warsaw")
    minutes = int(day_length(day, "Europe/Warsaw") / timedelta(minutes=1))
    n = draw(st.integers(1, 5))
    marks = sorted(draw(st.sets(st.integers(0, minutes), min_size=2 * n, max_size=2 * n)))
    offsets = st.sampled_from([None, -5 * 60, 0, 60, 120, 330])  # None = local time
    stops, deliverable = [], 0.0
    for i in range(n):
        point = draw(st.sampled_from(sorted(POINTS)))
        times = []
        for m in marks[2 * i : 2 * i + 2]:
            instant = start.astimezone(UTC) + timedelta(minutes=m)
            off = draw(offsets)
            zone = start.tzinfo if off is None else timezone(timedelta(minutes=off))
            times.append(instant.astimezone(zone).isoformat())
        hours = (marks[2 * i + 1] - marks[2 * i]) / 60
        deliverable += min(POINTS[point], VEHICLE_KW) * hours
        trip = draw(st.floats(0, 30, allow_nan=False))
        stops.append(
            {"charging_point_id": point, "arrival": times[0], "departure": times[1]}
            | {"trip_kwh_after": trip}
        )
    soc = draw(st.one_of(st.none(), st.floats(0, BATTERY - 1)))
    # Each stop lasts ≥ 1 minute, so the budget is > 0.06 kWh.
    budget = min(deliverable, BATTERY - (soc or 0.0))
    total = draw(st.floats(budget / 100, budget))
    steps = draw(st.integers(1, 4))
    prices = sorted(
        draw(st.lists(st.floats(-500, 4000), min_size=steps, max_size=steps)), reverse=True
    )
    bid = [{"energy_kwh": total / steps, "price_eur_mwh": p} for p in prices]
    return ChargingPlan.model_validate(
        {
            "plan_id": PLAN_ID,
            "vehicle_id": "V1",
            "market_area": "PL",
            "delivery_day": day.isoformat(),
            "initial_soc_kwh": soc,
            "stops": stops,
            "bid": bid,
        }
    )


@settings(max_examples=300, deadline=None)
@given(valid_plans(), st.integers(0, 36 * 3600 - 1))
def test_generated_valid_plans_have_no_errors(plan: ChargingPlan, seconds_before: int):
    closure = gate_closure(plan.delivery_day, "Europe/Warsaw")
    now = closure - timedelta(seconds=seconds_before + 1)
    assert validate_plan(plan, context(now=now)) == []


@settings(max_examples=200, deadline=None)
@given(
    st.dates(date(2025, 1, 1), date(2030, 12, 31)),
    st.sampled_from(["Europe/Warsaw", "Europe/London", "America/New_York", "Asia/Kolkata"]),
    st.sampled_from([15, 60]),
)
def test_mtu_starts_tile_the_local_day(day: date, tz: str, mtu: int):
    starts = [s.astimezone(UTC) for s in mtu_starts(day, tz, mtu)]
    first, end = day_bounds(day, tz)
    assert starts[0] == first.astimezone(UTC)
    assert all(b - a == timedelta(minutes=mtu) for a, b in pairwise(starts))
    assert starts[-1] + timedelta(minutes=mtu) == end.astimezone(UTC)
