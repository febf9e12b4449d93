"""What the fast validity check (schemas/fastcheck.py) and the ingest gateway read of a
plan: a ``schemas.plan.ChargingPlan`` (pydantic; ``PlanSubmitted`` too) or the ingest's
``schemas.fastplan.FastPlan`` mirror of the batch fast path; all have these
attributes with these types (tests/unit/ingest/test_fastparse.py checks the values)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from typing import Protocol
from uuid import UUID


class StopLike(Protocol):
    @property
    def charging_point_id(self) -> str: ...
    @property
    def arrival(self) -> datetime: ...
    @property
    def departure(self) -> datetime: ...
    @property
    def trip_kwh_after(self) -> float: ...


class BidStepLike(Protocol):
    @property
    def energy_kwh(self) -> float: ...
    @property
    def price_eur_mwh(self) -> float: ...


class PlanLike(Protocol):
    @property
    def plan_id(self) -> UUID: ...
    @property
    def revision(self) -> int: ...
    @property
    def vehicle_id(self) -> str: ...
    @property
    def market_area(self) -> str: ...
    @property
    def delivery_day(self) -> date: ...
    @property
    def initial_soc_kwh(self) -> float | None: ...
    @property
    def stops(self) -> Sequence[StopLike]: ...
    @property
    def bid(self) -> Sequence[BidStepLike]: ...
