"""Allocations → charging windows → the original system's decision (pure conversions)."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest

from schemas.market_day import mtu_starts, zone
from services.decisions.windows import (
    DayDecision,
    Window,
    charging_windows,
    coverage_percent,
    merged_ranges,
    original_decision,
    windows_json,
)

TZ = zone("Europe/Warsaw")
HOUR = timedelta(hours=1)
DAY = date(2026, 11, 26)
H = mtu_starts(DAY, TZ, 60)  # H[i] = i:00 local on DAY


def at(text: str) -> datetime:
    return datetime.fromisoformat(text)


def test_adjacent_mtus_with_energy_merge_into_one_window_per_point():
    slots = [("HOME", H[1], 7.0), ("HOME", H[2], 3.5), ("HOME", H[3], 1.0), ("WORK", H[9], 4.0)]
    windows = charging_windows(slots, HOUR)
    assert windows == [
        Window("HOME", H[1], H[4], 11.5),
        Window("WORK", H[9], H[10], 4.0),
    ]


def test_a_gap_or_an_mtu_without_energy_splits_windows():
    slots = [("P", H[1], 2.0), ("P", H[2], 0.0), ("P", H[3], 2.0), ("P", H[5], 1.0)]
    assert [(w.start, w.end) for w in charging_windows(slots, HOUR)] == [
        (H[1], H[2]),
        (H[3], H[4]),
        (H[5], H[6]),
    ]


def test_windows_of_different_points_are_never_merged_and_come_sorted_by_start():
    slots = [("WORK", H[8], 3.0), ("HOME", H[7], 3.0), ("HOME", H[22], 1.0)]
    windows = charging_windows(slots, HOUR)
    assert [(w.charging_point_id, w.start, w.end) for w in windows] == [
        ("HOME", H[7], H[8]),
        ("WORK", H[8], H[9]),
        ("HOME", H[22], H[23]),
    ]


def test_a_point_and_mtu_given_twice_count_once_with_the_energies_summed():
    windows = charging_windows([("P", H[4], 0.1), ("P", H[4], 0.2), ("P", H[5], 1.0)], HOUR)
    assert windows == [Window("P", H[4], H[6], 1.3)]  # 0.1 + 0.2 + 1.0, rounded to the mWh


def test_spring_dst_day_of_23_hours_merges_across_the_skipped_hour():
    day = date(2026, 3, 29)  # Warsaw: 02:00 CET jumps to 03:00 CEST
    starts = mtu_starts(day, TZ, 60)
    assert len(starts) == 23
    slots = [("P", starts[i], 2.0) for i in (1, 2, 3)]  # 01:00+01, 03:00+02, 04:00+02
    [window] = charging_windows(slots, HOUR)
    assert window.end - window.start == 3 * HOUR
    shown = windows_json([window], TZ)[0]
    assert shown["start"] == "2026-03-29T01:00:00+01:00"
    assert shown["end"] == "2026-03-29T05:00:00+02:00"


def test_autumn_dst_day_of_25_hours_merges_the_repeated_hour():
    day = date(2026, 10, 25)  # Warsaw: 03:00 CEST goes back to 02:00 CET
    starts = mtu_starts(day, TZ, 60)
    assert len(starts) == 25
    slots = [("P", starts[2], 1.0), ("P", starts[3], 1.0)]  # 02:00+02 and 02:00+01
    [window] = charging_windows(slots, HOUR)
    assert window.energy_kwh == 2.0 and window.end - window.start == 2 * HOUR
    shown = windows_json([window], TZ)[0]
    assert shown["start"] == "2026-10-25T02:00:00+02:00"
    assert shown["end"] == "2026-10-25T03:00:00+01:00"


def test_the_last_mtu_of_the_day_ends_at_the_next_local_midnight():
    [window] = charging_windows([("P", H[23], 5.0)], HOUR)
    assert windows_json([window], TZ)[0]["end"] == "2026-11-27T00:00:00+01:00"


def test_partial_mtus_are_clipped_to_the_stop_at_that_point():
    # arrives 17:30, leaves 07:15 next morning is another day: here home 17:30-23:00
    stops = [
        ("HOME", at("2026-11-26T17:30:00+01:00"), at("2026-11-26T22:20:00+01:00")),
        ("WORK", at("2026-11-26T08:00:00+01:00"), at("2026-11-26T16:00:00+01:00")),
    ]
    slots = [("HOME", H[17], 5.5), ("HOME", H[18], 11.0), ("HOME", H[22], 2.0)]
    windows = charging_windows(slots, HOUR, stops)
    assert windows == [
        Window("HOME", at("2026-11-26T17:30:00+01:00"), H[19], 16.5),
        Window("HOME", H[22], at("2026-11-26T22:20:00+01:00"), 2.0),
    ]  # the energy stays the MTUs' (the auction gave them only what the overlap allows)


def test_without_a_stop_at_the_point_a_window_keeps_whole_mtus():
    stops = [("WORK", at("2026-11-26T08:30:00+01:00"), at("2026-11-26T16:00:00+01:00"))]
    assert charging_windows([("HOME", H[8], 3.0)], HOUR, stops) == [Window("HOME", H[8], H[9], 3.0)]


def test_quarter_hour_mtus_merge_by_their_own_length():
    q = mtu_starts(DAY, TZ, 15)
    slots = [("P", q[4], 2.75), ("P", q[5], 2.75), ("P", q[7], 1.0)]
    windows = charging_windows(slots, timedelta(minutes=15))
    assert [(w.start, w.end, w.energy_kwh) for w in windows] == [
        (q[4], q[6], 5.5),
        (q[7], q[8], 1.0),
    ]


def test_bad_inputs_are_refused_with_the_reason():
    with pytest.raises(ValueError, match="naive MTU start"):
        charging_windows([("P", datetime(2026, 11, 26, 1), 1.0)], HOUR)
    with pytest.raises(ValueError, match="MTU length must be positive"):
        charging_windows([("P", H[1], 1.0)], timedelta(0))


def test_ranges_merge_per_point_where_windows_touch_or_overlap_never_across_points():
    windows = [
        Window("HOME", H[1], H[3], 1.0),
        Window("HOME", H[3], H[4], 1.0),  # touches: merged
        Window("HOME", H[2], H[5], 1.0),  # overlaps (another plan of the day): merged
        Window("WORK", H[5], H[6], 1.0),  # adjacent in time, another point: apart
        Window("HOME", H[20], H[21], 1.0),
    ]
    assert merged_ranges(windows) == [(H[1], H[5]), (H[5], H[6]), (H[20], H[21])]


def test_coverage_is_the_accepted_share_of_the_requested_energy_in_percent():
    assert coverage_percent([DayDecision(20.0, 10.5, [])]) == 52.5
    assert coverage_percent([DayDecision(20.0, 10.0, []), DayDecision(10.0, 0.0, [])]) == 33.33
    assert coverage_percent([DayDecision(0.0, 0.0, [])]) == 0.0
    assert coverage_percent([]) == 0.0


def test_the_original_decision_has_coverage_and_ranges_in_the_local_offset():
    first = DayDecision(30.0, 15.0, [Window("HOME", H[1], H[3], 10.0)])
    second = DayDecision(10.0, 10.0, [Window("HOME", H[3], H[4], 5.0)])
    rejected = DayDecision(5.0, 0.0, [])
    assert original_decision([first, second, rejected], TZ) == {
        "coverage": 55.56,
        "schedule_decision_date_ranges": [
            {"start_time": "2026-11-26T01:00:00+01:00", "end_time": "2026-11-26T04:00:00+01:00"}
        ],
    }
    assert original_decision([rejected], TZ) == {
        "coverage": 0.0,
        "schedule_decision_date_ranges": [],
    }
