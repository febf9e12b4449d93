"""``GET /market-areas/``: what a client needs to know before it submits (pure)."""

from __future__ import annotations

from datetime import UTC, date, datetime

from pydantic import BaseModel, Field

from schemas.market_day import next_delivery_day
from services.common.registry import MarketArea
from services.ingest.marketviews import DayReached
from services.ingest.outcomes import closure_of

PHASES = {1: "bid sent", 2: "decisions published"}


class LatestDay(BaseModel):
    """The latest delivery day a clearing run was published for."""

    delivery_day: date
    phase: int = Field(
        ge=1, le=2, description="1: the aggregate bid went to the market; 2: decisions are out"
    )
    phase_name: str = Field(pattern="^(bid sent|decisions published)$")
    fallback: bool = Field(description="Phase 2 cleared without a market result")


class MarketAreaInfo(BaseModel):
    market_area: str
    timezone: str
    mtu_minutes: int
    gate_closure_local: str = Field(
        pattern=r"^([01]\d|2[0-3]):[0-5]\d:[0-5]\d$",
        description="Wall-clock time (HH:MM:SS, no offset) on the day before delivery",
    )
    plan_horizon_days: int
    next_delivery_day: date = Field(description="The next delivery day open for plans")
    gate_closure: datetime = Field(description="When plans for next_delivery_day close")
    seconds_left: float = Field(ge=0, description="Until that gate closure")
    latest_day: LatestDay | None = Field(
        description="How far the latest cleared day got; null before the first run is seen"
    )


def area_info(area: MarketArea, now: datetime, reached: DayReached | None) -> MarketAreaInfo:
    day = next_delivery_day(now, area.timezone, area.gate_closure)
    closure = closure_of(area, day)
    left = (closure.astimezone(UTC) - now.astimezone(UTC)).total_seconds()
    latest = None
    if reached is not None:
        latest = LatestDay(
            delivery_day=reached.delivery_day,
            phase=reached.phase,
            phase_name=PHASES[reached.phase],
            fallback=reached.fallback,
        )
    return MarketAreaInfo(
        market_area=area.id,
        timezone=area.timezone,
        mtu_minutes=area.mtu_minutes,
        gate_closure_local=area.gate_closure.strftime("%H:%M:%S"),
        plan_horizon_days=area.plan_horizon_days,
        next_delivery_day=day,
        gate_closure=closure,
        seconds_left=max(0.0, round(left, 3)),
        latest_day=latest,
    )
