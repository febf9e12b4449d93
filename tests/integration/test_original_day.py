"""A whole accelerated market day through every real service, as the original system's
clients live it (issue 12): an operator sets a driver's password, the driver logs in with
`POST /api-token-auth/`, sends an hwh schedule (string ids, offset-less times) and a fleet an
hh schedule, the clock passes gate closure, the aggregator clears, the market simulator
answers, and `next_day` / the history by date give coverage and charging ranges; someone
else's vehicle gets 403 and a vehicle without a schedule 404.

`chargeflow up` runs the dev stack (embedded broker and PostgreSQL, every service as its own
process) on a clock that starts a few minutes before the next gate closure.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from schemas.market_day import gate_closure, next_delivery_day
from services.devstack.children import free_port
from tests.integration.test_embedded_stack import CHARGEFLOW, _env, _start_up

pytestmark = [pytest.mark.integration, pytest.mark.slow]
TZ = "Europe/Warsaw"
LEAD = timedelta(minutes=6)  # clock time before gate closure when the stack starts
SPEED = 8.0  # clock seconds per wall second: closure ~45 s after start
PASSWORDS = {"driver-anna": "anna's long password", "fleet-demo": "fleet's long password"}


def _cli(env: dict[str, str], *args: str, stdin: str = "") -> str:
    done = subprocess.run(
        [*CHARGEFLOW, *args], env=env, input=stdin, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout


def _forecast(day: date) -> list[float]:
    from schemas.market_day import mtu_count

    # night trough, morning and evening peaks: the day's shape shows in the ranges
    prices = []
    for hour in range(mtu_count(day, TZ)):
        prices.append(40.0 if hour < 6 else 160.0 if hour in (7, 8, 18, 19) else 90.0)
    return prices


def _schedule(vehicle: str, mode: str, day: date) -> dict[str, Any]:
    d = day.isoformat()
    points = {
        "hwh": [("P-HOME-01", "00:00", "07:00"), ("P-WORK-01", "08:00", "16:00"),
                ("P-HOME-01", "17:00", "23:00")],
        "hh": [("P-HOME-02", "00:00", "07:30"), ("P-HOME-02", "18:00", "23:30")],
    }[mode]  # fmt: skip
    return {
        "electric_vehicle": vehicle,
        "mode": mode,
        "charge_percent": 30.0,
        "trip_percent": 15.0,
        "point_schedules": [
            {"point": p, "arrival_time": f"{d}T{a}:00", "departure_time": f"{d}T{b}:00"}
            for p, a, b in points
        ],
    }


def test_the_original_clients_live_a_whole_accelerated_day(tmp_path: Path) -> None:
    now = datetime.now(UTC)
    day = next_delivery_day(now + LEAD + timedelta(minutes=2), TZ)
    closure = gate_closure(day, TZ)
    ports = {
        f"CHARGEFLOW_{name}_PORT": str(free_port())
        for name in ("INGEST", "DECISIONS", "AGGREGATOR", "MARKET")
    }
    clock = {
        "CHARGEFLOW_CLOCK_START": (closure - LEAD).isoformat(),
        "CHARGEFLOW_CLOCK_SPEED": str(SPEED),
    }
    proc, where = _start_up(tmp_path, "up", **ports, **clock)
    env = _env(tmp_path, **ports, **clock) | {
        "CHARGEFLOW_KAFKA_BOOTSTRAP": where["kafka_bootstrap"],
        "CHARGEFLOW_DATABASE_URL": where["database_url"].removesuffix(" (embedded)"),
    }
    try:
        config = tmp_path / "config.json"
        config.write_text(json.dumps({"market_area": "PL", "price_forecast": {
            day.isoformat(): _forecast(day)}}))  # fmt: skip
        _cli(env, "config", "publish", str(config))
        for user, password in PASSWORDS.items():
            _cli(env, "user", "password", user, stdin=password + "\n")
        ingest = httpx.Client(base_url=where["ingest"], timeout=30)
        decisions = httpx.Client(base_url=where["decisions"], timeout=30)
        tokens = {}
        for user, password in PASSWORDS.items():
            answer = ingest.post("/api-token-auth/", json={"username": user, "password": password})
            assert answer.status_code == 200, answer.text
            tokens[user] = {"Authorization": f"Token {answer.json()['token']}"}

        anna = ingest.post(
            "/charging-schedules/",
            json=_schedule("V001", "hwh", day),
            headers=tokens["driver-anna"],
        )
        assert anna.status_code == 201, anna.text
        assert anna.json()["delivery_day"] == day.isoformat()
        fleet = ingest.post(
            "/charging-schedules/", json=_schedule("V002", "hh", day), headers=tokens["fleet-demo"]
        )
        assert fleet.status_code == 201, fleet.text
        wrong = ingest.post(
            "/charging-schedules/", json={**_schedule("V003", "hh", day), "point_schedules": []},
            headers=tokens["fleet-demo"],
        )  # fmt: skip
        assert wrong.status_code == 400 and "point_schedules" in wrong.json()
        listed = ingest.get("/charging-schedules/", headers=tokens["driver-anna"]).json()
        assert [s["id"] for s in listed] == [anna.json()["id"]]

        # Before the decisions exist: the original 404; someone else's vehicle: 403.
        next_day = "/charging-schedules-decisions/next_day/"
        early = decisions.get(next_day, params={"electric_vehicle": "V001"},
                              headers=tokens["driver-anna"])  # fmt: skip
        assert early.status_code == 404 and "error" in early.json()
        theirs = decisions.get(next_day, params={"electric_vehicle": "V002"},
                               headers=tokens["driver-anna"])  # fmt: skip
        assert theirs.status_code == 403 and "detail" in theirs.json()

        # Through gate closure, phase 1, the market, phase 2 and into the decisions service.
        deadline = time.monotonic() + 240
        answers: dict[str, Any] = {}
        while time.monotonic() < deadline and len(answers) < 2:
            for vehicle, user in (("V001", "driver-anna"), ("V002", "fleet-demo")):
                got = decisions.get(next_day, params={"electric_vehicle": vehicle},
                                    headers=tokens[user])  # fmt: skip
                if got.status_code == 200:
                    answers[vehicle] = got.json()
            time.sleep(1)
        assert set(answers) == {"V001", "V002"}, f"no decisions by {closure} + 4 min"
        for vehicle, decided in answers.items():
            assert 0 < decided["coverage"] <= 100, (vehicle, decided)
            ranges = decided["schedule_decision_date_ranges"]
            starts = [r["start_time"] for r in ranges]
            assert ranges and starts == sorted(starts), (vehicle, decided)
            for r in ranges:
                start, end = (datetime.fromisoformat(r[k]) for k in ("start_time", "end_time"))
                assert (start < end and start.date() == day) or end.date() == day
        history = decisions.get(
            "/charging-schedules-decisions/",
            params={"electric_vehicle": "V001", "date": day.isoformat()},
            headers=tokens["driver-anna"],
        )
        assert history.status_code == 200 and history.json() == [answers["V001"]]
        nothing = decisions.get(next_day, params={"electric_vehicle": "V003"},
                                headers=tokens["fleet-demo"])  # fmt: skip
        assert nothing.status_code == 404
    finally:
        proc.send_signal(2)
        try:
            proc.wait(60)
        except subprocess.TimeoutExpired:
            proc.kill()
    assert sys.version_info >= (3, 11)
