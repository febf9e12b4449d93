"""An original-format schedule becomes a chargeflow plan (DESIGN §7.1): pure, no I/O.

- the delivery day is the next one open for plans in the points' market area (given);
- times are shown in the area's timezone; times without an offset are read in it (a wall
  time repeated by an autumn change is its first occurrence; one skipped by a spring change
  is read with the offset before the change);
- one stop per point schedule, in order; each drive between two points uses
  ``trip_percent`` of the battery (``trip_kwh_after`` of every stop but the last);
- ``initial_soc_kwh`` is ``charge_percent`` of the battery (the charge on arrival at the
  first point);
- the bid is the operator's default bid (:mod:`schemas.default_bid`): a must-have step for
  the trips (and the vehicle's minimum charge) at a high price, a top-up step to a full
  battery at the operator's default price.
Every broken rule is reported in DRF's shapes, on the field it concerns.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any
from uuid import UUID

from schemas.default_bid import BidPrices, DefaultBid, default_bid
from schemas.legacy import POINTS_PER_MODE, Errors, LegacySchedule, PointSchedule
from schemas.market_day import day_bounds, zone
from schemas.plan import ChargingPlan, Stop

_MODES = {"hh": "home-home", "hwh": "home-work-home"}


@dataclass(frozen=True)
class LegacyFacts:
    """What the registry and the operator say about this schedule's vehicle and day."""

    market_area: str
    timezone: str
    delivery_day: date  # the next delivery day open for plans
    battery_kwh: float
    min_charge_kwh: float | None  # None: the registry has no minimum charge for it
    powers_kw: Mapping[str, float]  # usable power per point: min(vehicle, point)
    prices: BidPrices


@dataclass(frozen=True)
class Converted:
    plan: ChargingPlan
    bid: DefaultBid
    stops: tuple[Stop, ...]


def _kwh(percent: float, battery_kwh: float) -> float:
    return round(percent * battery_kwh / 100, 6)


def aware(at: datetime, timezone: str) -> datetime:
    """``at`` in the area's ``timezone``: an offset-less ``at`` is a wall time there."""
    tz = zone(timezone)
    return at.astimezone(tz) if at.tzinfo is not None else at.replace(tzinfo=tz)


def to_plan(
    schedule: LegacySchedule, facts: LegacyFacts, plan_id: UUID, revision: int
) -> tuple[Converted | None, Errors]:
    """The chargeflow plan this schedule becomes, or None and every error (DRF shapes)."""
    errors: Errors = {}
    want = POINTS_PER_MODE[schedule.mode]
    got = len(schedule.point_schedules)
    if got != want:
        errors["non_field_errors"] = [
            f'Mode "{schedule.mode}" ({_MODES[schedule.mode]}) needs exactly {want} point '
            f"schedules, got {got}."
        ]
        return None, errors
    items = _time_errors(schedule.point_schedules, facts)
    if any(items):
        errors["point_schedules"] = items
    battery = facts.battery_kwh
    trip = _kwh(schedule.trip_percent, battery)
    minimum = facts.min_charge_kwh or 0.0
    if trip + minimum > battery + 1e-9:
        errors["trip_percent"] = [
            f"A trip of {schedule.trip_percent:g}% ({trip:g} kWh) and the vehicle's minimum "
            f"charge of {minimum:g} kWh exceed its battery of {battery:g} kWh."
        ]
    if schedule.charge_percent >= 100 and schedule.trip_percent == 0:
        errors["charge_percent"] = [
            "The battery is already full (100%) and the trips use 0%: there is nothing to charge."
        ]
    if errors:
        return None, errors
    tz = facts.timezone
    last = len(schedule.point_schedules) - 1
    stops = tuple(
        Stop(
            charging_point_id=p.point,
            arrival=aware(p.arrival_time, tz),
            departure=aware(p.departure_time, tz),
            trip_kwh_after=trip if i < last else 0.0,
        )
        for i, p in enumerate(schedule.point_schedules)
    )
    initial = _kwh(schedule.charge_percent, battery)
    start, end = day_bounds(facts.delivery_day, tz)
    powers = [facts.powers_kw[s.charging_point_id] for s in stops]
    bid = default_bid(
        stops, powers, battery, initial, facts.min_charge_kwh, facts.prices, start, end
    )
    if not bid.steps:
        return None, {"non_field_errors": [_nothing_to_charge(bid, initial, battery)]}
    plan = ChargingPlan(
        plan_id=plan_id,
        revision=revision,
        vehicle_id=schedule.electric_vehicle,
        market_area=facts.market_area,
        delivery_day=facts.delivery_day,
        initial_soc_kwh=initial,
        stops=list(stops),
        bid=bid.steps,
    )
    return Converted(plan, bid, stops), {}


def _nothing_to_charge(bid: DefaultBid, initial: float, battery: float) -> str:
    return (
        f"Nothing to charge: the stops can take {bid.chargeable_kwh:g} kWh (the battery of "
        f"{battery:g} kWh holds {initial:g} kWh on arrival, the trips use "
        f"{bid.trips_kwh:g} kWh)."
    )


def _time_errors(items: tuple[PointSchedule, ...], facts: LegacyFacts) -> list[dict[str, Any]]:
    """Per point schedule: inside the delivery day, departure after arrival, after the
    previous one's departure. One dict per item ({} when it is fine), as DRF nests them."""
    start, end = (t.astimezone(UTC) for t in day_bounds(facts.delivery_day, facts.timezone))
    tz = zone(facts.timezone)
    day = facts.delivery_day.isoformat()
    where = (
        f"the delivery day {day} (the next day open for plans: "
        f"{start.astimezone(tz).isoformat()} to {end.astimezone(tz).isoformat()})"
    )
    out: list[dict[str, Any]] = []
    previous: datetime | None = None
    for i, item in enumerate(items):
        errors: dict[str, list[str]] = {}
        arrival = aware(item.arrival_time, facts.timezone).astimezone(UTC)
        departure = aware(item.departure_time, facts.timezone).astimezone(UTC)
        if not start <= arrival < end:
            errors["arrival_time"] = [f"{_local(arrival, tz)} is outside {where}."]
        if not start < departure <= end:
            errors["departure_time"] = [f"{_local(departure, tz)} is outside {where}."]
        if not errors and departure <= arrival:
            errors["departure_time"] = [
                f"Departure {_local(departure, tz)} must be after arrival {_local(arrival, tz)}."
            ]
        if not errors and previous is not None and arrival < previous:
            errors["arrival_time"] = [
                f"Arrival {_local(arrival, tz)} is before the departure from point_schedules"
                f"[{i - 1}] at {_local(previous, tz)}: the vehicle cannot be at two points at "
                "once."
            ]
        previous = departure
        out.append(errors)
    return out


def _local(at: datetime, tz: Any) -> str:
    return at.astimezone(tz).isoformat()


def legacy_loc(loc: str) -> str:
    """A plan's field path in the original's words: stops[1].arrival -> point_schedules[1]."""
    for ours, theirs in (
        ("stops", "point_schedules"),
        ("initial_soc_kwh", "charge_percent"),
        ("vehicle_id", "electric_vehicle"),
        (".charging_point_id", ".point"),
        (".arrival", ".arrival_time"),
        (".departure", ".departure_time"),
        (".trip_kwh_after", ".trip_percent"),
    ):
        loc = loc.replace(ours, theirs)
    return loc
