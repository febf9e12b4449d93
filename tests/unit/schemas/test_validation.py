from datetime import UTC, date, datetime, time

import pytest

from schemas import (
    ChargingPoint,
    FieldError,
    Node,
    ValidationContext,
    Vehicle,
    check_plan,
    gate_closure_errors,
)
from schemas import validate_plan as validate

from .factories import context, plan, plan_dict, stop, utc


def reasons(errors: list[FieldError]) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for e in errors:
        out.setdefault(e.loc, []).append(e.reason)
    return out


def test_valid_example_plan_has_no_errors():
    assert validate(plan(), context()) == []


def test_unknown_vehicle_is_rejected():
    errors = validate(plan(vehicle_id="V9"), context())
    assert reasons(errors) == {"vehicle_id": ["unknown vehicle 'V9'"]}


def test_initial_soc_above_battery_is_rejected():
    errors = validate(plan(initial_soc_kwh=70.0), context())
    assert reasons(errors)["initial_soc_kwh"] == [
        "initial state of charge 70 kWh exceeds the battery capacity of 60 kWh"
    ]


@pytest.mark.parametrize(
    ("point", "reason"),
    [
        ("PX", "unknown charging point 'PX'"),
        ("P3", "charging point 'P3' is inactive"),
        ("P4", "charging point 'P4' is in market area 'DE', the plan is for 'PL'"),
    ],
)
def test_charging_point_must_be_known_active_and_in_the_area(point, reason):
    raw = plan_dict(
        stops=[stop(point, "2026-11-25T08:00:00+01:00", "2026-11-25T16:30:00+01:00")],
        bid=[{"energy_kwh": 1.0, "price_eur_mwh": 100.0}],
    )
    errors = reasons(validate(plan(**raw), context()))
    assert errors["stops[0].charging_point_id"] == [reason]


def test_stop_before_the_delivery_day_is_rejected():
    raw = plan_dict(stops=[stop("P1", "2026-11-24T23:00:00+01:00", "2026-11-25T06:00:00+01:00")])
    errors = reasons(validate(plan(**raw), context()))
    assert errors == {
        "stops[0].arrival": [
            "arrival 2026-11-24T23:00:00+01:00 is outside the delivery day 2026-11-25 "
            "(2026-11-25T00:00:00+01:00 to 2026-11-26T00:00:00+01:00)"
        ]
    }


def test_stop_after_the_delivery_day_is_rejected():
    raw = plan_dict(stops=[stop("P1", "2026-11-25T20:00:00+01:00", "2026-11-26T07:00:00+01:00")])
    errors = reasons(validate(plan(**raw), context()))
    assert list(errors) == ["stops[0].departure"]
    assert "outside the delivery day 2026-11-25" in errors["stops[0].departure"][0]


def test_stop_given_in_utc_inside_the_local_day_is_accepted():
    # 2026-11-24T23:30Z is 00:30 local on the 25th
    raw = plan_dict(stops=[stop("P1", "2026-11-24T23:30:00Z", "2026-11-25T05:00:00Z")])
    assert validate(plan(**raw), context()) == []


def test_stop_in_the_25th_hour_of_the_autumn_day_is_inside_the_day():
    raw = plan_dict(
        delivery_day="2026-10-25",
        stops=[stop("P1", "2026-10-25T20:00:00+01:00", "2026-10-26T00:00:00+01:00")],
    )
    assert validate(plan(**raw), context()) == []


def test_stop_past_the_end_of_the_spring_day_is_rejected():
    # the 23-hour day ends at 2026-03-30T00:00+02:00 = 2026-03-29T22:00Z
    raw = plan_dict(
        delivery_day="2026-03-29",
        stops=[stop("P1", "2026-03-29T20:00:00Z", "2026-03-29T22:30:00Z")],
        bid=[{"energy_kwh": 5.0, "price_eur_mwh": 100.0}],
    )
    assert list(reasons(validate(plan(**raw), context()))) == ["stops[0].departure"]


def test_departure_must_follow_arrival():
    raw = plan_dict(stops=[stop("P1", "2026-11-25T10:00:00+01:00", "2026-11-25T09:00:00+01:00")])
    errors = reasons(validate(plan(**raw), context()))
    assert errors["stops[0].departure"] == [
        "departure 2026-11-25T09:00:00+01:00 must be after arrival 2026-11-25T10:00:00+01:00"
    ]


def test_overlapping_stops_are_rejected():
    raw = plan_dict(
        stops=[
            stop("P1", "2026-11-25T08:00:00+01:00", "2026-11-25T12:00:00+01:00"),
            stop("P2", "2026-11-25T11:00:00+01:00", "2026-11-25T18:00:00+01:00"),
        ]
    )
    errors = reasons(validate(plan(**raw), context()))
    assert errors == {
        "stops[1]": ["stops[1] overlaps stops[0]: the vehicle cannot be at two points at once"]
    }


def test_touching_stops_do_not_overlap():
    raw = plan_dict(
        stops=[
            stop("P1", "2026-11-25T08:00:00+01:00", "2026-11-25T12:00:00+01:00", 3.0),
            stop("P2", "2026-11-25T12:00:00+01:00", "2026-11-25T18:00:00+01:00"),
        ]
    )
    assert validate(plan(**raw), context()) == []


def test_stops_out_of_order_are_rejected():
    raw = plan_dict(
        stops=[
            stop("P1", "2026-11-25T14:00:00+01:00", "2026-11-25T18:00:00+01:00"),
            stop("P2", "2026-11-25T08:00:00+01:00", "2026-11-25T12:00:00+01:00"),
        ]
    )
    errors = reasons(validate(plan(**raw), context()))
    assert errors == {
        "stops[1]": [
            "stops[1] is out of order: it arrives before stops[0]; stops must be sorted by arrival"
        ]
    }


def test_overlap_with_an_earlier_non_adjacent_stop_is_found():
    raw = plan_dict(
        stops=[
            stop("P1", "2026-11-25T08:00:00+01:00", "2026-11-25T20:00:00+01:00"),
            stop("P2", "2026-11-25T09:00:00+01:00", "2026-11-25T10:00:00+01:00"),
            stop("P2", "2026-11-25T11:00:00+01:00", "2026-11-25T12:00:00+01:00"),
        ]
    )
    errors = reasons(validate(plan(**raw), context()))
    assert errors["stops[2]"] == [
        "stops[2] overlaps stops[0]: the vehicle cannot be at two points at once"
    ]


def test_energy_beyond_what_the_stops_can_deliver_is_rejected():
    # 4 h at 11 kW (vehicle limit) = 44 kWh
    raw = plan_dict(
        initial_soc_kwh=0.0,
        stops=[stop("P1", "2026-11-25T08:00:00+01:00", "2026-11-25T12:00:00+01:00")],
        bid=[
            {"energy_kwh": 50.0, "price_eur_mwh": 300.0},
            {"energy_kwh": 30.0, "price_eur_mwh": 90},
        ],
    )
    errors = reasons(validate(plan(**raw), context()))
    assert errors == {"bid": ["energy 80 kWh exceeds what the stops can deliver: 44 kWh"]}


def test_deliverable_energy_uses_the_weaker_of_point_and_vehicle():
    # P2 is 3.7 kW: 10 h deliver 37 kWh although the vehicle could take 11 kW
    raw = plan_dict(
        stops=[stop("P2", "2026-11-25T08:00:00+01:00", "2026-11-25T18:00:00+01:00")],
        bid=[{"energy_kwh": 40.0, "price_eur_mwh": 300.0}],
    )
    errors = reasons(validate(plan(**raw), context()))
    assert errors == {"bid": ["energy 40 kWh exceeds what the stops can deliver: 37 kWh"]}


def test_energy_beyond_battery_headroom_is_rejected():
    # battery 60, initial 12: at most 48 kWh fit although the stop could deliver 93.5
    raw = plan_dict(bid=[{"energy_kwh": 50.0, "price_eur_mwh": 300.0}])
    errors = reasons(validate(plan(**raw), context()))
    assert errors == {
        "bid": [
            "energy 50 kWh exceeds what the battery can take along the stops: 48 kWh "
            "(battery 60 kWh, initial state of charge 12 kWh)"
        ]
    }


def test_trips_between_stops_free_battery_headroom():
    # 48 kWh at the first stop fill the battery, the 20 kWh trip frees room for 20 more
    stops = [
        stop("P1", "2026-11-25T06:00:00+01:00", "2026-11-25T12:00:00+01:00", 20.0),
        stop("P1", "2026-11-25T14:00:00+01:00", "2026-11-25T20:00:00+01:00"),
    ]
    ok = plan_dict(stops=stops, bid=[{"energy_kwh": 68.0, "price_eur_mwh": 300.0}])
    too_much = plan_dict(stops=stops, bid=[{"energy_kwh": 69.0, "price_eur_mwh": 300.0}])
    assert validate(plan(**ok), context()) == []
    assert "battery can take along the stops: 68 kWh" in str(validate(plan(**too_much), context()))


def test_bid_price_outside_the_limits_is_rejected():
    raw = plan_dict(
        bid=[
            {"energy_kwh": 5.0, "price_eur_mwh": 4000.5},
            {"energy_kwh": 5.0, "price_eur_mwh": -501},
        ]
    )
    errors = reasons(validate(plan(**raw), context()))
    assert errors["bid[0].price_eur_mwh"] == [
        "price 4000.5 EUR/MWh is outside the limits -500 … 4000 EUR/MWh"
    ]
    assert errors["bid[1].price_eur_mwh"] == [
        "price -501 EUR/MWh is outside the limits -500 … 4000 EUR/MWh"
    ]


def test_prices_at_the_limits_are_accepted():
    raw = plan_dict(
        bid=[
            {"energy_kwh": 5.0, "price_eur_mwh": 4000.0},
            {"energy_kwh": 5.0, "price_eur_mwh": -500},
        ]
    )
    assert validate(plan(**raw), context()) == []


def test_price_limits_come_from_the_context():
    raw = plan_dict(bid=[{"energy_kwh": 5.0, "price_eur_mwh": 600.0}])
    errors = validate(plan(**raw), context(price_max_eur_mwh=500.0))
    assert reasons(errors)["bid[0].price_eur_mwh"][0].endswith("-500 … 500 EUR/MWh")


def test_bid_steps_with_rising_prices_are_rejected():
    raw = plan_dict(
        bid=[
            {"energy_kwh": 5.0, "price_eur_mwh": 150.0},
            {"energy_kwh": 5.0, "price_eur_mwh": 150.0},
            {"energy_kwh": 5.0, "price_eur_mwh": 400.0},
        ]
    )
    errors = reasons(validate(plan(**raw), context()))
    assert errors == {
        "bid[2].price_eur_mwh": [
            "bid prices must not increase: 400 EUR/MWh after 150 EUR/MWh in bid[1]"
        ]
    }


def test_plan_after_gate_closure_is_rejected():
    errors = validate(plan(), context(now=utc(2026, 11, 24, 11, 0)))
    assert reasons(errors) == {
        "delivery_day": ["gate closure for 2026-11-25 passed at 2026-11-24T12:00:00+01:00"]
    }


def test_plan_before_gate_closure_is_accepted():
    assert validate(plan(), context(now=utc(2026, 11, 24, 10, 59, 59))) == []


def test_gate_closure_time_comes_from_the_context():
    ctx = context(now=utc(2026, 11, 24, 9, 30), gate_closure_local=time(10, 0))
    assert "passed at 2026-11-24T10:00:00+01:00" in str(validate(plan(), ctx))


def test_all_errors_are_reported_together():
    raw = plan_dict(
        vehicle_id="V9",
        stops=[
            stop("PX", "2026-11-25T10:00:00+01:00", "2026-11-25T09:00:00+01:00"),
            stop("P1", "2026-11-25T08:00:00+01:00", "2026-11-26T02:00:00+01:00"),
        ],
        bid=[
            {"energy_kwh": 5.0, "price_eur_mwh": 10.0},
            {"energy_kwh": 5.0, "price_eur_mwh": 5000},
        ],
    )
    errors = reasons(validate(plan(**raw), context(now=utc(2026, 11, 25, 0, 0))))
    assert set(errors) == {
        "vehicle_id",
        "stops[0].charging_point_id",
        "stops[0].departure",
        "stops[1].departure",
        "stops[1]",
        "bid[1].price_eur_mwh",
        "delivery_day",
    }


def test_check_plan_parses_then_validates():
    plan_, errors = check_plan(plan_dict(initial_soc_kwh=99.0), context())
    assert plan_ is not None and [e.loc for e in errors] == ["initial_soc_kwh"]
    plan_, errors = check_plan(b"{}", context())
    assert plan_ is None and {e.reason for e in errors} == {"field required"}


def test_context_from_auction_config_uses_its_network_and_limits():
    from schemas import AuctionConfig

    config = AuctionConfig(
        market_area="PL",
        price_max_eur_mwh=300.0,
        nodes=[Node(id="N1", capacity_kw=100.0)],
        charging_points=[ChargingPoint(id="P1", node_id="N1", max_power_kw=22.0)],
        vehicles=[Vehicle(id="V1", battery_kwh=60.0, max_power_kw=11.0)],
    )
    ctx = ValidationContext.from_config(config, now=datetime(2026, 11, 1, tzinfo=UTC))
    errors = validate(plan(), ctx)
    assert reasons(errors) == {
        "bid[0].price_eur_mwh": ["price 400 EUR/MWh is outside the limits -500 … 300 EUR/MWh"]
    }


def test_context_rejects_a_naive_now():
    with pytest.raises(ValueError, match="timezone-aware"):
        context(now=datetime(2026, 11, 24, 12, 0))


def test_delivery_day_in_the_plan_drives_the_day_bounds():
    raw = plan_dict(delivery_day=date(2026, 11, 26).isoformat())
    errors = reasons(validate(plan(**raw), context()))
    assert set(errors) == {"stops[0].arrival", "stops[0].departure", "bid"}
    assert errors["bid"] == ["energy 30 kWh exceeds what the stops can deliver: 0 kWh"]


def test_plan_for_another_market_area_is_rejected():
    errors = reasons(validate(plan(market_area="DE"), context()))
    assert errors["market_area"] == ["market area 'DE' is not served here (expected 'PL')"]
    assert errors["stops[0].charging_point_id"] == [
        "charging point 'P1' is in market area 'PL', the plan is for 'DE'"
    ]


def test_gate_closure_errors_serve_cancellations_too():
    assert gate_closure_errors(date(2026, 11, 25), context(now=utc(2026, 11, 24, 10))) == []
    (error,) = gate_closure_errors(date(2026, 11, 25), context(now=utc(2026, 11, 24, 12)))
    assert error.loc == "delivery_day" and "passed at 2026-11-24T12:00:00+01:00" in error.reason


def test_context_rejects_an_unsupported_mtu():
    with pytest.raises(ValueError, match="mtu_minutes"):
        context(mtu_minutes=30)
