"""`chargeflow client` as a driver runs it (a separate process, HTTP only) against a running
ingest gateway and decisions service on the real broker and PostgreSQL: log in, submit a
short YAML file and an original-format JSON, see the plan pending, wait for the decision
while it is published, see its windows."""

from __future__ import annotations

import asyncio
import json
import os
import stat
import sys
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest

from schemas.market import Allocation, ScheduleDecision
from services.client.plans import plan_id_for
from services.common import accounts
from services.common.clock import Clock
from services.ingest.app import create_app
from services.ingest.settings import Settings
from tests.integration.contract import Served
from tests.integration.decisions.conftest import Service, Topics, service, topics  # noqa: F401
from tests.integration.ingest.conftest import NOW

pytestmark = [pytest.mark.integration, pytest.mark.slow]
PASSWORD = "correct horse battery"
DAY = date(2026, 11, 26)
CET = timezone(timedelta(hours=1))


class Driver:
    """Runs `python -m services.client` (what `chargeflow client` runs) with its own config."""

    def __init__(self, config: Path) -> None:
        self.env = {**os.environ, "CHARGEFLOW_CLIENT_CONFIG": str(config)}

    async def start(self, *args: str, stdin: str = "") -> asyncio.subprocess.Process:
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "services.client", *args, env=self.env,
            stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )  # fmt: skip
        assert process.stdin is not None
        process.stdin.write(stdin.encode())
        process.stdin.close()
        return process

    async def run(self, *args: str, stdin: str = "") -> tuple[int, str, str]:
        return await finish(await self.start(*args, stdin=stdin))


async def finish(
    process: asyncio.subprocess.Process, timeout_s: float = 60
) -> tuple[int, str, str]:
    out, err = await asyncio.wait_for(process.communicate(), timeout_s)
    assert process.returncode is not None
    return process.returncode, out.decode(), err.decode()


@pytest.fixture
async def ingest(kafka_bootstrap, database_url, topic_factory, tokens, topics: Topics):  # noqa: F811
    """The gateway on the decisions service's plans topic (so it sees plans as pending)."""
    settings = Settings(
        kafka_bootstrap=kafka_bootstrap,
        database_url=database_url,
        plans_topic=topics.plans,
        config_topic=await topic_factory("config"),
        results_topic=await topic_factory("results"),
    )
    async with Served(create_app(settings, Clock.fixed(NOW))) as served:
        yield served.base_url


async def test_a_driver_logs_in_submits_and_waits_for_the_decision(
    ingest: str,
    service: Service,  # noqa: F811
    topics: Topics,  # noqa: F811
    pool,
    producer,
    tmp_path: Path,
):
    vehicle = service.vehicles["anna"]
    user = "anna-" + vehicle.rsplit("-", 1)[1]
    async with pool.acquire() as conn:
        await accounts.set_password(conn, user, PASSWORD)
    config = tmp_path / "conf" / "client.json"
    driver = Driver(config)

    code, out, err = await driver.run(
        "login", "--ingest", ingest, "--decisions", service.base_url, stdin=f"{user}\n{PASSWORD}\n"
    )
    assert code == 0, err
    assert f"logged in as {user}" in out and stat.S_IMODE(config.stat().st_mode) == 0o600
    assert json.loads(config.read_text())["token"].startswith("cf_")

    short = tmp_path / "today.yaml"
    short.write_text(
        f"vehicle: {vehicle}\n"
        "soc_kwh: 2\n"
        "stops:\n"
        "  - {point: P-WORK-01, arrive: '08:00', leave: '16:30', trip_kwh: 6}\n"
    )
    code, out, err = await driver.run("submit", str(short))
    assert code == 0, err
    assert "accepted" in out and f"vehicle {vehicle}, PL {DAY}" in out
    # no bid in the file: the operator's default, 6 - 2 = 4 must-have, 58 - 4 top-up
    assert "bid (the operator's default): 4 kWh at 3000 EUR/MWh, 54 kWh at 150 EUR/MWh" in out

    async def pending() -> bool:
        code, out, _ = await driver.run("decision", "--day", DAY.isoformat())
        return code == 0 and f"{vehicle}  {DAY}  pending" in out

    deadline = asyncio.get_running_loop().time() + 30
    while not await pending():
        assert asyncio.get_running_loop().time() < deadline, "the plan never showed as pending"
        await asyncio.sleep(0.5)

    waiting = await driver.start("wait", "--interval", "0.3", "--timeout", "60")
    await asyncio.sleep(2)  # a few polls and progress lines first
    revision = json.loads(config.read_text())["revisions"][str(plan_id_for(vehicle, "PL", DAY))]
    at = [datetime(2026, 11, 26, h, tzinfo=CET) for h in (8, 9, 13)]
    allocations = [
        Allocation(charging_point_id="P-WORK-01", mtu_start=start, energy_kwh=energy)
        for start, energy in zip(at, (11.0, 11.0, 5.0), strict=True)
    ]
    decision = ScheduleDecision(
        market_area="PL", delivery_day=DAY, run_id="PL/2026-11-26/test",
        plan_id=plan_id_for(vehicle, "PL", DAY), revision=revision, vehicle_id=vehicle,
        status="accepted", requested_kwh=58.0, accepted_kwh=27.0, coverage=27 / 58,
        cost_eur=2.7, allocations=allocations,
    )  # fmt: skip
    await producer.send_and_wait(
        topics.decisions, decision.model_dump_json().encode(), vehicle.encode()
    )
    code, out, err = await finish(waiting)
    assert code == 0, err
    assert f"waiting for the decision of {DAY}" in err  # the progress line
    lines = out.splitlines()
    assert lines[0].startswith(f"{vehicle}  {DAY}  accepted  27 of 58 kWh (47%)")
    assert lines[1].split() == ["point", "from", "to", "kWh"]
    assert lines[2].split() == ["P-WORK-01", "08:00", "10:00", "22.00"]
    assert lines[3].split() == ["P-WORK-01", "13:00", "14:00", "5.00"]


async def test_the_client_sends_the_original_format_and_explains_refusals(
    ingest: str,
    service: Service,  # noqa: F811
    pool,
    tmp_path: Path,
):
    vehicle = service.vehicles["anna"]
    user = "anna-" + vehicle.rsplit("-", 1)[1]
    async with pool.acquire() as conn:
        await accounts.set_password(conn, user, PASSWORD)
    driver = Driver(tmp_path / "client.json")
    args = ("login", "--ingest", ingest, "--decisions", service.base_url)
    code, _, err = await driver.run(*args, stdin=f"{user}\nnot the password\n")
    assert code == 1 and "wrong user name or password" in err
    assert (await driver.run(*args, stdin=f"{user}\n{PASSWORD}\n"))[0] == 0
    original: dict[str, Any] = {
        "electric_vehicle": vehicle,
        "mode": "hh",
        "charge_percent": 50,
        "trip_percent": 10,
        "point_schedules": [
            {"point": "P-HOME-01", "arrival_time": f"{DAY}T{a}", "departure_time": f"{DAY}T{d}"}
            for a, d in (("00:00", "07:00"), ("18:00", "23:00"))
        ],
    }
    file = tmp_path / "original.json"
    file.write_text(json.dumps(original))
    code, out, err = await driver.run("submit", str(file))
    assert code == 0, err
    assert "schedule" in out and "stored" in out and "36 kWh at 150 EUR/MWh" in out
    original["mode"] = "hwh"
    file.write_text(json.dumps(original))
    code, _, err = await driver.run("submit", str(file))
    assert code == 1
    assert 'non_field_errors: Mode "hwh" (home-work-home) needs exactly 3 point schedules' in err
