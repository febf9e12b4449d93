"""The original system's schedule read from its JSON: values, and errors in DRF's shapes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from schemas.legacy import is_legacy, may_be_legacy, parse_schedule, wire_id


def body(**changes: Any) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "electric_vehicle": 7,
        "mode": "hwh",
        "charge_percent": 35.5,
        "trip_percent": 20.0,
    }
    doc["point_schedules"] = [
        {"point": 3, "arrival_time": "2026-11-26T00:00:00", "departure_time": "2026-11-26T07:00"},
        {
            "point": "W-5",
            "arrival_time": "2026-11-26T08:00:00Z",
            "departure_time": "2026-11-26 16:00",
        },
    ]
    doc.update(changes)
    return doc


def test_numeric_ids_are_their_decimal_text_and_times_keep_what_was_given():
    schedule, errors = parse_schedule(body())
    assert errors == {} and schedule is not None
    assert schedule.electric_vehicle == "7" and schedule.mode == "hwh"
    assert (schedule.charge_percent, schedule.trip_percent) == (35.5, 20.0)
    home, work = schedule.point_schedules
    assert (home.point, work.point) == ("3", "W-5")
    assert home.arrival_time == datetime(2026, 11, 26) and home.arrival_time.tzinfo is None
    assert work.arrival_time == datetime(2026, 11, 26, 8, tzinfo=UTC)
    assert work.departure_time == datetime(2026, 11, 26, 16)


def test_the_original_format_is_told_apart_from_a_plan_by_its_fields():
    assert is_legacy(body())
    assert is_legacy({"point_schedules": []})
    assert not is_legacy({**body(), "plan_id": "6f1c2a52-8a55-4c8e-9f43-5d0c5a1b7e10"})
    assert not is_legacy({"vehicle_id": "V1"}) and not is_legacy([body()])
    assert may_be_legacy(b'{"electric_vehicle": 1}') and not may_be_legacy(b'{"vehicle_id":1}')


def test_missing_null_and_mistyped_fields_get_drfs_words():
    doc = body(mode="hww", charge_percent="35", trip_percent=None)
    del doc["electric_vehicle"]
    schedule, errors = parse_schedule(doc)
    assert schedule is None
    assert errors == {
        "electric_vehicle": ["This field is required."],
        "mode": ['"hww" is not a valid choice.'],
        "charge_percent": ["A valid number is required."],
        "trip_percent": ["This field may not be null."],
    }


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (1.5, "Incorrect type. Expected pk value, received float."),
        (True, "Incorrect type. Expected pk value, received bool."),
        (-1, 'Invalid pk "-1" - object does not exist.'),
        ("", "Ids are 1 to 64 characters without control characters."),
        ("x" * 65, "Ids are 1 to 64 characters without control characters."),
    ],
)
def test_ids_that_cannot_be_registry_ids_are_refused(value, message):
    assert parse_schedule(body(electric_vehicle=value))[1] == {"electric_vehicle": [message]}


@pytest.mark.parametrize("mode", [{}, [], 2, "HWH"])
def test_a_mode_of_any_other_value_or_type_is_not_a_choice(mode):
    assert parse_schedule(body(mode=mode))[1] == {"mode": [f'"{mode}" is not a valid choice.']}


def test_percentages_lie_within_0_and_100_and_a_trip_beyond_the_battery_says_so():
    _, errors = parse_schedule(body(charge_percent=100.5, trip_percent=120))
    assert errors == {
        "charge_percent": ["Ensure this value is less than or equal to 100."],
        "trip_percent": [
            "Ensure this value is less than or equal to 100: a trip of 120% of the battery "
            "needs more than the whole battery."
        ],
    }
    _, errors = parse_schedule(body(charge_percent=-0.1, trip_percent=-3))
    assert errors == {
        "charge_percent": ["Ensure this value is greater than or equal to 0."],
        "trip_percent": ["Ensure this value is greater than or equal to 0."],
    }


def test_point_schedule_errors_are_nested_per_item():
    items = [
        {"point": 3, "arrival_time": "2026-11-26T00:00:00", "departure_time": "2026-11-26T07"},
        "home",
        {"arrival_time": 1764115200, "departure_time": "2026-02-30T08:00:00"},
    ]
    _, errors = parse_schedule(body(point_schedules=items))
    wrong = [
        "Datetime has wrong format. Use one of these formats instead: "
        "YYYY-MM-DDThh:mm[:ss[.uuuuuu]][+HH:MM|-HH:MM|Z]."
    ]
    assert errors == {
        "point_schedules": [
            {"departure_time": wrong},
            {"non_field_errors": ["Invalid data. Expected a dictionary, but got str."]},
            {"point": ["This field is required."], "arrival_time": wrong, "departure_time": wrong},
        ]
    }


def test_point_schedules_must_be_a_short_non_empty_list():
    assert parse_schedule(body(point_schedules={}))[1] == {
        "point_schedules": ['Expected a list of items but got type "dict".']
    }
    assert parse_schedule(body(point_schedules=[]))[1] == {
        "point_schedules": ["This list may not be empty."]
    }
    four = body()["point_schedules"] * 2
    assert parse_schedule(body(point_schedules=four))[1] == {
        "point_schedules": ["At most 3 point schedules (hwh)."]
    }


def test_times_outside_the_supported_years_are_refused_before_any_arithmetic():
    items = [{"point": 3, "arrival_time": "0001-01-01T00:00", "departure_time": "9999-12-31T23:59"}]
    _, errors = parse_schedule(body(point_schedules=items))
    years = ["Times lie in the years 2000 to 2999."]
    assert errors == {"point_schedules": [{"arrival_time": years, "departure_time": years}]}


def test_offsets_are_read_as_written():
    items = [
        {
            "point": 3,
            "arrival_time": "2026-11-26T07:00+01:00",
            "departure_time": "2026-11-26T08:00-05:30",
        }
    ]
    schedule, _ = parse_schedule(body(point_schedules=items))
    assert schedule is not None
    departure = schedule.point_schedules[0].departure_time
    assert departure.utcoffset() == -timedelta(hours=5, minutes=30)


def test_registry_ids_are_shown_as_the_original_wrote_them():
    assert wire_id("7") == 7 and wire_id("0") == 0
    assert wire_id("007") == "007" and wire_id("V001") == "V001"
    assert wire_id(str(2**63)) == str(2**63)
