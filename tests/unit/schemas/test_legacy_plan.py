"""Percentages -> plan, with expectations computed by hand (the README's worked example).

Vehicle "7": battery 60 kWh, 11 kW. Points "3" (home) and "5" (work), 11 kW usable at
both. Day 2026-11-26 in Europe/Warsaw (+01:00). charge_percent 35.5 -> 21.3 kWh on arrival
at the first point; trip_percent 20 -> 12 kWh per drive.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from typing import Any
from uuid import UUID

import pytest

from schemas.default_bid import BidPrices
from schemas.legacy import LegacySchedule, PointSchedule
from schemas.legacy_plan import LegacyFacts, legacy_loc, to_plan
from schemas.network import ChargingPoint, Node, Vehicle
from schemas.validation import ValidationContext, validate_plan

PLAN_ID = UUID("6f1c2a52-8a55-4c8e-9f43-5d0c5a1b7e10")
DAY = date(2026, 11, 26)
CET = timezone(timedelta(hours=1))


def at(hhmm: str, day: date = DAY) -> datetime:
    """A wall time on ``day`` without offset, as the original clients send them."""
    return datetime.fromisoformat(f"{day.isoformat()}T{hhmm}")


def hwh(*times: str, charge: float = 35.5, trip: float = 20.0) -> LegacySchedule:
    points = ["3", "5", "3"]
    pairs = list(zip(times[::2], times[1::2], strict=True))
    items = tuple(PointSchedule(points[i], at(a), at(d)) for i, (a, d) in enumerate(pairs))
    mode = "hwh" if len(items) != 2 else "hh"
    return LegacySchedule("7", mode, charge, trip, items)


DAY_LONG = ("00:00", "07:00", "08:00", "16:00", "17:00", "23:00")


def facts(**changes: Any) -> LegacyFacts:
    values: dict[str, Any] = {
        "market_area": "PL",
        "timezone": "Europe/Warsaw",
        "delivery_day": DAY,
        "battery_kwh": 60.0,
        "min_charge_kwh": None,
        "powers_kw": {"3": 11.0, "5": 11.0},
        "prices": BidPrices(3000.0, 150.0),
    }
    values.update(changes)
    return LegacyFacts(**values)


def bid_of(converted: Any) -> list[tuple[float, float]]:
    return [(s.energy_kwh, s.price_eur_mwh) for s in converted.plan.bid]


def test_hwh_worked_example():
    converted, errors = to_plan(hwh(*DAY_LONG), facts(), PLAN_ID, 12)
    assert errors == {} and converted is not None
    plan = converted.plan
    assert (plan.plan_id, plan.revision, plan.vehicle_id) == (PLAN_ID, 12, "7")
    assert (plan.market_area, plan.delivery_day, plan.initial_soc_kwh) == ("PL", DAY, 21.3)
    assert [s.charging_point_id for s in plan.stops] == ["3", "5", "3"]
    assert [s.trip_kwh_after for s in plan.stops] == [12.0, 12.0, 0.0]
    assert plan.stops[0].arrival == datetime(2026, 11, 26, 0, 0, tzinfo=CET)
    assert plan.stops[2].departure.isoformat() == "2026-11-26T23:00:00+01:00"
    # must-have: trips 24 - 21.3 on board = 2.7 kWh; top-up: to full at the last departure,
    # 60 - 21.3 + 24 (both drives before the last stop) = 62.7 in all, 60.0 after the 2.7.
    assert bid_of(converted) == [(2.7, 3000.0), (60.0, 150.0)]
    assert converted.bid.chargeable_kwh == pytest.approx(62.7)


def test_the_vehicles_minimum_charge_moves_energy_into_the_must_have_step():
    converted, _ = to_plan(hwh(*DAY_LONG), facts(min_charge_kwh=6.0), PLAN_ID, 1)
    # must-have 24 + 6 - 21.3 = 8.7; the total (to a full battery) stays 62.7
    assert bid_of(converted) == [(8.7, 3000.0), (54.0, 150.0)]


def test_short_stops_cap_the_bid_at_what_they_can_deliver():
    short = hwh("06:00", "07:00", "08:00", "09:00", "20:00", "21:00")
    converted, _ = to_plan(short, facts(), PLAN_ID, 1)
    # 1 h x 11 kW at each stop, never full: 33 kWh in all, 2.7 must-have, 30.3 top-up
    assert bid_of(converted) == [(2.7, 3000.0), (30.3, 150.0)]


def test_hh_has_one_drive_and_a_full_battery_only_tops_up_after_it():
    home = LegacySchedule(
        "7",
        "hh",
        100.0,
        20.0,
        (
            PointSchedule("3", at("00:00"), at("07:00")),
            PointSchedule("3", at("18:00"), at("23:00")),
        ),
    )
    converted, errors = to_plan(home, facts(), PLAN_ID, 1)
    assert errors == {} and converted is not None
    assert [s.trip_kwh_after for s in converted.plan.stops] == [12.0, 0.0]
    assert bid_of(converted) == [(12.0, 150.0)]  # 60 on board covers the 12: no must-have


def test_a_full_battery_without_trips_has_nothing_to_charge():
    converted, errors = to_plan(hwh(*DAY_LONG, charge=100.0, trip=0.0), facts(), PLAN_ID, 1)
    assert converted is None
    assert errors == {
        "charge_percent": [
            "The battery is already full (100%) and the trips use 0%: there is nothing to charge."
        ]
    }


def test_a_trip_and_the_minimum_charge_beyond_the_battery_is_refused():
    converted, errors = to_plan(hwh(*DAY_LONG, trip=95.0), facts(min_charge_kwh=6.0), PLAN_ID, 1)
    assert converted is None
    assert errors == {
        "trip_percent": [
            "A trip of 95% (57 kWh) and the vehicle's minimum charge of 6 kWh exceed its "
            "battery of 60 kWh."
        ]
    }


@pytest.mark.parametrize(("mode", "count"), [("hh", 3), ("hwh", 2)])
def test_each_mode_needs_its_number_of_point_schedules(mode, count):
    items = hwh(*DAY_LONG).point_schedules[:count]
    schedule = LegacySchedule("7", mode, 35.5, 20.0, items)
    converted, errors = to_plan(schedule, facts(), PLAN_ID, 1)
    name = {"hh": "home-home", "hwh": "home-work-home"}[mode]
    want = {"hh": 2, "hwh": 3}[mode]
    assert converted is None
    assert errors == {
        "non_field_errors": [
            f'Mode "{mode}" ({name}) needs exactly {want} point schedules, got {count}.'
        ]
    }


def test_overlapping_and_out_of_day_times_are_named_per_point_schedule():
    schedule = hwh("00:00", "08:30", "08:00", "16:00", "17:00", "23:00")
    late = PointSchedule("3", at("17:00"), at("07:00", date(2026, 11, 27)))
    schedule = LegacySchedule("7", "hwh", 35.5, 20.0, (*schedule.point_schedules[:2], late))
    converted, errors = to_plan(schedule, facts(), PLAN_ID, 1)
    day = (
        "the delivery day 2026-11-26 (the next day open for plans: "
        "2026-11-26T00:00:00+01:00 to 2026-11-27T00:00:00+01:00)"
    )
    assert converted is None
    assert errors == {
        "point_schedules": [
            {},
            {
                "arrival_time": [
                    "Arrival 2026-11-26T08:00:00+01:00 is before the departure from "
                    "point_schedules[0] at 2026-11-26T08:30:00+01:00: the vehicle cannot be "
                    "at two points at once."
                ]
            },
            {"departure_time": [f"2026-11-27T07:00:00+01:00 is outside {day}."]},
        ]
    }


def test_a_departure_before_its_arrival_is_refused():
    schedule = hwh("07:00", "06:00", "08:00", "16:00", "17:00", "23:00")
    _, errors = to_plan(schedule, facts(), PLAN_ID, 1)
    assert errors["point_schedules"][0] == {
        "departure_time": [
            "Departure 2026-11-26T06:00:00+01:00 must be after arrival 2026-11-26T07:00:00+01:00."
        ]
    }


def test_offset_less_times_on_an_autumn_change_day_read_as_the_first_occurrence():
    autumn = date(2026, 10, 25)  # Warsaw: 03:00 CEST -> 02:00 CET
    items = (
        PointSchedule("3", at("00:00", autumn), at("02:30", autumn)),
        PointSchedule("3", at("20:00", autumn), at("23:00", autumn)),
    )
    schedule = LegacySchedule("7", "hh", 50.0, 10.0, items)
    converted, errors = to_plan(schedule, facts(delivery_day=autumn), PLAN_ID, 1)
    assert errors == {} and converted is not None
    assert converted.plan.stops[0].departure.utcoffset() == timedelta(hours=2)


def test_prices_are_clamped_to_the_area_limits_and_never_increase():
    assert BidPrices.within(5000.0, 150.0, -500.0, 4000.0) == BidPrices(4000.0, 150.0)
    assert BidPrices.within(100.0, 150.0, -500.0, 4000.0) == BidPrices(100.0, 100.0)
    assert BidPrices.within(-900.0, -800.0, -500.0, 4000.0) == BidPrices(-500.0, -500.0)


def test_every_converted_plan_passes_the_plan_validator():
    ctx = ValidationContext.build(
        vehicles=[Vehicle(id="7", battery_kwh=60.0, max_power_kw=11.0)],
        nodes=[Node(id="N1", capacity_kw=400.0)],
        charging_points=[
            ChargingPoint(id="3", node_id="N1", max_power_kw=22.0),
            ChargingPoint(id="5", node_id="N1", max_power_kw=11.0),
        ],
        market_area="PL",
    )
    for times in (DAY_LONG, ("06:00", "07:00", "08:00", "09:00", "20:00", "21:00")):
        for charge in (0.0, 35.5, 99.9, 100.0):
            for trip in (0.5, 20.0, 90.0):
                converted, errors = to_plan(
                    hwh(*times, charge=charge, trip=trip), facts(), PLAN_ID, 1
                )
                assert converted is not None, errors
                assert validate_plan(converted.plan, ctx) == [], (times, charge, trip)


def test_plan_field_paths_are_told_in_the_originals_words():
    assert legacy_loc("stops[1].arrival") == "point_schedules[1].arrival_time"
    assert legacy_loc("stops[0].charging_point_id") == "point_schedules[0].point"
    assert legacy_loc("initial_soc_kwh") == "charge_percent"
