import itertools
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from schemas.market_day import (
    day_bounds,
    day_length,
    delivery_day_of,
    gate_closure,
    mtu_count,
    mtu_index,
    mtu_starts,
    next_delivery_day,
)

WAW = "Europe/Warsaw"
SPRING = date(2026, 3, 29)  # 02:00 -> 03:00, 23 h
AUTUMN = date(2026, 10, 25)  # 03:00 -> 02:00, 25 h
NORMAL = date(2026, 11, 25)


@pytest.mark.parametrize(
    ("day", "hours", "mtu", "count"),
    [
        (NORMAL, 24, 60, 24),
        (NORMAL, 24, 15, 96),
        (SPRING, 23, 60, 23),
        (SPRING, 23, 15, 92),
        (AUTUMN, 25, 60, 25),
        (AUTUMN, 25, 15, 100),
    ],
)
def test_mtu_count_follows_the_local_day_length(day, hours, mtu, count):
    assert day_length(day, WAW) == timedelta(hours=hours)
    assert mtu_count(day, WAW, mtu) == count
    assert len(mtu_starts(day, WAW, mtu)) == count


def test_spring_day_skips_the_missing_hour():
    starts = mtu_starts(SPRING, WAW, 60)
    assert [s.isoformat() for s in starts[:4]] == [
        "2026-03-29T00:00:00+01:00",
        "2026-03-29T01:00:00+01:00",
        "2026-03-29T03:00:00+02:00",
        "2026-03-29T04:00:00+02:00",
    ]
    assert starts[-1].isoformat() == "2026-03-29T23:00:00+02:00"


def test_autumn_day_repeats_the_extra_hour_with_distinct_offsets():
    starts = mtu_starts(AUTUMN, WAW, 60)
    assert [s.isoformat() for s in starts[1:5]] == [
        "2026-10-25T01:00:00+02:00",
        "2026-10-25T02:00:00+02:00",
        "2026-10-25T02:00:00+01:00",
        "2026-10-25T03:00:00+01:00",
    ]
    utc_starts = [s.astimezone(UTC) for s in starts]
    assert len(set(utc_starts)) == 25
    assert all(b - a == timedelta(hours=1) for a, b in itertools.pairwise(utc_starts))


def test_quarter_hour_mtus_are_15_minutes_apart_in_real_time():
    starts = [s.astimezone(UTC) for s in mtu_starts(AUTUMN, WAW, 15)]
    assert all(b - a == timedelta(minutes=15) for a, b in itertools.pairwise(starts))
    assert starts[0] == datetime(2026, 10, 24, 22, 0, tzinfo=UTC)
    assert starts[-1] == datetime(2026, 10, 25, 22, 45, tzinfo=UTC)


def test_day_bounds_are_local_midnights():
    start, end = day_bounds(SPRING, WAW)
    assert start.isoformat() == "2026-03-29T00:00:00+01:00"
    assert end.isoformat() == "2026-03-30T00:00:00+02:00"


def test_mtu_index_distinguishes_the_repeated_autumn_hour():
    first = datetime(2026, 10, 25, 0, 30, tzinfo=UTC)  # 02:30+02:00
    second = datetime(2026, 10, 25, 1, 30, tzinfo=UTC)  # 02:30+01:00
    assert mtu_index(first, AUTUMN, WAW, 60) == 2
    assert mtu_index(second, AUTUMN, WAW, 60) == 3
    assert mtu_index(second.astimezone(ZoneInfo(WAW)), AUTUMN, WAW, 60) == 3
    assert mtu_index(datetime(2026, 10, 25, 23, 0, tzinfo=UTC), AUTUMN, WAW, 60) is None


def test_mtu_index_rejects_naive_datetimes():
    with pytest.raises(ValueError, match="naive"):
        mtu_index(datetime(2026, 11, 25, 8), NORMAL, WAW, 60)


def test_gate_closure_is_noon_local_on_the_previous_day():
    assert gate_closure(NORMAL, WAW).isoformat() == "2026-11-24T12:00:00+01:00"
    # D-1 of the autumn day is still summer time
    assert gate_closure(AUTUMN, WAW).isoformat() == "2026-10-24T12:00:00+02:00"
    assert gate_closure(NORMAL, WAW, time(10, 30), 2).isoformat() == "2026-11-23T10:30:00+01:00"


def test_next_delivery_day_moves_past_gate_closure():
    assert next_delivery_day(datetime(2026, 11, 24, 10, 59, tzinfo=UTC), WAW) == NORMAL
    assert next_delivery_day(datetime(2026, 11, 24, 11, 0, tzinfo=UTC), WAW) == date(2026, 11, 26)


def test_delivery_day_of_uses_the_local_calendar():
    assert delivery_day_of(datetime(2026, 11, 24, 23, 30, tzinfo=UTC), WAW) == NORMAL


def test_unknown_timezone_and_mtu_are_rejected():
    with pytest.raises(ValueError, match="unknown timezone"):
        mtu_starts(NORMAL, "Mars/Olympus")
    with pytest.raises(ValueError, match="mtu_minutes"):
        mtu_starts(NORMAL, WAW, 20)
