"""Time and energy rules of a plan (helpers of :mod:`schemas.validation`)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, tzinfo

from schemas.base import FieldError
from schemas.network import Vehicle
from schemas.plan import ChargingPlan

EPS_KWH = 1e-6


def _fmt(value: float) -> str:
    return f"{round(value, 3):g}"


def _local(instant: datetime, tz: tzinfo) -> str:
    return instant.astimezone(tz).isoformat()


def stop_errors(plan: ChargingPlan, start: datetime, end: datetime, tz: tzinfo) -> list[FieldError]:
    """Stops inside the local delivery day [start, end), arrival < departure, ordered, disjoint."""
    errors: list[FieldError] = []
    day = plan.delivery_day.isoformat()
    start_u, end_u = start.astimezone(UTC), end.astimezone(UTC)
    valid: list[bool] = []
    for i, stop in enumerate(plan.stops):
        a, d = stop.arrival.astimezone(UTC), stop.departure.astimezone(UTC)
        if a < start_u or a >= end_u:
            errors.append(
                FieldError(
                    loc=f"stops[{i}].arrival",
                    reason=f"arrival {_local(a, tz)} is outside the delivery day {day} "
                    f"({_local(start, tz)} to {_local(end, tz)})",
                )
            )
        if d <= start_u or d > end_u:
            errors.append(
                FieldError(
                    loc=f"stops[{i}].departure",
                    reason=f"departure {_local(d, tz)} is outside the delivery day {day} "
                    f"({_local(start, tz)} to {_local(end, tz)})",
                )
            )
        valid.append(a < d)
        if a >= d:
            errors.append(
                FieldError(
                    loc=f"stops[{i}].departure",
                    reason=f"departure {_local(d, tz)} must be after arrival {_local(a, tz)}",
                )
            )
    for i in range(1, len(plan.stops)):
        a_i = plan.stops[i].arrival.astimezone(UTC)
        if a_i < plan.stops[i - 1].arrival.astimezone(UTC):
            errors.append(
                FieldError(
                    loc=f"stops[{i}]",
                    reason=f"stops[{i}] is out of order: it arrives before stops[{i - 1}]; "
                    "stops must be sorted by arrival",
                )
            )
        for j in range(i):
            if not (valid[i] and valid[j]):
                continue
            a_j, d_j = plan.stops[j].arrival, plan.stops[j].departure
            if a_i < d_j.astimezone(UTC) and a_j.astimezone(UTC) < plan.stops[i].departure:
                errors.append(
                    FieldError(
                        loc=f"stops[{i}]",
                        reason=f"stops[{i}] overlaps stops[{j}]: the vehicle cannot be at two "
                        "points at once",
                    )
                )
    return errors


def _hours(a: datetime, d: datetime, start: datetime, end: datetime) -> float:
    lo = max(a.astimezone(UTC), start.astimezone(UTC))
    hi = min(d.astimezone(UTC), end.astimezone(UTC))
    return max(hi - lo, timedelta(0)) / timedelta(hours=1)


def energy_errors(
    plan: ChargingPlan,
    powers_kw: list[float],
    vehicle: Vehicle | None,
    start: datetime,
    end: datetime,
) -> list[FieldError]:
    """Bid energy against what the stops can deliver and what the battery can take.

    ``powers_kw[i]`` is the usable power at stop i (min of vehicle and point; 0 if unknown).
    The battery bound charges greedily at every stop (the most any schedule can take) with
    the state of charge kept ≤ battery: start at initial SoC (0 when not given), subtract
    ``trip_kwh_after`` between stops.
    """
    errors: list[FieldError] = []
    energy = sum(step.energy_kwh for step in plan.bid)
    deliverable = [
        p * _hours(s.arrival, s.departure, start, end)
        for p, s in zip(powers_kw, plan.stops, strict=True)
    ]
    total = sum(deliverable)
    if energy > total + EPS_KWH:
        errors.append(
            FieldError(
                loc="bid",
                reason=f"energy {_fmt(energy)} kWh exceeds what the stops can deliver: "
                f"{_fmt(total)} kWh",
            )
        )
    initial = plan.initial_soc_kwh or 0.0
    if vehicle is None or initial > vehicle.battery_kwh:  # reported on its own field
        return errors
    soc, taken = initial, 0.0
    for stop, can in zip(plan.stops, deliverable, strict=True):
        charge = max(0.0, min(can, vehicle.battery_kwh - soc))
        soc += charge - stop.trip_kwh_after
        taken += charge
    if energy > taken + EPS_KWH and taken < total - EPS_KWH:
        errors.append(
            FieldError(
                loc="bid",
                reason=f"energy {_fmt(energy)} kWh exceeds what the battery can take along the "
                f"stops: {_fmt(taken)} kWh (battery {_fmt(vehicle.battery_kwh)} kWh, initial "
                f"state of charge {_fmt(initial)} kWh)",
            )
        )
    return errors
