"""Which delivery days a decisions request is about (pure: pass the instant and zones in).

- **The next delivery day** is tomorrow in the market areas' local time: the day whose
  decisions arrive after today's gate closure (or have arrived). Areas in different
  timezones may disagree for a few hours around midnight; then it is the earliest of their
  tomorrows, the one whose decisions exist or come next in every area.
- **History**: ``from`` and ``to`` (inclusive) select at most ``MAX_RANGE_DAYS`` days; one
  of them alone extends to the longest range on its side.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta, tzinfo

from schemas.market_day import delivery_day_of

MAX_RANGE_DAYS = 366  # a leap year: `to` is at most 365 days after `from`
_SPAN = timedelta(days=MAX_RANGE_DAYS - 1)


class BadRange(ValueError):
    """A bad combination of day parameters; ``loc`` names the parameter to blame."""

    def __init__(self, loc: str, reason: str) -> None:
        super().__init__(reason)
        self.loc = loc
        self.reason = reason


def next_delivery_day(now: datetime, zones: Iterable[tzinfo]) -> date:
    """The earliest of the areas' tomorrows at ``now`` (aware); ``zones`` must not be empty."""
    days = [delivery_day_of(now, z) for z in zones]
    if not days:
        raise ValueError("no timezone to tell the next delivery day by")
    return _plus(min(days), 1)


@dataclass(frozen=True)
class DayRange:
    first: date
    last: date
    single: bool  # one day asked for (delivery_day, or the next day by default)

    @property
    def days(self) -> int:
        return (self.last - self.first).days + 1


def day_range(
    delivery_day: date | None, first: date | None, last: date | None, next_day: date
) -> DayRange:
    """The days of a request: ``delivery_day``, ``from``/``to``, or else the next day."""
    if delivery_day is not None:
        if first is not None or last is not None:
            loc = "from" if first is not None else "to"
            raise BadRange(loc, "give either delivery_day or from/to, not both")
        return DayRange(delivery_day, delivery_day, single=True)
    if first is None and last is None:
        return DayRange(next_day, next_day, single=True)
    if first is None:
        assert last is not None
        first = _minus(last, _SPAN)
    elif last is None:
        last = _plus(first, _SPAN.days)
    if first > last:
        raise BadRange("to", f"to ({last}) is before from ({first})")
    if (last - first) > _SPAN:
        raise BadRange(
            "to", f"at most {MAX_RANGE_DAYS} days of history per request: from {first} to {last} "
            f"is {(last - first).days + 1} days",
        )  # fmt: skip
    return DayRange(first, last, single=False)


def _plus(day: date, days: int) -> date:
    return day + timedelta(days=days) if date.max - day >= timedelta(days=days) else date.max


def _minus(day: date, span: timedelta) -> date:
    return day - span if day - date.min >= span else date.min
