"""The client's short plan file, its windows table and its config file (pure, no HTTP)."""

from __future__ import annotations

import os
import stat
from datetime import date

import pytest
from typer.testing import CliRunner

from services.client import config as cfg
from services.client.plans import PlanFileError, kind_of, plan_id_for, short_plan, table, windows

DAY = date(2026, 11, 26)
SHORT = {
    "vehicle": "V001",
    "soc_kwh": 12,
    "stops": [
        {"point": "P-HOME-01", "arrive": "00:00", "leave": "7:00", "trip_kwh": 6},
        {"point": "P-WORK-01", "arrive": "08:00", "leave": "2026-11-26T16:30:00+01:00"},
        {"point": "P-HOME-01", "arrive": "17:15", "leave": "24:00"},
    ],
    "bid": [{"kwh": 10, "eur_mwh": 400}],
}


def test_a_short_file_becomes_a_plan_with_wall_times_of_the_area():
    plan = short_plan(SHORT, "PL", "Europe/Warsaw", DAY, 42)
    assert plan["plan_id"] == str(plan_id_for("V001", "PL", DAY)) and plan["revision"] == 42
    assert (plan["market_area"], plan["delivery_day"], plan["initial_soc_kwh"]) == (
        "PL",
        "2026-11-26",
        12.0,
    )
    first, work, home = plan["stops"]
    assert first == {
        "charging_point_id": "P-HOME-01",
        "arrival": "2026-11-26T00:00:00+01:00",
        "departure": "2026-11-26T07:00:00+01:00",
        "trip_kwh_after": 6.0,
    }
    assert work["departure"] == "2026-11-26T16:30:00+01:00" and work["trip_kwh_after"] == 0.0
    assert home["departure"] == "2026-11-27T00:00:00+01:00"  # 24:00: the end of the day
    assert plan["bid"] == [{"energy_kwh": 10.0, "price_eur_mwh": 400.0}]
    assert "bid" not in short_plan({**SHORT, "bid": None}, "PL", "Europe/Warsaw", DAY, 1)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"vechicle": "V1"}, "unknown keys vechicle"),
        ({"stops": []}, "stops: a list of at least one stop is needed"),
        ({"stops": [{"point": "P", "arrive": "25:00", "leave": "26:00"}]}, "neither HH:MM"),
        ({"stops": [{"point": "P", "arrive": "24:30", "leave": "24:40"}]}, "past the end"),
        ({"stops": [{"point": "P", "arrive": "2026-11-26T08:00", "leave": "09:00"}]}, "offset"),
        ({"soc_kwh": "12"}, "soc_kwh: a number is needed"),
        ({"bid": [{"kwh": 1}]}, "bid[0]: kwh and eur_mwh are needed"),
    ],
)
def test_a_file_that_is_no_plan_says_where(change, message):
    with pytest.raises(PlanFileError, match=message.replace("[", r"\[").replace("]", r"\]")):
        short_plan({**SHORT, **change}, "PL", "Europe/Warsaw", DAY, 1)


def test_the_kind_of_file_is_told_by_its_fields():
    assert kind_of(SHORT) == "short"
    assert kind_of({"electric_vehicle": 7, "mode": "hh"}) == "original"
    assert kind_of({"plan_id": "x"}) == "plan"
    with pytest.raises(PlanFileError):
        kind_of([SHORT])


def test_consecutive_allocations_merge_into_windows_per_point():
    slots = [
        ("P-W", "09", 11),
        ("P-W", "08", 5.5),
        ("P-W", "11", 2),
        ("P-H", "01", 3),
        ("P-H", "02", 0),
    ]
    decision = {
        "allocations": [
            {"charging_point_id": p, "mtu_start": f"2026-11-26T{h}:00:00+01:00", "energy_kwh": e}
            for p, h, e in slots
        ]
    }
    got = [
        (w.point, f"{w.start:%H:%M}", f"{w.end:%H:%M}", w.energy_kwh) for w in windows(decision, 60)
    ]
    assert got == [
        ("P-H", "01:00", "02:00", 3.0),
        ("P-W", "08:00", "10:00", 16.5),
        ("P-W", "11:00", "12:00", 2.0),
    ]


def test_the_services_own_windows_are_shown_when_it_sends_them():
    decision = {
        "windows": [
            {
                "charging_point_id": "P-W",
                "start": "2026-11-26T08:00:00+01:00",
                "end": "2026-11-26T09:30:00+01:00",
                "energy_kwh": 9.0,
            }
        ],
        "allocations": [],
    }
    [w] = windows(decision, 60)
    assert (w.point, f"{w.end:%H:%M}", w.energy_kwh) == ("P-W", "09:30", 9.0)


def test_tables_align_their_columns():
    assert table([["a", "bb"], ["ccc", "d"]]) == "a    bb\nccc  d"


def test_the_config_file_is_private_and_refused_when_it_is_not(tmp_path, monkeypatch):
    path = tmp_path / "deep" / "client.json"
    monkeypatch.setenv("CHARGEFLOW_CLIENT_CONFIG", str(path))
    saved = cfg.save(cfg.ClientConfig(user="anna", token="cf_secret"))
    assert saved == path and stat.S_IMODE(path.stat().st_mode) == 0o600
    assert cfg.load().token == "cf_secret"
    os.chmod(path, 0o644)
    with pytest.raises(cfg.ConfigError, match="readable by others"):
        cfg.load()
    cfg.save(cfg.ClientConfig(user="anna", token="cf_new"))  # rewriting makes it private again
    assert stat.S_IMODE(path.stat().st_mode) == 0o600 and cfg.load().token == "cf_new"


def test_chargeflow_registers_the_client_verbs():
    from services.cli import app

    result = CliRunner().invoke(app, ["client", "--help"])
    assert result.exit_code == 0
    assert all(verb in result.output for verb in ("login", "submit", "decision", "wait"))
