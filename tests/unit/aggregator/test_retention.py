"""When a day may be forgotten: retention after it is done or after it ended, never before
plans for it are refused as late, never for a day that cannot be represented."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from schemas.market_day import zone
from services.aggregator.retention import forget_at
from services.aggregator.state import DayRecord

TZ = "Europe/Warsaw"
AD = ("PL", date(2026, 11, 26))
WEEK = timedelta(days=7)
CLOSED = datetime(2026, 11, 25, 12, tzinfo=zone(TZ))
LATE_FROM = CLOSED + timedelta(days=3)  # gate closure + lookback 2 + 1 day


def record(status: str, done_at: datetime | None = None) -> DayRecord:
    done = done_at.isoformat() if done_at else None
    return DayRecord(status, CLOSED.isoformat(), CLOSED.isoformat(), "r", done_at=done)  # type: ignore[arg-type]


def test_a_done_day_is_kept_for_the_retention_after_it_was_done() -> None:
    done = CLOSED + timedelta(minutes=30)
    assert forget_at(AD, record("done", done), TZ, LATE_FROM, WEEK) == done + WEEK


def test_a_day_never_done_is_kept_for_the_retention_after_its_delivery_day_ended() -> None:
    end = datetime(2026, 11, 27, tzinfo=zone(TZ))
    assert forget_at(AD, None, TZ, None, WEEK) == end + WEEK
    assert forget_at(AD, record("bid"), TZ, LATE_FROM, WEEK) == end + WEEK


def test_no_day_is_forgotten_while_plans_for_it_would_still_be_stored() -> None:
    done = CLOSED + timedelta(minutes=30)
    assert forget_at(AD, record("done", done), TZ, LATE_FROM, timedelta(0)) == LATE_FROM


def test_a_day_done_before_done_at_was_recorded_counts_from_its_closure() -> None:
    assert forget_at(AD, record("done"), TZ, None, WEEK) == CLOSED + WEEK


def test_a_day_at_the_end_of_the_calendar_is_never_due() -> None:
    assert forget_at(("PL", date.max), None, TZ, None, WEEK) is None
    assert forget_at(("PL", date.max - timedelta(days=2)), None, TZ, None, WEEK) is None
