"""What the gateway reads of the market's topics: the operator's parameters per area
(``auction-config``) and how far the latest delivery day got (``auction-results``)."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date

import msgspec
from pydantic import ValidationError

from schemas.config import AuctionConfig, AuctionParameters

log = logging.getLogger(__name__)

DEFAULTS = AuctionParameters()


class OperatorParameters:
    """The latest ``AuctionConfig.parameters`` per market area; the documented defaults for
    an area without one. An invalid record is skipped (the previous one stays in force)."""

    def __init__(self) -> None:
        self._by_area: dict[str, AuctionParameters] = {}

    def apply(self, value: bytes | None) -> None:
        if value is None:
            return
        try:
            config = AuctionConfig.model_validate_json(value)
        except ValidationError as exc:
            log.error("invalid auction-config record skipped: %s", exc)
            return
        self._by_area[config.market_area] = config.parameters

    def of(self, area: str) -> AuctionParameters:
        return self._by_area.get(area, DEFAULTS)


@dataclass(frozen=True)
class DayReached:
    """The latest delivery day of an area that a clearing run was published for."""

    delivery_day: date
    phase: int  # 1: aggregate bid sent to the market; 2: decisions published
    fallback: bool  # phase 2 ran without a market result


class _Run(msgspec.Struct):
    """The few fields of an AuctionCleared the view needs (the rest is not decoded)."""

    market_area: str
    delivery_day: date
    phase: int
    fallback: bool = False
    what_if: bool = False
    event_type: str = ""


class LatestDays:
    """Per market area, the furthest (day, phase) of the real (not what-if) runs."""

    def __init__(self) -> None:
        self._by_area: dict[str, DayReached] = {}

    def apply(self, value: bytes | None) -> None:
        if value is None:
            return
        try:
            run = msgspec.json.decode(value, type=_Run)
        except (msgspec.DecodeError, msgspec.ValidationError) as exc:
            log.error("unreadable auction-results record skipped: %s", exc)
            return
        if run.what_if or run.event_type != "AuctionCleared" or run.phase not in (1, 2):
            return
        seen = self._by_area.get(run.market_area)
        if seen is None or (run.delivery_day, run.phase) >= (seen.delivery_day, seen.phase):
            self._by_area[run.market_area] = DayReached(run.delivery_day, run.phase, run.fallback)

    def of(self, area: str) -> DayReached | None:
        return self._by_area.get(area)
