"""A fast, exact "this plan is valid" verdict for the common case.

``schemas.validation.validate_plan`` builds every error message it could need and converts
every timestamp to UTC several times (~20 µs per plan, a quarter of the batch CPU).
Almost every plan is valid, so the ingest gateway and the aggregator's intake (both check
every plan) first ask :func:`plan_is_valid`: the same rules, the same arithmetic in the
same order (so the same floating-point results), but only a yes/no. ``True`` means
validate_plan would return ``[]``; ``False`` means "run validate_plan", which then lists
every error. tests/unit/schemas/test_fastcheck.py checks that both agree on generated
plans, including every boundary.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta, tzinfo

from schemas.base import FieldError
from schemas.context import ValidationContext
from schemas.market_day import day_bounds, zone
from schemas.plan import ChargingPlan
from schemas.planlike import PlanLike
from schemas.rules import EPS_KWH
from schemas.validation import validate_plan

HOUR = timedelta(hours=1)
Bounds = dict[tuple[date, str, tzinfo | None], tuple[datetime, datetime]]


def _bounds(day: date, tz: str, offset: tzinfo | None, cache: Bounds) -> tuple[datetime, datetime]:
    """The day's bounds as instants, written with the plan's own tzinfo: comparing and
    subtracting aware datetimes with the *same* tzinfo object skips two utcoffset() calls
    (~0.2 µs per operation), and msgspec gives every timestamp with one offset the same
    tzinfo object. Same instants, so the same results whatever the tzinfo."""
    key = (day, tz, offset)
    hit = cache.get(key)
    if hit is None:
        if len(cache) > 1000:  # delivery days come from clients: keep the cache bounded
            cache.clear()
        start, end = day_bounds(day, zone(tz))
        hit = cache[key] = (start.astimezone(offset), end.astimezone(offset))
    return hit


def plan_is_valid(plan: PlanLike, ctx: ValidationContext, cache: Bounds) -> bool:
    """True only when ``validate_plan(plan, ctx) == []``; False: ask validate_plan."""
    if ctx.now is not None or (ctx.market_area is not None and plan.market_area != ctx.market_area):
        return False
    last = ctx.last_day
    if last is not None and plan.delivery_day > last:
        return False
    vehicle = ctx.vehicles.get(plan.vehicle_id)
    if vehicle is None:
        return False
    battery = vehicle.battery_kwh
    initial = plan.initial_soc_kwh
    if initial is not None and initial > vehicle.battery_kwh:
        return False
    start, end = _bounds(plan.delivery_day, ctx.timezone, plan.stops[0].arrival.tzinfo, cache)
    points = ctx.charging_points
    area = plan.market_area
    deliverable: list[float] = []
    latest_departure = start
    for stop in plan.stops:
        point = points.get(stop.charging_point_id)
        if point is None or not point.active or point.market_area != area:
            return False
        if stop.trip_kwh_after > battery:
            return False
        a, d = stop.arrival, stop.departure
        # Inside the day, arrival before departure, and (all stops valid) sorted and
        # disjoint: with sorted arrivals, stop i overlaps an earlier stop exactly when it
        # arrives before the latest earlier departure.
        if not (start <= a < d <= end) or a < latest_departure:
            return False
        latest_departure = max(latest_departure, d)
        # rules._hours clips to the day; inside it, that is d - a (aware: UTC instants).
        deliverable.append(min(point.max_power_kw, vehicle.max_power_kw) * ((d - a) / HOUR))
    low, high = ctx.price_min_eur_mwh, ctx.price_max_eur_mwh
    previous: float | None = None
    for step in plan.bid:
        price = step.price_eur_mwh
        if not low <= price <= high or (previous is not None and price > previous):
            return False
        previous = price
    energy = sum(step.energy_kwh for step in plan.bid)
    total = sum(deliverable)
    if energy > total + EPS_KWH:
        return False
    soc, taken = initial or 0.0, 0.0
    for stop, can in zip(plan.stops, deliverable, strict=True):
        charge = max(0.0, min(can, vehicle.battery_kwh - soc))
        soc += charge - stop.trip_kwh_after
        taken += charge
    return not (energy > taken + EPS_KWH and taken < total - EPS_KWH)


def plan_errors(plan: ChargingPlan, ctx: ValidationContext, cache: Bounds) -> list[FieldError]:
    """``validate_plan(plan, ctx)``, asking the fast verdict first (~9 against ~24 µs for a
    valid plan). The ingest gateway calls the two itself: its fast-parsed plans become a
    ChargingPlan only when validate_plan has to name the errors."""
    return [] if plan_is_valid(plan, ctx, cache) else validate_plan(plan, ctx)
