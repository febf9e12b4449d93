"""Registry and market facts a plan is validated against (see :mod:`schemas.validation`)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from functools import cached_property
from typing import Any

from schemas.config import (
    DEFAULT_PLAN_HORIZON_DAYS,
    PRICE_MAX_EUR_MWH,
    PRICE_MIN_EUR_MWH,
    AuctionConfig,
)
from schemas.market_day import (
    DEFAULT_GATE_CLOSURE,
    DEFAULT_MTU_MINUTES,
    DEFAULT_TIMEZONE,
    MTU_CHOICES,
    gate_closure,
    zone,
)
from schemas.network import ChargingPoint, Node, Vehicle


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
    market_area: str | None = None  # when given, plans for other areas are rejected
    charging_points: Mapping[str, PointFacts] = field(default_factory=dict)
    timezone: str = DEFAULT_TIMEZONE
    mtu_minutes: int = DEFAULT_MTU_MINUTES
    price_min_eur_mwh: float = PRICE_MIN_EUR_MWH
    price_max_eur_mwh: float = PRICE_MAX_EUR_MWH
    gate_closure_local: time = DEFAULT_GATE_CLOSURE
    gate_closure_days_before: int = 1
    now: datetime | None = None  # when given, plans after gate closure are rejected
    # The area's local date now: when given, delivery days more than plan_horizon_days
    # after it are rejected (DESIGN §5). Apart from `now`, so a service can check the
    # horizon and decide lateness itself (ingest answers 409 for late, 422 for far).
    today: date | None = None
    plan_horizon_days: int = DEFAULT_PLAN_HORIZON_DAYS

    def __post_init__(self) -> None:
        zone(self.timezone)
        if self.mtu_minutes not in MTU_CHOICES:
            raise ValueError(f"mtu_minutes must be one of {MTU_CHOICES}, got {self.mtu_minutes}")
        if self.now is not None and self.now.tzinfo is None:
            raise ValueError("ValidationContext.now must be timezone-aware")

    @cached_property
    def last_day(self) -> date | None:
        """The last delivery day plans are taken for; None: no horizon check."""
        if self.today is None:
            return None
        return self.today + timedelta(days=self.plan_horizon_days)

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
        return cls(
            vehicles={v.id: v for v in vehicles},
            charging_points=points,
            market_area=market_area,
            **kwargs,
        )

    @classmethod
    def from_config(
        cls, config: AuctionConfig, now: datetime | None = None, today: date | None = None
    ) -> ValidationContext:
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
            today=today,
            plan_horizon_days=config.plan_horizon_days,
        )
