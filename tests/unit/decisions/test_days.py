"""Which days a request covers: the next delivery day, history ranges, paging bounds."""

from __future__ import annotations

import re
import uuid
from datetime import UTC, date, datetime, timedelta

import pytest

from schemas.market_day import zone
from services.common.clock import Clock
from services.decisions.areas import AreaZones
from services.decisions.days import MAX_RANGE_DAYS, BadRange, DayRange, day_range, next_delivery_day
from services.decisions.paging import (
    CURSOR_PATTERN,
    NIL,
    Bound,
    Cursor,
    bounds,
    cursor_after,
    decode_cursor,
    encode_cursor,
)

WARSAW, LISBON, TOKYO = zone("Europe/Warsaw"), zone("Europe/Lisbon"), zone("Asia/Tokyo")
D = date(2026, 11, 26)
PLAN = uuid.UUID("12345678-1234-4234-8234-123456789abc")


def test_the_next_delivery_day_is_tomorrow_in_the_areas_local_time():
    # 22:30 UTC on the 25th is 23:30 in Warsaw (winter): tomorrow is the 26th
    assert next_delivery_day(datetime(2026, 11, 25, 22, 30, tzinfo=UTC), [WARSAW]) == D
    # 23:30 UTC is already 00:30 on the 26th in Warsaw: tomorrow is the 27th
    late = datetime(2026, 11, 25, 23, 30, tzinfo=UTC)
    assert next_delivery_day(late, [WARSAW]) == D + timedelta(1)


def test_areas_that_disagree_around_midnight_give_the_earliest_tomorrow():
    now = datetime(2026, 11, 25, 23, 30, tzinfo=UTC)  # Lisbon 23:30 (25th), Warsaw 00:30 (26th)
    assert next_delivery_day(now, [WARSAW, LISBON]) == D
    assert next_delivery_day(now, [TOKYO, WARSAW]) == D + timedelta(1)
    with pytest.raises(ValueError, match="no timezone"):
        next_delivery_day(now, [])


def test_a_single_day_or_by_default_the_next_one():
    assert day_range(D, None, None, D + timedelta(9)) == DayRange(D, D, single=True)
    assert day_range(None, None, None, D) == DayRange(D, D, single=True)


def test_from_and_to_give_a_bounded_history():
    r = day_range(None, date(2026, 11, 1), date(2026, 11, 30), D)
    assert (r.first, r.last, r.single, r.days) == (date(2026, 11, 1), date(2026, 11, 30), False, 30)
    # one of them alone reaches the longest range on its side
    assert day_range(None, D, None, D).last == D + timedelta(MAX_RANGE_DAYS - 1)
    assert day_range(None, None, D, D).first == D - timedelta(MAX_RANGE_DAYS - 1)
    assert day_range(None, None, D, D).days == MAX_RANGE_DAYS
    # ... within the calendar
    assert day_range(None, date.max - timedelta(3), None, D).last == date.max
    assert day_range(None, None, date.min + timedelta(3), D).first == date.min


def test_bad_day_combinations_name_the_parameter_and_the_reason():
    with pytest.raises(BadRange, match="either delivery_day or from/to") as exc:
        day_range(D, D, None, D)
    assert exc.value.loc == "from"
    with pytest.raises(BadRange, match="either delivery_day or from/to") as exc:
        day_range(D, None, D, D)
    assert exc.value.loc == "to"
    with pytest.raises(BadRange, match=r"to \(2026-11-25\) is before from \(2026-11-26\)") as exc:
        day_range(None, D, D - timedelta(1), D)
    assert exc.value.loc == "to"
    with pytest.raises(BadRange, match="at most 366 days") as exc:
        day_range(None, D, D + timedelta(MAX_RANGE_DAYS), D)
    assert exc.value.loc == "to"
    assert day_range(None, D, D + timedelta(MAX_RANGE_DAYS - 1), D).days == MAX_RANGE_DAYS


def test_cursors_round_trip_and_match_their_published_pattern():
    cursor = Cursor(365, 1, "V:with:colons", PLAN)
    text = encode_cursor(cursor)
    assert re.match(CURSOR_PATTERN, text)
    assert decode_cursor(text) == cursor
    assert cursor_after(D, D + timedelta(3), 0, "V1", PLAN) == Cursor(3, 0, "V1", PLAN)


def test_paging_bounds_resume_after_the_last_item_of_a_page():
    last = D + timedelta(10)
    start = Bound(D, "", NIL)
    assert bounds(D, last, None) == (start, start)
    day3 = D + timedelta(3)
    # after a decided plan of day 3: decided ones after it, then every undecided one of day 3
    assert bounds(D, last, Cursor(3, 0, "V1", PLAN)) == (
        Bound(day3, "V1", PLAN),
        Bound(day3, "", NIL),
    )
    # after an undecided plan of day 3: decided ones from day 4, undecided ones after it
    assert bounds(D, last, Cursor(3, 1, "V1", PLAN)) == (
        Bound(day3 + timedelta(1), "", NIL),
        Bound(day3, "V1", PLAN),
    )
    # ... on the last day no decided plan is left
    assert bounds(D, last, Cursor(10, 1, "V1", PLAN)) == (None, Bound(last, "V1", PLAN))
    # an offset beyond the request's days: nothing left
    assert bounds(D, last, Cursor(11, 0, "V1", PLAN)) == (None, None)
    assert bounds(D, D, Cursor(999, 0, "V1", PLAN)) == (None, None)


async def test_area_zones_are_read_again_after_their_ttl_and_default_to_warsaw():
    loaded: list[list[str]] = [[], ["Europe/Lisbon", "Mars/Olympus"]]
    calls = 0

    async def load() -> list[str]:
        nonlocal calls
        calls += 1
        return loaded[min(calls, len(loaded)) - 1]

    ticks = [0.0]
    clock = Clock.fixed(datetime(2026, 11, 25, 23, 30, tzinfo=UTC))
    zones = AreaZones(load, clock, ttl_s=60, monotonic=lambda: ticks[0])
    assert await zones.zones() == [WARSAW]  # no area registered: the default timezone
    assert await zones.next_day() == D + timedelta(1)  # 00:30 in Warsaw
    ticks[0] = 59.0
    assert await zones.zones() == [WARSAW] and calls == 1  # kept for the TTL
    ticks[0] = 60.0
    assert await zones.zones() == [LISBON] and calls == 2  # an unknown timezone is skipped
    assert await zones.next_day() == D  # 23:30 in Lisbon
