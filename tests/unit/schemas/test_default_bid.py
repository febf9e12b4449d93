"""The operator's default bid for a plan without one, with hand-computed figures.

Battery 60 kWh; one stop 08:00-16:00 (+01:00) at 11 kW usable = 88 kWh deliverable."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

from schemas.default_bid import BidPrices, default_bid, floor_wh
from schemas.market_day import day_bounds
from schemas.plan import Stop

CET = timezone(timedelta(hours=1))
START, END = day_bounds(date(2026, 11, 26), "Europe/Warsaw")
PRICES = BidPrices(3000.0, 150.0)


def stop(a: int, d: int, trip: float = 0.0, point: str = "P1") -> Stop:
    return Stop(
        charging_point_id=point,
        arrival=datetime(2026, 11, 26, a, tzinfo=CET) if a < 24 else END,
        departure=datetime(2026, 11, 26, d, tzinfo=CET) if d < 24 else END,
        trip_kwh_after=trip,
    )


def steps(bid) -> list[tuple[float, float]]:  # type: ignore[no-untyped-def]
    return [(s.energy_kwh, s.price_eur_mwh) for s in bid.steps]


def test_the_drive_after_the_last_stop_is_must_have_but_frees_no_room():
    low = default_bid([stop(8, 16, trip=6.0)], [11.0], 60.0, 2.0, None, PRICES, START, END)
    # must-have 6 - 2 = 4; to full at departure 60 - 2 = 58, so 54 more at the top-up price
    assert steps(low) == [(4.0, 3000.0), (54.0, 150.0)]
    enough = default_bid([stop(8, 16, trip=6.0)], [11.0], 60.0, 12.0, None, PRICES, START, END)
    assert steps(enough) == [(48.0, 150.0)]  # 12 on board cover the 6: no must-have step


def test_a_minimum_charge_is_kept_after_the_trips():
    bid = default_bid([stop(8, 16, trip=6.0)], [11.0], 60.0, 2.0, 10.0, PRICES, START, END)
    assert steps(bid) == [(14.0, 3000.0), (44.0, 150.0)]  # 6 + 10 - 2 = 14


def test_time_outside_the_delivery_day_delivers_nothing():
    early = Stop(
        charging_point_id="P1",
        arrival=START - timedelta(hours=5),
        departure=START + timedelta(hours=1),
    )
    bid = default_bid([early], [11.0], 60.0, 0.0, None, PRICES, START, END)
    assert bid.chargeable_kwh == 11.0 and steps(bid) == [(11.0, 150.0)]


def test_a_must_have_larger_than_the_stops_can_deliver_is_capped_to_it():
    bid = default_bid([stop(8, 9, trip=30.0)], [11.0], 60.0, 0.0, None, PRICES, START, END)
    assert steps(bid) == [(11.0, 3000.0)]


def test_energies_are_rounded_down_to_whole_wh():
    assert floor_wh(2.7004) == 2.7 and floor_wh(2.6999999999) == 2.7 and floor_wh(0.0009) == 0.0
