"""Pure time helpers for market days (DESIGN §3). No I/O, no clock: pass instants in.

A delivery day D runs from 00:00 local on D to 00:00 local on D+1 in the market area's
timezone, so it has 23, 24 or 25 hours around DST changes. MTUs are counted in that
local day; their starts are returned as aware datetimes in the area's timezone (with the
correct offset on each side of a DST change). Arithmetic is done in UTC, so the repeated
hour of an autumn change yields distinct MTUs.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta, tzinfo
from functools import lru_cache
from typing import Final
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

DEFAULT_TIMEZONE = "Europe/Warsaw"
DEFAULT_MTU_MINUTES: Final = 60
DEFAULT_GATE_CLOSURE = time(12, 0)
MTU_CHOICES = (15, 60)  # DESIGN §3


@lru_cache(maxsize=64)
def zone(name: str) -> ZoneInfo:
    """The ZoneInfo for an IANA name; ValueError with a clear message when unknown."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError(f"unknown timezone {name!r}") from exc


def _tz(tz: str | tzinfo) -> tzinfo:
    return zone(tz) if isinstance(tz, str) else tz


def day_bounds(day: date, tz: str | tzinfo) -> tuple[datetime, datetime]:
    """[start, end) of the local delivery day: local midnight of ``day`` and of ``day + 1``."""
    z = _tz(tz)
    start = datetime.combine(day, time(0), tzinfo=z)
    end = datetime.combine(day + timedelta(days=1), time(0), tzinfo=z)
    return start, end


def day_length(day: date, tz: str | tzinfo) -> timedelta:
    """Real duration of the local day: 23, 24 or 25 hours in Europe."""
    start, end = day_bounds(day, tz)
    return end.astimezone(UTC) - start.astimezone(UTC)


def _check_mtu(mtu_minutes: int) -> None:
    if mtu_minutes not in MTU_CHOICES:
        raise ValueError(f"mtu_minutes must be one of {MTU_CHOICES}, got {mtu_minutes}")


def mtu_count(day: date, tz: str | tzinfo, mtu_minutes: int = DEFAULT_MTU_MINUTES) -> int:
    """Number of MTUs in the delivery day (e.g. 23, 24, 25 or 92, 96, 100)."""
    _check_mtu(mtu_minutes)
    return int(day_length(day, tz) // timedelta(minutes=mtu_minutes))


def mtu_starts(
    day: date, tz: str | tzinfo, mtu_minutes: int = DEFAULT_MTU_MINUTES
) -> list[datetime]:
    """Start of every MTU of the local delivery day, aware, in the area's timezone."""
    z = _tz(tz)
    start, _ = day_bounds(day, z)
    first = start.astimezone(UTC)
    step = timedelta(minutes=mtu_minutes)
    return [(first + i * step).astimezone(z) for i in range(mtu_count(day, z, mtu_minutes))]


def mtu_index(instant: datetime, day: date, tz: str | tzinfo, mtu_minutes: int) -> int | None:
    """Index of the MTU of ``day`` containing the aware ``instant``; None if outside the day."""
    if instant.tzinfo is None:
        raise ValueError("naive datetime: timestamps need an offset")
    start, end = (t.astimezone(UTC) for t in day_bounds(day, tz))
    at = instant.astimezone(UTC)  # same-tzinfo arithmetic would ignore DST folds
    if not start <= at < end:
        return None
    return int((at - start) // timedelta(minutes=mtu_minutes))


def gate_closure(
    day: date,
    tz: str | tzinfo,
    local_time: time = DEFAULT_GATE_CLOSURE,
    days_before: int = 1,
) -> datetime:
    """Gate closure instant for delivery day ``day``: ``local_time`` on D-``days_before``."""
    if local_time.tzinfo is not None:
        raise ValueError("gate closure local_time is a wall-clock time without tzinfo")
    z = _tz(tz)
    # fold=0: for a wall time repeated by an autumn change, take the first occurrence.
    return datetime.combine(day - timedelta(days=days_before), local_time, tzinfo=z)


def delivery_day_of(instant: datetime, tz: str | tzinfo) -> date:
    """The local calendar day an aware instant falls in."""
    if instant.tzinfo is None:
        raise ValueError("naive datetime: timestamps need an offset")
    return instant.astimezone(_tz(tz)).date()


def next_delivery_day(
    now: datetime,
    tz: str | tzinfo,
    local_time: time = DEFAULT_GATE_CLOSURE,
    days_before: int = 1,
) -> date:
    """The first delivery day whose gate closure is still ahead of ``now``."""
    day = delivery_day_of(now, tz)
    while gate_closure(day, tz, local_time, days_before).astimezone(UTC) <= now:
        day += timedelta(days=1)
    return day
