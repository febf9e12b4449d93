"""Business rules of a charging plan (DESIGN §5): every error, each with its field path.

``parse_plan`` (schema-level: types, required fields, naive timestamps) then
``validate_plan`` (registry- and market-level rules). ``check_plan`` does both.
Pure: the registry facts and ``now`` come in through :class:`ValidationContext`.
"""

from __future__ import annotations

from datetime import UTC, date, datetime

from schemas.base import FieldError
from schemas.context import PointFacts, ValidationContext
from schemas.market_day import day_bounds, zone
from schemas.network import Vehicle
from schemas.parsing import Raw, loc_path, parse_plan, parse_plan_event
from schemas.plan import ChargingPlan
from schemas.rules import energy_errors, stop_errors

__all__ = [
    "FieldError",
    "PointFacts",
    "ValidationContext",
    "check_plan",
    "gate_closed",
    "gate_closure_errors",
    "horizon_errors",
    "loc_path",
    "parse_plan",
    "parse_plan_event",
    "validate_plan",
]


def validate_plan(plan: ChargingPlan, ctx: ValidationContext) -> list[FieldError]:
    """Every rule of DESIGN §5 that a parsed plan breaks; [] when it is valid."""
    errors: list[FieldError] = []
    tz = zone(ctx.timezone)
    if ctx.market_area is not None and plan.market_area != ctx.market_area:
        errors.append(
            FieldError(
                loc="market_area",
                reason=f"market area {plan.market_area!r} is not served here "
                f"(expected {ctx.market_area!r})",
            )
        )
    horizon = horizon_errors(plan.delivery_day, ctx)
    if horizon:  # nothing else is checked on a day this far (nor computed: date overflow)
        return horizon
    vehicle = ctx.vehicles.get(plan.vehicle_id)
    if vehicle is None:
        errors.append(FieldError(loc="vehicle_id", reason=f"unknown vehicle {plan.vehicle_id!r}"))
    elif plan.initial_soc_kwh is not None and plan.initial_soc_kwh > vehicle.battery_kwh:
        errors.append(
            FieldError(
                loc="initial_soc_kwh",
                reason=f"initial state of charge {_num(plan.initial_soc_kwh)} kWh exceeds "
                f"the battery capacity of {_num(vehicle.battery_kwh)} kWh",
            )
        )
    for i, stop in enumerate(plan.stops):
        if vehicle is not None and stop.trip_kwh_after > vehicle.battery_kwh:
            errors.append(
                FieldError(
                    loc=f"stops[{i}].trip_kwh_after",
                    reason=f"trip of {_num(stop.trip_kwh_after)} kWh exceeds the battery "
                    f"capacity of {_num(vehicle.battery_kwh)} kWh",
                )
            )
        point = ctx.charging_points.get(stop.charging_point_id)
        loc = f"stops[{i}].charging_point_id"
        if point is None:
            errors.append(
                FieldError(loc=loc, reason=f"unknown charging point {stop.charging_point_id!r}")
            )
        elif not point.active:
            errors.append(
                FieldError(loc=loc, reason=f"charging point {stop.charging_point_id!r} is inactive")
            )
        elif point.market_area != plan.market_area:
            errors.append(
                FieldError(
                    loc=loc,
                    reason=f"charging point {stop.charging_point_id!r} is in market area "
                    f"{point.market_area!r}, the plan is for {plan.market_area!r}",
                )
            )
    start, end = day_bounds(plan.delivery_day, tz)
    errors += stop_errors(plan, start, end, tz)
    for i, step in enumerate(plan.bid):
        if not ctx.price_min_eur_mwh <= step.price_eur_mwh <= ctx.price_max_eur_mwh:
            errors.append(
                FieldError(
                    loc=f"bid[{i}].price_eur_mwh",
                    reason=f"price {_num(step.price_eur_mwh)} EUR/MWh is outside the limits "
                    f"{_num(ctx.price_min_eur_mwh)} … {_num(ctx.price_max_eur_mwh)} EUR/MWh",
                )
            )
        if i and step.price_eur_mwh > plan.bid[i - 1].price_eur_mwh:
            errors.append(
                FieldError(
                    loc=f"bid[{i}].price_eur_mwh",
                    reason=f"bid prices must not increase: {_num(step.price_eur_mwh)} EUR/MWh "
                    f"after {_num(plan.bid[i - 1].price_eur_mwh)} EUR/MWh in bid[{i - 1}]",
                )
            )
    powers = [_usable_kw(plan, ctx, s.charging_point_id, vehicle) for s in plan.stops]
    errors += energy_errors(plan, powers, vehicle, start, end)
    errors += gate_closure_errors(plan.delivery_day, ctx)
    return errors


def horizon_errors(delivery_day: date, ctx: ValidationContext) -> list[FieldError]:
    """[] unless ``ctx.today`` is given and the day lies beyond the planning horizon."""
    last = ctx.last_day
    if last is None or delivery_day <= last:
        return []
    reason = (
        f"delivery day {delivery_day.isoformat()} is beyond the planning horizon: plans are "
        f"taken up to {last.isoformat()} ({ctx.plan_horizon_days} days ahead)"
    )
    return [FieldError(loc="delivery_day", reason=reason)]


def gate_closure_errors(delivery_day: date, ctx: ValidationContext) -> list[FieldError]:
    """[] while plans (and cancellations) for ``delivery_day`` are open at ``ctx.now``."""
    if ctx.now is None:
        return []
    closure = ctx.gate_closure_for(delivery_day)
    if ctx.now.astimezone(UTC) < closure.astimezone(UTC):
        return []
    return [gate_closed(delivery_day, closure)]


def gate_closed(delivery_day: date, closure: datetime | str) -> FieldError:
    """The one gate-closure message, wherever a plan or cancellation comes too late (ingest's
    409, this validator, the aggregator's late plans): ``closure`` as an instant or a text."""
    when = closure.isoformat() if isinstance(closure, datetime) else closure
    reason = f"gate closure for {delivery_day.isoformat()} passed at {when}"
    return FieldError(loc="delivery_day", reason=reason)


def check_plan(raw: Raw, ctx: ValidationContext) -> tuple[ChargingPlan | None, list[FieldError]]:
    """Parse and validate: (plan, []) when valid, else (plan or None, every error)."""
    plan, errors = parse_plan(raw)
    if plan is None:
        return None, errors
    return plan, validate_plan(plan, ctx)


def _usable_kw(
    plan: ChargingPlan, ctx: ValidationContext, point_id: str, vehicle: Vehicle | None
) -> float:
    """Power usable at a stop: min(vehicle, point); 0 at unknown/inactive/foreign points."""
    point = ctx.charging_points.get(point_id)
    if point is None or not point.active or point.market_area != plan.market_area:
        return 0.0
    return min(point.max_power_kw, vehicle.max_power_kw) if vehicle else point.max_power_kw


def _num(value: float) -> str:
    return f"{round(value, 3):g}"
