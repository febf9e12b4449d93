"""The charging plan (DESIGN §5): one vehicle's wish for one delivery day."""

from __future__ import annotations

from datetime import date
from uuid import UUID

from pydantic import Field

from schemas.base import Model, Timestamp


class Stop(Model):
    """Where the vehicle is plugged in, when, and what the drive after it consumes."""

    charging_point_id: str = Field(min_length=1, max_length=64)
    arrival: Timestamp
    departure: Timestamp
    trip_kwh_after: float = Field(default=0.0, ge=0)


class BidStep(Model):
    """One step of the stepwise bid: this much energy is worth this price to the driver."""

    energy_kwh: float = Field(gt=0)
    price_eur_mwh: float


class PlanBody(Model):
    """What the auction needs of a plan (the plan as it appears in an auction instance)."""

    plan_id: UUID
    vehicle_id: str = Field(min_length=1, max_length=64)
    initial_soc_kwh: float | None = Field(default=None, ge=0)
    stops: list[Stop] = Field(min_length=1, max_length=48)
    bid: list[BidStep] = Field(min_length=1, max_length=50)


class ChargingPlan(PlanBody):
    """A plan as submitted: the auction body plus identity, revision, area and day."""

    revision: int = Field(default=0, ge=0)
    market_area: str = Field(min_length=1, max_length=32)
    delivery_day: date
