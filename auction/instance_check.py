"""Semantic validation of an auction instance: every error, each with its field path.

Pydantic already rejects the shape errors (missing fields, unknown fields, naive
timestamps, negative energies); `parse_instance` reports those with the same path style.
`check_instance` then finds what a schema cannot see: references, time, order, limits.
"""

from __future__ import annotations

from collections import Counter
from datetime import UTC
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import ValidationError

from auction.mtu import ALLOWED_MTU_MINUTES, DayGrid, day_grid
from schemas.auction import AuctionInstance, AuctionParams
from schemas.fastinstance import InstanceLike, parse_fast


def _path(loc: tuple[int | str, ...]) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "instance"


def parse_instance(raw: str | bytes) -> tuple[InstanceLike | None, list[str]]:
    """Parse JSON into an instance; on failure return every pydantic error as 'path: msg'.

    The msgspec mirror reads well-formed text about ten times faster than the model
    (schemas/fastinstance.py); what it refuses or is unsure of goes to the model, which
    accepts what the schema accepts and names every error."""
    fast = parse_fast(raw.encode() if isinstance(raw, str) else raw)
    if fast is not None:
        return fast, []
    try:
        return AuctionInstance.model_validate_json(raw), []
    except ValidationError as exc:
        return None, [f"{_path(e['loc'])}: {e['msg']}" for e in exc.errors()]


def _grid(inst: InstanceLike, errors: list[str]) -> DayGrid | None:
    try:
        ZoneInfo(inst.timezone)
    except (ZoneInfoNotFoundError, ValueError):
        errors.append(f"timezone: unknown time zone {inst.timezone!r}")
        return None
    if inst.mtu_minutes not in ALLOWED_MTU_MINUTES:
        errors.append(f"mtu_minutes: must be one of {ALLOWED_MTU_MINUTES}, got {inst.mtu_minutes}")
        return None
    return day_grid(inst.delivery_day, inst.timezone, inst.mtu_minutes)


def _check_market(
    inst: InstanceLike, grid: DayGrid, phase: int, p: AuctionParams, errors: list[str]
) -> None:
    day = f"{inst.delivery_day} in {inst.timezone} has {grid.count} MTUs of {inst.mtu_minutes} min"
    if len(inst.prices_eur_mwh) != grid.count:
        errors.append(f"prices_eur_mwh: {len(inst.prices_eur_mwh)} prices given, {day}")
    for i, price in enumerate(inst.prices_eur_mwh):
        if not p.price_min_eur_mwh <= price <= p.price_max_eur_mwh:
            errors.append(f"prices_eur_mwh[{i}]: {price} outside the market limits")
    if phase == 2:
        if inst.awarded_mwh is None:
            errors.append("awarded_mwh: required in phase 2")
        elif len(inst.awarded_mwh) != grid.count:
            errors.append(f"awarded_mwh: {len(inst.awarded_mwh)} quantities given, {day}")
    for i, q in enumerate(inst.awarded_mwh or []):
        if q < 0:
            errors.append(f"awarded_mwh[{i}]: must be >= 0, got {q}")


def _check_network(inst: InstanceLike, grid: DayGrid, errors: list[str]) -> None:
    for name, ids in (
        ("nodes", [n.id for n in inst.nodes]),
        ("charging_points", [c.id for c in inst.charging_points]),
        ("vehicles", [v.id for v in inst.vehicles]),
    ):
        counts = Counter(ids)
        for i, ident in enumerate(ids):
            if counts[ident] > 1:
                errors.append(f"{name}[{i}].id: duplicate id {ident!r}")
    for i, node in enumerate(inst.nodes):
        prof = node.capacity_kw_by_mtu
        if prof is not None and len(prof) != grid.count:
            errors.append(
                f"nodes[{i}].capacity_kw_by_mtu: {len(prof)} values, the day has {grid.count} MTUs"
            )
        for t, cap in enumerate(prof or []):
            if cap < 0:
                errors.append(f"nodes[{i}].capacity_kw_by_mtu[{t}]: must be >= 0, got {cap}")
    node_ids = {n.id for n in inst.nodes}
    for i, cp in enumerate(inst.charging_points):
        if cp.node_id not in node_ids:
            errors.append(f"charging_points[{i}].node_id: unknown node {cp.node_id!r}")


def _check_plans(inst: InstanceLike, grid: DayGrid, p: AuctionParams, errors: list[str]) -> None:
    points = {cp.id for cp in inst.charging_points}
    vehicles = {v.id: v for v in inst.vehicles}
    first_plan: dict[str, int] = {}
    first_vehicle: dict[str, int] = {}
    start, end = grid.start, grid.end
    for i, plan in enumerate(inst.plans):
        at = f"plans[{i}]"
        key = str(plan.plan_id)
        if key in first_plan:
            errors.append(f"{at}.plan_id: duplicate of plans[{first_plan[key]}]")
        first_plan.setdefault(key, i)
        vehicle = vehicles.get(plan.vehicle_id)
        if vehicle is None:
            errors.append(f"{at}.vehicle_id: unknown vehicle {plan.vehicle_id!r}")
        elif plan.vehicle_id in first_vehicle:
            errors.append(
                f"{at}.vehicle_id: vehicle {plan.vehicle_id!r} already has "
                f"plans[{first_vehicle[plan.vehicle_id]}] for this day"
            )
        first_vehicle.setdefault(plan.vehicle_id, i)
        soc = plan.initial_soc_kwh
        if vehicle is not None and soc is not None and soc > vehicle.battery_kwh:
            errors.append(
                f"{at}.initial_soc_kwh: {soc} exceeds the battery of {vehicle.battery_kwh} kWh"
            )
        for j, stop in enumerate(plan.stops):
            sat = f"{at}.stops[{j}]"
            if vehicle is not None and stop.trip_kwh_after > vehicle.battery_kwh:
                errors.append(
                    f"{sat}.trip_kwh_after: {stop.trip_kwh_after} exceeds the battery of "
                    f"{vehicle.battery_kwh} kWh"
                )
            if stop.charging_point_id not in points:
                errors.append(
                    f"{sat}.charging_point_id: unknown charging point {stop.charging_point_id!r}"
                )
            # UTC: same-ZoneInfo datetimes compare by wall clock, wrong across DST
            arrival, departure = stop.arrival.astimezone(UTC), stop.departure.astimezone(UTC)
            if departure <= arrival:
                errors.append(f"{sat}: departure {stop.departure} is not after arrival")
            if arrival < start or departure > end:
                errors.append(
                    f"{sat}: outside the delivery day {start.astimezone(grid.tz).isoformat()}"
                    f" .. {end.astimezone(grid.tz).isoformat()}"
                )
            if j > 0 and arrival < plan.stops[j - 1].departure.astimezone(UTC):
                errors.append(f"{sat} overlaps stops[{j - 1}] (or is out of order)")
        for k, step in enumerate(plan.bid):
            if not p.price_min_eur_mwh <= step.price_eur_mwh <= p.price_max_eur_mwh:
                errors.append(
                    f"{at}.bid[{k}].price_eur_mwh: {step.price_eur_mwh} outside the market "
                    f"limits {p.price_min_eur_mwh} .. {p.price_max_eur_mwh}"
                )
            if k > 0 and step.price_eur_mwh > plan.bid[k - 1].price_eur_mwh:
                errors.append(
                    f"{at}.bid[{k}].price_eur_mwh: rises above bid[{k - 1}] "
                    f"({step.price_eur_mwh} > {plan.bid[k - 1].price_eur_mwh}); "
                    "bid prices must not increase"
                )


def check_instance(
    inst: InstanceLike, phase: int = 1, params: AuctionParams | None = None
) -> list[str]:
    """Every semantic error of the instance for this phase (empty list: the instance is fine)."""
    p = params or AuctionParams()
    errors: list[str] = []
    if phase not in (1, 2):
        errors.append(f"phase: must be 1 or 2, got {phase}")
    grid = _grid(inst, errors)
    if grid is None:
        return errors
    _check_market(inst, grid, phase, p, errors)
    _check_network(inst, grid, errors)
    _check_plans(inst, grid, p, errors)
    return errors
