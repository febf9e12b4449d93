"""The charging plan (DESIGN §5): one vehicle's wish for one delivery day.

Every field's bounds are declared here once, with the named types of ``schemas.base``;
the fast parse mirror (``schemas.fastplan``) derives its constraints from these fields.
"""

from __future__ import annotations

from uuid import UUID

from pydantic import Field

from schemas.base import (
    AreaCode,
    DeliveryDay,
    Energy,
    Id64,
    Model,
    PositiveEnergy,
    Price,
    Revision,
    Timestamp,
)

MAX_STOPS = 48
MAX_BID_STEPS = 50


class Stop(Model):
    """Where the vehicle is plugged in, when, and what the drive after it consumes."""

    charging_point_id: Id64
    arrival: Timestamp
    departure: Timestamp
    trip_kwh_after: Energy = 0.0


class BidStep(Model):
    """One step of the stepwise bid: this much energy is worth this price to the driver."""

    energy_kwh: PositiveEnergy
    price_eur_mwh: Price


class PlanBody(Model):
    """What the auction needs of a plan (the plan as it appears in an auction instance)."""

    plan_id: UUID
    vehicle_id: Id64
    initial_soc_kwh: Energy | None = None
    stops: list[Stop] = Field(min_length=1, max_length=MAX_STOPS)
    bid: list[BidStep] = Field(min_length=1, max_length=MAX_BID_STEPS)


class ChargingPlan(PlanBody):
    """A plan as submitted: the auction body plus identity, revision, area and day."""

    revision: Revision = 0
    market_area: AreaCode
    delivery_day: DeliveryDay
