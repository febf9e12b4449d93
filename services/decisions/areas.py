"""The market areas' timezones, read from the registry and kept for a while, to tell the
next delivery day (services/decisions/days.py) without a query per request."""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable
from datetime import date, tzinfo

import asyncpg

from schemas.market_day import DEFAULT_TIMEZONE, zone
from services.common.clock import Clock
from services.decisions.days import next_delivery_day

log = logging.getLogger(__name__)

ZONES = "SELECT DISTINCT timezone FROM market_areas ORDER BY timezone"


class AreaZones:
    """Timezones of the registered areas (the default one when there is none), re-read
    after ``ttl_s``: a new area's timezone counts within that time."""

    def __init__(
        self,
        load: Callable[[], Awaitable[list[str]]],
        clock: Clock,
        ttl_s: float = 60.0,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._load = load
        self._clock = clock
        self.ttl_s = ttl_s
        self._monotonic = monotonic
        self._zones: list[tzinfo] = []
        self._expires = float("-inf")

    @classmethod
    def of(cls, pool: asyncpg.Pool, clock: Clock, ttl_s: float = 60.0) -> AreaZones:
        async def load() -> list[str]:
            return [r["timezone"] for r in await pool.fetch(ZONES)]

        return cls(load, clock, ttl_s)

    async def zones(self) -> list[tzinfo]:
        if self._monotonic() >= self._expires:
            known: list[tzinfo] = []
            for name in await self._load():
                try:
                    known.append(zone(name))
                except ValueError:
                    log.warning("market area timezone %r is unknown; ignored", name)
            self._zones = known or [zone(DEFAULT_TIMEZONE)]
            self._expires = self._monotonic() + self.ttl_s
        return self._zones

    async def next_day(self) -> date:
        """The next delivery day at the service clock's now."""
        return next_delivery_day(self._clock.now(), await self.zones())
