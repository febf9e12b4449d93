"""Plans that omit ``bid`` get the operator's default bid (docs/ingest.md "Default bid").

Only a plan whose sole missing field is ``bid`` takes this path, so well-formed plans pay
nothing for it: the gateway parses as always and, when ``bid`` was missing, parses again
as :class:`PlanWithoutBid` and fills the bid from the registry (battery, power, minimum
charge) and the area's operator parameters before any other check.
"""

from __future__ import annotations

from pydantic import Field, TypeAdapter, ValidationError

from schemas.base import FieldError
from schemas.default_bid import BidPrices, DefaultBid, default_bid
from schemas.market_day import day_bounds
from schemas.parsing import Raw, errors_from
from schemas.plan import BidStep, ChargingPlan
from services.common.registry import Principal
from services.ingest.facts import Network, VehicleFacts
from services.ingest.marketviews import OperatorParameters
from services.ingest.outcomes import Outcome, not_yours, reject

BID_MISSING = FieldError(loc="bid", reason="field required")


class PlanWithoutBid(ChargingPlan):
    """A plan as submitted without ``bid`` (never published as it is)."""

    bid: list[BidStep] = Field(default_factory=list, max_length=0)


_ADAPTER: TypeAdapter[PlanWithoutBid] = TypeAdapter(PlanWithoutBid)


def parse_without_bid(raw: Raw) -> tuple[PlanWithoutBid | None, list[FieldError]]:
    """The plan read with ``bid`` optional, or None and every other error."""
    try:
        if isinstance(raw, bytes | bytearray | str):
            return _ADAPTER.validate_json(raw), []
        return _ADAPTER.validate_python(dict(raw)), []
    except ValidationError as exc:
        return None, errors_from(exc)


def with_default_bid(
    plan: PlanWithoutBid,
    who: Principal,
    net: Network,
    vf: VehicleFacts | None,
    parameters: OperatorParameters,
) -> tuple[ChargingPlan | None, DefaultBid | None, Outcome | None]:
    """(the plan with its default bid, the bid's figures, None), or (None, None, the answer)."""
    denied = not_yours(who, vf.owner_id if vf else None, plan.vehicle_id, "vehicle_id", plan)
    if denied is not None:
        return None, None, denied
    area = net.areas.get(plan.market_area)
    errors: list[FieldError] = []
    if vf is None:
        errors.append(FieldError(loc="vehicle_id", reason=f"unknown vehicle {plan.vehicle_id!r}"))
    if area is None:
        reason = f"unknown market area {plan.market_area!r}"
        errors.append(FieldError(loc="market_area", reason=reason))
    if vf is None or area is None:
        return None, None, _no_default(plan, errors)
    vehicle = vf.vehicle
    powers = []
    for stop in plan.stops:
        point = net.points.get(stop.charging_point_id)
        usable = point is not None and point.active and point.market_area == area.id
        powers.append(min(point.max_power_kw, vehicle.max_power_kw) if point and usable else 0.0)
    params = parameters.of(area.id)
    prices = BidPrices.within(
        params.must_have_price_eur_mwh,
        params.top_up_price_eur_mwh,
        area.price_min_eur_mwh,
        area.price_max_eur_mwh,
    )
    start, end = day_bounds(plan.delivery_day, area.timezone)
    initial = plan.initial_soc_kwh or 0.0
    bid = default_bid(
        plan.stops, powers, vehicle.battery_kwh, initial, vf.min_charge_kwh, prices, start, end
    )
    if not bid.steps:
        reason = (
            f"no bid given, and the default bid is empty: the stops can take "
            f"{bid.chargeable_kwh:g} kWh (battery {vehicle.battery_kwh:g} kWh, initial state "
            f"of charge {initial:g} kWh, trips {bid.trips_kwh:g} kWh)"
        )
        return None, None, _no_default(plan, [FieldError(loc="bid", reason=reason)])
    values = plan.model_dump()
    values["bid"] = [s.model_dump() for s in bid.steps]
    return ChargingPlan.model_validate(values), bid, None


def _no_default(plan: PlanWithoutBid, errors: list[FieldError]) -> Outcome:
    return reject(422, "invalid", "invalid plan", errors, plan)
