"""What the original API answers (DESIGN §7.1): the stored schedule with its id, the plan
it became and how it was computed. Pure: models for the OpenAPI document and builders."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any
from uuid import UUID

from pydantic import BaseModel, Field

from schemas.default_bid import DefaultBid
from schemas.legacy import LegacySchedule, wire_id
from schemas.legacy_plan import Converted
from schemas.plan import ChargingPlan, Stop
from services.ingest.schedules import StoredSchedule


class PointScheduleOut(BaseModel):
    point: int | str = Field(description="The charging point: a number when its id is one")
    arrival_time: datetime = Field(description="With the area's offset")
    departure_time: datetime


class Conversion(BaseModel):
    """How the percentages became kWh and bid steps (docs/ingest.md, worked example)."""

    battery_kwh: float
    initial_soc_kwh: float = Field(description="charge_percent of the battery")
    trip_kwh: float = Field(description="trip_percent of the battery: each drive")
    trips_kwh: float = Field(description="All the drives between the points")
    min_charge_kwh: float | None = Field(description="The vehicle's, when the registry has one")
    chargeable_kwh: float = Field(description="The most the stops can take")
    must_have_kwh: float = Field(description="Trips + minimum charge - initial charge")
    top_up_kwh: float = Field(description="The rest, to a full battery")
    must_have_price_eur_mwh: float
    top_up_price_eur_mwh: float


class LegacyScheduleOut(BaseModel):
    """A schedule as stored: the original's fields, its id, and the plan it became."""

    id: int
    electric_vehicle: int | str
    mode: str = Field(pattern="^(hh|hwh)$")
    charge_percent: float
    trip_percent: float
    point_schedules: list[PointScheduleOut]
    market_area: str
    delivery_day: date
    plan_id: UUID
    plan: ChargingPlan = Field(description="The chargeflow plan it became (revision = id)")
    conversion: Conversion
    created_at: datetime


def conversion(bid: DefaultBid, plan: ChargingPlan, battery_kwh: float, trip: float) -> Conversion:
    return Conversion(
        battery_kwh=battery_kwh,
        initial_soc_kwh=plan.initial_soc_kwh or 0.0,
        trip_kwh=trip,
        trips_kwh=bid.trips_kwh,
        min_charge_kwh=bid.min_charge_kwh or None,
        chargeable_kwh=round(bid.chargeable_kwh, 6),
        must_have_kwh=bid.must_have_kwh,
        top_up_kwh=bid.top_up_kwh,
        must_have_price_eur_mwh=bid.prices.must_have_eur_mwh,
        top_up_price_eur_mwh=bid.prices.top_up_eur_mwh,
    )


def to_store(
    schedule_id: int, schedule: LegacySchedule, converted: Converted, battery_kwh: float
) -> StoredSchedule:
    plan = converted.plan
    stops: tuple[Stop, ...] = converted.stops
    trip = stops[0].trip_kwh_after if len(stops) > 1 else 0.0
    return StoredSchedule(
        id=schedule_id,
        vehicle_id=schedule.electric_vehicle,
        mode=schedule.mode,
        charge_percent=schedule.charge_percent,
        trip_percent=schedule.trip_percent,
        point_schedules=[
            {
                "point": s.charging_point_id,
                "arrival_time": s.arrival.isoformat(),
                "departure_time": s.departure.isoformat(),
            }
            for s in stops
        ],
        market_area=plan.market_area,
        delivery_day=plan.delivery_day,
        plan_id=plan.plan_id,
        plan=plan.model_dump(mode="json"),
        conversion=conversion(converted.bid, plan, battery_kwh, trip).model_dump(mode="json"),
    )


def schedule_out(stored: StoredSchedule) -> dict[str, Any]:
    """The JSON answer for one stored schedule."""
    assert stored.created_at is not None, "a schedule is shown once stored"
    out = LegacyScheduleOut(
        id=stored.id,
        electric_vehicle=wire_id(stored.vehicle_id),
        mode=stored.mode,
        charge_percent=stored.charge_percent,
        trip_percent=stored.trip_percent,
        point_schedules=[
            PointScheduleOut(
                point=wire_id(p["point"]),
                arrival_time=datetime.fromisoformat(p["arrival_time"]),
                departure_time=datetime.fromisoformat(p["departure_time"]),
            )
            for p in stored.point_schedules
        ],
        market_area=stored.market_area,
        delivery_day=stored.delivery_day,
        plan_id=stored.plan_id,
        plan=ChargingPlan.model_validate(stored.plan),
        conversion=Conversion.model_validate(stored.conversion),
        created_at=stored.created_at,
    )
    return out.model_dump(mode="json")
