"""When the aggregator may forget a day (pure; no I/O).

A day is kept ``retention`` after it is done, or after its delivery day ended (whichever
comes first: a day that never got done, e.g. its area has no auction-config, goes too).
Never before plans for it are refused as late: until gate closure + marker lookback + 1
day a plan for the day would be stored again and the leader could close the day a second
time, a second run for one day.
"""

from __future__ import annotations

from datetime import datetime, time, timedelta

from schemas.market_day import zone
from services.aggregator.state import AreaDay, DayRecord


def delivery_end(area_day: AreaDay, timezone: str) -> datetime | None:
    """00:00 local on the day after; None when not representable (days near date.max)."""
    try:
        return datetime.combine(area_day[1] + timedelta(days=1), time(0), tzinfo=zone(timezone))
    except OverflowError:
        return None


def forget_at(
    area_day: AreaDay,
    record: DayRecord | None,
    timezone: str,
    late_from: datetime | None,
    retention: timedelta,
) -> datetime | None:
    """The clock time from which the day may be forgotten; None: keep it (unrepresentable).

    ``late_from``: when plans for the day start being refused as late (None: not known,
    e.g. without a config: the day is kept until its delivery day ended + retention).
    """
    starts = []
    if record is not None and record.status == "done":
        starts.append(datetime.fromisoformat(record.done_at or record.closed_at))
    end = delivery_end(area_day, timezone)
    if end is not None:
        starts.append(end)
    if not starts:
        return None
    try:
        at = min(starts) + retention
    except OverflowError:
        return None
    return max(at, late_from) if late_from is not None else at
