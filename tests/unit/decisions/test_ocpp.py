"""OCPP profiles from allocations: schema-valid, energy-exact, DST-proof (pure)."""

from __future__ import annotations

import json
import uuid
from datetime import date, timedelta
from pathlib import Path

import jsonschema
import ocpp
import pytest

from schemas.market_day import mtu_starts
from services.decisions.ocpp import profile_energy_kwh, profile_id, profiles

SCHEMA = json.loads(
    (Path(ocpp.__file__).parent / "v201/schemas/SetChargingProfileRequest.json").read_text()
)
PLAN = uuid.UUID("00000000-0000-4000-8000-000000000001")


def test_profiles_validate_against_the_ocpp_201_schema():
    starts = mtu_starts(date(2026, 11, 26), "Europe/Warsaw", 15)
    items = profiles(PLAN, [("P1", starts[3], 2.75), ("P1", starts[8], 0.5)], timedelta(minutes=15))
    assert len(items) == 1
    jsonschema.validate({"evseId": 2, "chargingProfile": items[0]["charging_profile"]}, SCHEMA)
    periods = items[0]["charging_profile"]["chargingSchedule"][0]["chargingSchedulePeriod"]
    assert [p["startPeriod"] for p in periods] == [i * 900 for i in range(6)]
    assert periods[0]["limit"] == 11000.0 and periods[5]["limit"] == 2000.0


def test_energy_of_each_profile_equals_its_allocations_within_rounding():
    starts = mtu_starts(date(2026, 11, 26), "Europe/Warsaw", 60)
    allocs = [("P2", starts[i], 0.1234567 * (i + 1)) for i in range(24)]
    allocs += [("P1", starts[5], 3.0)]
    items = profiles(PLAN, allocs, timedelta(hours=1))
    assert [i["charging_point_id"] for i in items] == ["P1", "P2"]
    for item in items:
        assert profile_energy_kwh(item["charging_profile"]) == pytest.approx(
            item["energy_kwh"], abs=24 * 0.05 / 1000
        )


def test_an_autumn_dst_day_keeps_the_repeated_hour_as_its_own_period():
    starts = mtu_starts(date(2026, 10, 25), "Europe/Warsaw", 60)  # 25 hours
    assert len(starts) == 25
    items = profiles(PLAN, [("P1", starts[1], 1.0), ("P1", starts[3], 3.0)], timedelta(hours=1))
    schedule = items[0]["charging_profile"]["chargingSchedule"][0]
    # 01:00+02:00, 02:00+02:00, 02:00+01:00: three real hours, three periods
    assert [p["limit"] for p in schedule["chargingSchedulePeriod"]] == [1000.0, 0.0, 3000.0]
    assert schedule["duration"] == 3 * 3600


def test_zero_allocations_give_no_profile_and_ids_are_stable():
    starts = mtu_starts(date(2026, 11, 26), "Europe/Warsaw", 60)
    assert profiles(PLAN, [("P1", starts[0], 0.0)], timedelta(hours=1)) == []
    assert profile_id(PLAN, "P1") == profile_id(PLAN, "P1") != profile_id(PLAN, "P2")
    assert 0 < profile_id(PLAN, "P1") < 2**31
