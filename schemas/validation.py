"""Business rules of a charging plan (DESIGN §5): every error, each with its field path.

``parse_plan`` (schema-level: types, required fields, naive timestamps) then
``validate_plan`` (registry- and market-level rules). ``check_plan`` does both.
Pure: the registry facts and ``now`` come in through :class:`ValidationContext`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time
from typing import Any

from schemas.base import FieldError
from schemas.config import PRICE_MAX_EUR_MWH, PRICE_MIN_EUR_MWH, AuctionConfig
from schemas.market_day import (
    DEFAULT_GATE_CLOSURE,
    DEFAULT_MTU_MINUTES,
    DEFAULT_TIMEZONE,
    day_bounds,
    gate_closure,
    zone,
)
from schemas.network import ChargingPoint, Node, Vehicle
from schemas.parsing import Raw, loc_path, parse_plan, parse_plan_event
from schemas.plan import ChargingPlan
from schemas.rules import energy_errors, stop_errors

__all__ = [
    "FieldError",
    "PointFacts",
    "ValidationContext",
    "check_plan",
    "loc_path",
    "parse_plan",
    "parse_plan_event",
    "validate_plan",
]


@dataclass(frozen=True)
class PointFacts:
    """What the validator needs to know about a charging point."""

    node_id: str
    market_area: str
    max_power_kw: float
    active: bool = True


@dataclass(frozen=True)
class ValidationContext:
    """Registry and market facts a plan is checked against."""

    vehicles: Mapping[str, Vehicle] = field(default_factory=dict)
    charging_points: Mapping[str, PointFacts] = field(default_factory=dict)
    timezone: str = DEFAULT_TIMEZONE
    mtu_minutes: int = DEFAULT_MTU_MINUTES
    price_min_eur_mwh: float = PRICE_MIN_EUR_MWH
    price_max_eur_mwh: float = PRICE_MAX_EUR_MWH
    gate_closure_local: time = DEFAULT_GATE_CLOSURE
    gate_closure_days_before: int = 1
    now: datetime | None = None  # when given, plans after gate closure are rejected

    def __post_init__(self) -> None:
        zone(self.timezone)
        if self.now is not None and self.now.tzinfo is None:
            raise ValueError("ValidationContext.now must be timezone-aware")

    def gate_closure_for(self, day: date) -> datetime:
        return gate_closure(
            day, self.timezone, self.gate_closure_local, self.gate_closure_days_before
        )

    @classmethod
    def build(
        cls,
        *,
        vehicles: Iterable[Vehicle],
        nodes: Iterable[Node],
        charging_points: Iterable[ChargingPoint],
        market_area: str,
        **kwargs: Any,
    ) -> ValidationContext:
        """From registry rows; a node without market_area belongs to ``market_area``."""
        area = {n.id: n.market_area or market_area for n in nodes}
        points = {
            p.id: PointFacts(p.node_id, area.get(p.node_id, market_area), p.max_power_kw, p.active)
            for p in charging_points
            if p.node_id in area
        }
        return cls(vehicles={v.id: v for v in vehicles}, charging_points=points, **kwargs)

    @classmethod
    def from_config(cls, config: AuctionConfig, now: datetime | None = None) -> ValidationContext:
        """From the area's ``auction-config`` (its network, limits and gate closure)."""
        return cls.build(
            vehicles=config.vehicles,
            nodes=config.nodes,
            charging_points=config.charging_points,
            market_area=config.market_area,
            timezone=config.timezone,
            mtu_minutes=config.mtu_minutes,
            price_min_eur_mwh=config.price_min_eur_mwh,
            price_max_eur_mwh=config.price_max_eur_mwh,
            gate_closure_local=config.gate_closure_local,
            gate_closure_days_before=config.gate_closure_days_before,
            now=now,
        )


def validate_plan(plan: ChargingPlan, ctx: ValidationContext) -> list[FieldError]:
    """Every rule of DESIGN §5 that a parsed plan breaks; [] when it is valid."""
    errors: list[FieldError] = []
    tz = zone(ctx.timezone)
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
    if ctx.now is not None:
        closure = ctx.gate_closure_for(plan.delivery_day)
        if ctx.now.astimezone(UTC) >= closure.astimezone(UTC):
            errors.append(
                FieldError(
                    loc="delivery_day",
                    reason=f"gate closure for {plan.delivery_day.isoformat()} passed at "
                    f"{closure.isoformat()}",
                )
            )
    return errors


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
