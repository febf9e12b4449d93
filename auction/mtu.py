"""Market time units of a local delivery day, and how stops overlap them (DESIGN §3).

A delivery day runs from 00:00 local on D to 00:00 local on D+1, so it has 23, 24 or 25
hours around DST changes. MTUs are fixed lengths of absolute time counted from local
midnight; they are never derived from a UTC day.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import numpy as np
import numpy.typing as npt

from schemas.market_day import MTU_CHOICES, day_bounds, mtu_count, zone

ALLOWED_MTU_MINUTES = MTU_CHOICES  # DESIGN §3: 60 or 15 minutes


@dataclass(frozen=True)
class DayGrid:
    """The MTU grid of one local day; times are seconds since the day's local midnight."""

    # Local midnight as a UTC datetime. Python compares and subtracts two datetimes that
    # share one ZoneInfo object by wall clock, ignoring DST; UTC arithmetic is absolute.
    start: datetime
    tz: ZoneInfo
    mtu_seconds: int
    count: int

    @property
    def mtu_hours(self) -> float:
        return self.mtu_seconds / 3600.0

    @property
    def end(self) -> datetime:
        return self.start + timedelta(seconds=self.mtu_seconds * self.count)

    def starts(self) -> list[datetime]:
        """MTU starts as aware local datetimes (offset changes on DST days)."""
        step = timedelta(seconds=self.mtu_seconds)
        return [(self.start + i * step).astimezone(self.tz) for i in range(self.count)]

    def seconds(self, moment: datetime) -> float:
        """Seconds from the day's start to an aware moment (absolute time, DST-safe)."""
        return (moment.astimezone(UTC) - self.start).total_seconds()


def day_grid(day: date, timezone: str, mtu_minutes: int) -> DayGrid:
    """The grid of `day` in `timezone`; raises ValueError on a bad MTU length."""
    tz = zone(timezone)
    start, _ = day_bounds(day, tz)
    count = mtu_count(day, tz, mtu_minutes)  # 23, 24 or 25 h of MTUs; checks the length
    return DayGrid(start=start.astimezone(UTC), tz=tz, mtu_seconds=mtu_minutes * 60, count=count)


def stop_mtu_overlaps(
    arrival_s: npt.NDArray[np.float64],
    departure_s: npt.NDArray[np.float64],
    mtu_seconds: int,
    count: int,
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64], npt.NDArray[np.float64]]:
    """Every (stop, MTU) pair a stop overlaps, with the overlap in hours (pro rata).

    Vectorised: each stop expands to the contiguous MTU range it touches, without a Python
    loop per pair. Pairs with zero overlap (a stop ending exactly on a boundary) are dropped.
    Returns (stop index, MTU index, overlap hours), ordered by stop then MTU.
    """
    a = np.clip(arrival_s, 0.0, mtu_seconds * count)
    d = np.clip(departure_s, 0.0, mtu_seconds * count)
    first = np.floor(a / mtu_seconds).astype(np.int64)
    last = np.ceil(d / mtu_seconds).astype(np.int64) - 1
    n = np.maximum(last - first + 1, 0)
    stop = np.repeat(np.arange(len(a), dtype=np.int64), n)
    offs = np.arange(int(n.sum()), dtype=np.int64) - np.repeat(np.cumsum(n) - n, n)
    t = first[stop] + offs
    lo = np.maximum(a[stop], t * mtu_seconds)
    hi = np.minimum(d[stop], (t + 1) * mtu_seconds)
    hours = (hi - lo) / 3600.0
    keep = hours > 0
    return stop[keep], t[keep], hours[keep]
