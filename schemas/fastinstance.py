"""The fast mirror of ``AuctionInstance``: msgspec structs derived from the model's fields.

``schemas.auction.AuctionInstance`` (pydantic) stays the source of truth. The offline
engine (`chargeflow auction clear`) reads instances of tens of megabytes; pydantic builds a
model object per stop and calls Python for each timestamp (1.5 s of CPU at N = 30 000
plans, 3.4 s with the garbage collector walking the new objects), msgspec decodes the same
text into these structs in 0.1-0.3 s, and they are untracked by the collector.

As with the plan's mirror, the structs are *stricter* than the model, never looser:
everything `parse_fast` accepts, the model accepts with the same values
(tests/unit/schemas/test_fastinstance.py); anything else returns None and the caller takes
the pydantic path, which accepts what the model accepts and names every error.
- every type and bound (numbers, string lengths and patterns, list lengths) is read from
  the pydantic field by ``schemas.mirror.field_type``; `check_mirror` proves at import that
  each struct has its model's fields, in order, with the same defaults;
- timestamps: msgspec reads RFC 3339 only (pydantic more), and *rounds* a fraction of a
  second beyond 6 digits where pydantic truncates it: a text with such a fraction, or any
  ``\\u`` escape (which could spell one), takes the pydantic path; so does one with an
  escaped control character or a DEL byte, which keeps the ids' "no control characters"
  without a regex per string;
- ranges msgspec cannot declare (the delivery day's, the timestamps') are checked after
  decoding, from the same declarations.

The structs have the model's attribute names, so the engine reads either
(`InstanceLike`).
"""

from __future__ import annotations

import types
from typing import Any, Union, get_args, get_origin

import msgspec
from pydantic import BaseModel, create_model

from schemas.auction import AuctionInstance
from schemas.base import FIRST_INSTANT, LAST_INSTANT
from schemas.fastplan import NO_CONTROL, FastBidStep, FastStop, unsure
from schemas.mirror import check_mirror, date_bounds, field_type
from schemas.network import ChargingPoint, Node, Vehicle
from schemas.plan import PlanBody


def _elements(model: type[BaseModel], name: str) -> Any:
    """The msgspec type of the elements of a list of scalars (e.g. ``list[Price]``), read
    from the field's own annotation."""
    annotation = model.model_fields[name].annotation
    if get_origin(annotation) in (Union, types.UnionType):
        annotation = next(a for a in get_args(annotation) if a is not type(None))
    (element,) = get_args(annotation)
    return field_type(create_model(f"{model.__name__}_{name}", value=(element, ...)), "value")


class FastPlanBody(msgspec.Struct, forbid_unknown_fields=True, kw_only=True, gc=False):
    plan_id: field_type(PlanBody, "plan_id")  # type: ignore[valid-type]
    vehicle_id: field_type(PlanBody, "vehicle_id", covered=NO_CONTROL)  # type: ignore[valid-type]
    initial_soc_kwh: field_type(PlanBody, "initial_soc_kwh") = None  # type: ignore[valid-type]
    stops: field_type(PlanBody, "stops", FastStop)  # type: ignore[valid-type]
    bid: field_type(PlanBody, "bid", FastBidStep)  # type: ignore[valid-type]


class FastNode(msgspec.Struct, forbid_unknown_fields=True, kw_only=True, gc=False):
    id: field_type(Node, "id", covered=NO_CONTROL)  # type: ignore[valid-type]
    capacity_kw: field_type(Node, "capacity_kw")  # type: ignore[valid-type]
    capacity_kw_by_mtu: field_type(  # type: ignore[valid-type]
        Node, "capacity_kw_by_mtu", _elements(Node, "capacity_kw_by_mtu")
    ) = None
    market_area: field_type(Node, "market_area", covered=NO_CONTROL) = None  # type: ignore[valid-type]


class FastChargingPoint(msgspec.Struct, forbid_unknown_fields=True, kw_only=True, gc=False):
    id: field_type(ChargingPoint, "id", covered=NO_CONTROL)  # type: ignore[valid-type]
    node_id: field_type(ChargingPoint, "node_id", covered=NO_CONTROL)  # type: ignore[valid-type]
    max_power_kw: field_type(ChargingPoint, "max_power_kw")  # type: ignore[valid-type]
    active: bool = True  # msgspec takes only true/false; pydantic also "yes", 1, ...


class FastVehicle(msgspec.Struct, forbid_unknown_fields=True, kw_only=True, gc=False):
    id: field_type(Vehicle, "id", covered=NO_CONTROL)  # type: ignore[valid-type]
    battery_kwh: field_type(Vehicle, "battery_kwh")  # type: ignore[valid-type]
    max_power_kw: field_type(Vehicle, "max_power_kw")  # type: ignore[valid-type]


_I = AuctionInstance
_PRICES = _elements(_I, "prices_eur_mwh")
_AWARDS = _elements(_I, "awarded_mwh")


class FastInstance(msgspec.Struct, forbid_unknown_fields=True, kw_only=True, gc=False):
    """AuctionInstance's fields in AuctionInstance's order."""

    market_area: field_type(_I, "market_area", covered=NO_CONTROL)  # type: ignore[valid-type]
    delivery_day: field_type(_I, "delivery_day")  # type: ignore[valid-type]
    timezone: field_type(_I, "timezone") = "Europe/Warsaw"  # type: ignore[valid-type]
    mtu_minutes: field_type(_I, "mtu_minutes") = 60  # type: ignore[valid-type]
    prices_eur_mwh: field_type(_I, "prices_eur_mwh", _PRICES)  # type: ignore[valid-type]
    awarded_mwh: field_type(_I, "awarded_mwh", _AWARDS) = None  # type: ignore[valid-type]
    nodes: field_type(_I, "nodes", FastNode)  # type: ignore[valid-type]
    charging_points: field_type(_I, "charging_points", FastChargingPoint)  # type: ignore[valid-type]
    vehicles: field_type(_I, "vehicles", FastVehicle)  # type: ignore[valid-type]
    plans: field_type(_I, "plans", FastPlanBody)  # type: ignore[valid-type]


for _struct, _model in (
    (FastPlanBody, PlanBody),
    (FastNode, Node),
    (FastChargingPoint, ChargingPoint),
    (FastVehicle, Vehicle),
    (FastInstance, AuctionInstance),
):
    check_mirror(_struct, _model)

_FIRST_DAY, _LAST_DAY = date_bounds(AuctionInstance, "delivery_day")
_DECODE = msgspec.json.Decoder(FastInstance).decode


def _in_range(inst: FastInstance) -> bool:
    if not _FIRST_DAY <= inst.delivery_day <= _LAST_DAY:
        return False
    first, last = FIRST_INSTANT, LAST_INSTANT
    return all(
        first <= s.arrival <= last and first <= s.departure <= last
        for plan in inst.plans
        for s in plan.stops
    )


def parse_fast(raw: bytes) -> FastInstance | None:
    """The instance, or None when the text is not well formed in the narrow sense above
    (take the pydantic path, which may still accept it)."""
    if unsure(raw):  # the same scan as the plan's mirror (schemas/fastplan.py)
        return None
    try:
        inst: FastInstance = _DECODE(raw)
    except msgspec.DecodeError:  # includes msgspec.ValidationError
        return None
    return inst if _in_range(inst) else None


InstanceLike = AuctionInstance | FastInstance
"""What the auction engine reads: the model, or its mirror from `parse_fast`."""
