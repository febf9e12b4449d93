"""One injectable clock (DESIGN §3) so tests and the demo can run a market day in seconds.

`Clock.now()` returns aware UTC datetimes. Modes:
- real: speed 1, start None -> the wall clock;
- accelerated: speed k > 0 from `start` -> start + k x (elapsed wall time);
- fixed: speed 0 -> always `start` (tests move it with `advance` / `set`).

Several processes agree on an accelerated clock when they share the anchor: the wall-clock
instant at which the clock read `start` (`CHARGEFLOW_CLOCK_ANCHOR`; `chargeflow up` sets it
for the services it starts). Without an anchor, the clock reads `start` when it is created.
"""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime, timedelta

from services.common.settings import CommonSettings


class Clock:
    def __init__(
        self, start: datetime | None = None, speed: float = 1.0, anchor: datetime | None = None
    ) -> None:
        if any(t is not None and t.tzinfo is None for t in (start, anchor)):
            raise ValueError("clock start and anchor must be timezone-aware")
        if speed < 0:
            raise ValueError("clock speed must be >= 0")
        self.speed = speed
        self._origin = (start or datetime.now(UTC)).astimezone(UTC)
        self._wall0 = time.monotonic()
        if anchor is not None:
            # Shift the monotonic origin back by the wall time already elapsed since the anchor.
            self._wall0 -= (datetime.now(UTC) - anchor).total_seconds()

    @classmethod
    def from_settings(cls, settings: CommonSettings) -> Clock:
        return cls(
            start=settings.clock_start, speed=settings.clock_speed, anchor=settings.clock_anchor
        )

    @classmethod
    def fixed(cls, at: datetime) -> Clock:
        return cls(start=at, speed=0.0)

    def now(self) -> datetime:
        elapsed = time.monotonic() - self._wall0
        return self._origin + timedelta(seconds=elapsed * self.speed)

    def set(self, at: datetime) -> None:
        """Jump to `at` (aware) and keep running at the same speed from there."""
        if at.tzinfo is None:
            raise ValueError("clock time must be timezone-aware")
        self._origin = at.astimezone(UTC)
        self._wall0 = time.monotonic()

    def advance(self, delta: timedelta) -> None:
        self.set(self.now() + delta)

    def wall_seconds_until(self, at: datetime) -> float:
        """Wall-clock seconds until clock time `at` (inf when the clock is frozen before it)."""
        remaining = (at - self.now()).total_seconds()
        if remaining <= 0:
            return 0.0
        return float("inf") if self.speed == 0 else remaining / self.speed

    async def sleep_until(self, at: datetime, poll: float = 0.5) -> None:
        """Sleep until clock time `at`; polls so that `set`/`advance` take effect."""
        # Polling, not an Event: set()/advance() must shorten a sleep already in progress.
        while (wait := self.wall_seconds_until(at)) > 0:  # noqa: ASYNC110
            await asyncio.sleep(min(wait, poll))
