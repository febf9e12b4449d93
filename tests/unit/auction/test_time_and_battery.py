"""Local delivery days (DST), 15-minute MTUs, partial MTUs, and the battery along stops."""

from __future__ import annotations

import uuid
from datetime import date

import pytest

from auction.clear import clear
from auction.mtu import day_grid
from schemas.auction import AuctionInstance, AuctionParams
from schemas.network import ChargingPoint, Node, Vehicle
from schemas.plan import BidStep, PlanBody, Stop
from tests.unit.auction.factory import at

SPRING, AUTUMN, PLAIN = date(2026, 3, 29), date(2026, 10, 25), date(2026, 11, 25)


def one_plan(
    day: date,
    stops: list[Stop],
    *,
    mtu: int = 60,
    battery: float = 200.0,
    soc: float | None = None,
    bid_kwh: float = 500.0,
    inactive: tuple[str, ...] = (),
) -> AuctionInstance:
    count = day_grid(day, "Europe/Warsaw", mtu).count
    return AuctionInstance(
        market_area="PL",
        delivery_day=day,
        mtu_minutes=mtu,
        prices_eur_mwh=[50.0] * count,
        nodes=[Node(id="N", capacity_kw=1000.0)],
        charging_points=[
            ChargingPoint(id=p, node_id="N", max_power_kw=11.0, active=p not in inactive)
            for p in ("P1", "P2")
        ],
        vehicles=[Vehicle(id="V", battery_kwh=battery, max_power_kw=22.0)],
        plans=[
            PlanBody(
                plan_id=uuid.UUID(int=7),
                vehicle_id="V",
                initial_soc_kwh=soc,
                stops=stops,
                bid=[BidStep(energy_kwh=bid_kwh, price_eur_mwh=300.0)],
            )
        ],
    )


def test_spring_dst_day_has_23_hourly_and_92_quarter_hour_mtus() -> None:
    grid = day_grid(SPRING, "Europe/Warsaw", 60)
    assert grid.count == 23
    assert [s.isoformat() for s in grid.starts()[1:3]] == [
        "2026-03-29T01:00:00+01:00",
        "2026-03-29T03:00:00+02:00",
    ]
    assert day_grid(SPRING, "Europe/Warsaw", 15).count == 92


def test_autumn_dst_day_has_25_mtus_with_0200_twice() -> None:
    grid = day_grid(AUTUMN, "Europe/Warsaw", 60)
    assert grid.count == 25
    assert [s.isoformat() for s in grid.starts()[2:4]] == [
        "2026-10-25T02:00:00+02:00",
        "2026-10-25T02:00:00+01:00",
    ]
    assert day_grid(AUTUMN, "Europe/Warsaw", 15).count == 100


def test_autumn_stop_across_the_repeated_hour_is_charged_in_both() -> None:
    # 01:30+02:00 .. 03:30+01:00 is 3 absolute hours: 0.5 + 1 + 1 + 0.5 MTU at 11 kW.
    stop = Stop(charging_point_id="P1", arrival=at(1.5, AUTUMN), departure=at(4.5, AUTUMN))
    r = clear(one_plan(AUTUMN, [stop]))
    got = [(a.mtu_start.isoformat(), a.energy_kwh) for a in r.plans[0].allocations]
    assert got == [
        ("2026-10-25T01:00:00+02:00", 5.5),
        ("2026-10-25T02:00:00+02:00", 11.0),
        ("2026-10-25T02:00:00+01:00", 11.0),
        ("2026-10-25T03:00:00+01:00", 5.5),
    ]
    assert len(r.mtu_starts) == 25


def test_spring_stop_over_the_skipped_hour_lasts_two_hours() -> None:
    stop = Stop(charging_point_id="P1", arrival=at(1, SPRING), departure=at(3, SPRING))
    assert stop.departure.isoformat() == "2026-03-29T04:00:00+02:00"
    r = clear(one_plan(SPRING, [stop]))
    assert r.plans[0].accepted_kwh == 22.0
    assert len(r.nodes[0].energy_kwh) == 23


def test_quarter_hour_mtus_count_stops_pro_rata() -> None:
    # 00:10-00:40: 5, 15 and 10 minutes of three MTUs at 11 kW
    stop = Stop(charging_point_id="P1", arrival=at(10 / 60), departure=at(40 / 60))
    r = clear(one_plan(PLAIN, [stop], mtu=15))
    got = [(a.mtu_start.strftime("%H:%M"), a.energy_kwh) for a in r.plans[0].allocations]
    assert got == [("00:00", 0.91666), ("00:15", 2.75), ("00:30", 1.83333)]
    # the flow floors each capacity to the 1e-5 kWh unit; the loss is in the bound
    assert r.rounding.welfare_error_bound_eur > 0


def test_battery_binds_and_the_trip_frees_room() -> None:
    # 20 kWh battery, 18 aboard: 2 kWh fit at stop 1; the 10 kWh drive frees 10 more.
    # Stop 1's hours are cheaper, so the optimum is unique: fill up there first.
    stops = [
        Stop(charging_point_id="P1", arrival=at(0), departure=at(2), trip_kwh_after=10.0),
        Stop(charging_point_id="P2", arrival=at(2.5), departure=at(5)),
    ]
    inst = one_plan(PLAIN, stops, battery=20.0, soc=18.0)
    inst.prices_eur_mwh[0:2] = [40.0, 40.0]
    r = clear(inst, 1, AuctionParams())
    per_point: dict[str, float] = {}
    for a in r.plans[0].allocations:
        per_point[a.charging_point_id] = per_point.get(a.charging_point_id, 0) + a.energy_kwh
    assert per_point == pytest.approx({"P1": 2.0, "P2": 10.0})
    assert r.plans[0].reasons == ["battery"]


def test_a_drive_longer_than_the_charge_aboard_empties_the_battery_not_below_zero() -> None:
    # Nothing can be bought at stop 1 (inactive point); the 20 kWh drive (a full battery,
    # the most a drive may use) exceeds the 5 kWh aboard, so the car arrives empty (SoC
    # never negative): the full 20 kWh battery fits.
    stops = [
        Stop(charging_point_id="P1", arrival=at(0), departure=at(2), trip_kwh_after=20.0),
        Stop(charging_point_id="P2", arrival=at(3), departure=at(6)),
    ]
    r = clear(one_plan(PLAIN, stops, battery=20.0, soc=5.0, inactive=("P1",)))
    assert r.plans[0].accepted_kwh == pytest.approx(20.0)


def test_energy_beyond_the_bid_is_never_scheduled() -> None:
    stop = Stop(charging_point_id="P1", arrival=at(0), departure=at(10))
    r = clear(one_plan(PLAIN, [stop], bid_kwh=7.5))
    assert r.plans[0].accepted_kwh == 7.5 and r.plans[0].status == "accepted"
    assert r.plans[0].coverage == 1.0
