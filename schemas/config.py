"""``auction-config`` (compacted, key market_area): network, forecast and parameters."""

from __future__ import annotations

from collections import Counter
from datetime import date, datetime, time
from typing import Annotated, Literal

from pydantic import Field, WithJsonSchema, field_validator, model_validator

from schemas.base import AreaCode, DeliveryDay, Event, Id64, Model, Price
from schemas.market_day import (
    DEFAULT_GATE_CLOSURE,
    DEFAULT_MTU_MINUTES,
    DEFAULT_TIMEZONE,
    gate_closure,
    mtu_count,
    mtu_starts,
    zone,
)
from schemas.network import ChargingPoint, Node, Vehicle

# A wall-clock time without offset. JSON Schema's "time" format demands an offset, so the
# exported schema uses a pattern instead.
LocalTime = Annotated[
    time,
    WithJsonSchema({"type": "string", "pattern": r"^([01]\d|2[0-3]):[0-5]\d(:[0-5]\d)?$"}),
]

PRICE_MIN_EUR_MWH = -500.0  # harmonised day-ahead limits (DESIGN §5)
PRICE_MAX_EUR_MWH = 4000.0
DEFAULT_PLAN_HORIZON_DAYS = 7  # DESIGN §5
MAX_PLAN_HORIZON_DAYS = 366


class AuctionParameters(Model):
    """Tunables of the clearing and of the market exchange."""

    lot_mwh: float = Field(
        default=0.01, ge=1e-6, le=1000.0, description="Bid quantities are multiples"
    )
    price_tick_eur_mwh: float = Field(default=0.01, ge=1e-4, le=100.0)
    market_result_timeout_s: float = Field(
        default=1800.0,
        gt=0,
        le=7 * 86400.0,
        description="Wait this long for market-results, then fall back",
    )
    fallback: Literal["forecast", "reject"] = Field(
        default="forecast",
        description="Without a market result: clear at forecast prices, or reject all plans",
    )
    default_price_eur_mwh: Price | None = Field(
        default=None, description="Price for MTUs of days without a forecast; None = required"
    )
    # The operator's default bid (docs/ingest.md "Default bid"): plans that omit `bid`, and
    # the original system's schedules, bid a must-have step (the trips and the vehicle's
    # minimum charge) at the first price and a top-up step to a full battery at the second.
    must_have_price_eur_mwh: Price = Field(
        default=3000.0, description="Default bid: price of the must-have step (trips)"
    )
    top_up_price_eur_mwh: Price = Field(
        default=150.0, description="Default bid: price of the top-up step (to a full battery)"
    )

    @model_validator(mode="after")
    def _bid_prices_do_not_increase(self) -> AuctionParameters:
        if self.top_up_price_eur_mwh > self.must_have_price_eur_mwh:
            raise ValueError("top_up_price_eur_mwh must not exceed must_have_price_eur_mwh")
        return self


class AuctionConfig(Event):
    """Everything the aggregator needs for one market area; latest value per area wins."""

    event_type: Literal["AuctionConfig"] = "AuctionConfig"
    market_area: AreaCode
    timezone: str = Field(default=DEFAULT_TIMEZONE, max_length=64)
    mtu_minutes: Literal[15, 60] = DEFAULT_MTU_MINUTES
    gate_closure_local: LocalTime = Field(
        default=DEFAULT_GATE_CLOSURE, description="Wall-clock time on D-1, e.g. 12:00:00"
    )
    gate_closure_days_before: int = Field(default=1, ge=0, le=7)
    price_min_eur_mwh: Price = PRICE_MIN_EUR_MWH
    price_max_eur_mwh: Price = PRICE_MAX_EUR_MWH
    plan_horizon_days: int = Field(
        default=DEFAULT_PLAN_HORIZON_DAYS,
        ge=1,
        le=MAX_PLAN_HORIZON_DAYS,
        description="Plans are taken for delivery days up to this many days after today",
    )
    nodes: list[Node] = Field(default_factory=list)
    charging_points: list[ChargingPoint] = Field(default_factory=list)
    vehicles: list[Vehicle] = Field(default_factory=list)
    vehicle_owners: dict[Id64, str] = Field(
        default_factory=dict,
        description="Vehicle id -> its owner's user name (the registry's). A plan read from "
        "charging-plans.direct.<user> is accepted only for that user's vehicles",
    )
    price_forecast: dict[DeliveryDay, list[Price]] = Field(
        default_factory=dict, description="Per delivery day, one price (EUR/MWh) per MTU"
    )
    parameters: AuctionParameters = Field(default_factory=AuctionParameters)

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        zone(value)  # ValueError "unknown timezone 'X'"
        return value

    @field_validator("gate_closure_local")
    @classmethod
    def _wall_clock(cls, value: time) -> time:
        if value.tzinfo is not None:
            raise ValueError("gate_closure_local is a local wall-clock time without offset")
        return value

    @model_validator(mode="after")
    def _consistent(self) -> AuctionConfig:
        problems: list[str] = []
        if self.price_min_eur_mwh >= self.price_max_eur_mwh:
            problems.append("price_min_eur_mwh must be below price_max_eur_mwh")
        for kind, ids in (
            ("node", [n.id for n in self.nodes]),
            ("charging point", [p.id for p in self.charging_points]),
            ("vehicle", [v.id for v in self.vehicles]),
        ):
            # Counter, not ids.count(): linear for fleets of 100 000 vehicles.
            dupes = sorted(i for i, k in Counter(ids).items() if k > 1)
            if dupes:
                problems.append(f"duplicate {kind} ids: {', '.join(dupes)}")
        vehicle_ids = {v.id for v in self.vehicles}
        strays = sorted(v for v in self.vehicle_owners if v not in vehicle_ids)
        if strays:
            problems.append(f"vehicle_owners: unknown vehicles {', '.join(strays[:10])}")
        node_ids = {n.id for n in self.nodes}
        for i, p in enumerate(self.charging_points):
            if p.node_id not in node_ids:
                problems.append(f"charging_points[{i}]: unknown node {p.node_id!r}")
        for i, n in enumerate(self.nodes):
            if n.market_area not in (None, self.market_area):
                problems.append(f"nodes[{i}]: node is in market area {n.market_area!r}")
        for day, prices in sorted(self.price_forecast.items()):
            want = mtu_count(day, self.timezone, self.mtu_minutes)
            if len(prices) != want:
                problems.append(
                    f"price_forecast[{day}]: {len(prices)} prices, the day has {want} MTUs"
                )
        if problems:
            raise ValueError("; ".join(problems))
        return self

    def forecast_for(self, day: date) -> list[float] | None:
        """Forecast prices per MTU of ``day`` (or the default price), None when unknown."""
        if day in self.price_forecast:
            return list(self.price_forecast[day])
        default = self.parameters.default_price_eur_mwh
        if default is None:
            return None
        return [default] * mtu_count(day, self.timezone, self.mtu_minutes)

    def gate_closure_for(self, day: date) -> datetime:
        """Gate closure instant for delivery day ``day`` in this area."""
        return gate_closure(
            day, self.timezone, self.gate_closure_local, self.gate_closure_days_before
        )

    def mtu_starts_for(self, day: date) -> list[datetime]:
        """MTU starts of the local delivery day ``day`` in this area."""
        return mtu_starts(day, self.timezone, self.mtu_minutes)
