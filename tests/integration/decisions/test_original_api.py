"""The original system's decisions API (DESIGN §7.1), scenario by scenario, through the
service fed by the real broker into the real PostgreSQL, on a fixed clock: it is 16:00 in
Warsaw on the day before DAY, so DAY is the next delivery day."""

from __future__ import annotations

import asyncio
import random
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, timedelta

import httpx
import pytest

from schemas.events import PlanSubmitted
from schemas.network import Vehicle
from schemas.plan import BidStep, Stop
from services.common import registry
from tests.integration.decisions.conftest import eventually
from tests.integration.decisions.test_api import _publish
from tests.unit.decisions.factories import decision

pytestmark = pytest.mark.integration

DAY = date(2031, 1, 15)  # winter: +01:00 in Warsaw
NOW = datetime(2031, 1, 14, 15, 0, tzinfo=UTC)
FIXED_CLOCK = {"settings": {"clock_start": NOW, "clock_speed": 0}}
LIST = "/charging-schedules-decisions/"
NEXT = "/charging-schedules-decisions/next_day/"


def local(day: date, hh_mm: str) -> datetime:
    return datetime.fromisoformat(f"{day.isoformat()}T{hh_mm}:00+01:00")


def _range(start: str, end: str) -> dict[str, str]:
    return {"start_time": f"2031-01-15T{start}:00+01:00", "end_time": f"2031-01-15T{end}:00+01:00"}


def token(service, user: str) -> dict[str, str]:
    """The original clients' scheme: `Authorization: Token ...`."""
    return {"Authorization": f"Token {service.tokens[user]}"}


@pytest.fixture
async def numeric(service, pool) -> AsyncIterator[str]:
    """A vehicle of anna's with a numeric id, as the original system's clients know it."""
    vehicle = str(random.randrange(10**8, 10**9))
    owner = "anna-" + service.vehicles["anna"].rsplit("-", 1)[1]
    async with pool.acquire() as conn:
        await registry.upsert_vehicle(
            conn, Vehicle(id=vehicle, battery_kwh=60, max_power_kw=11), owner
        )
    yield vehicle
    await pool.execute("DELETE FROM schedule_decisions WHERE vehicle_id = $1", vehicle)
    await pool.execute("DELETE FROM vehicles WHERE id = $1", vehicle)


async def _stored(pool, *plan_ids) -> bool:
    n = await pool.fetchval(
        "SELECT count(*) FROM schedule_decisions WHERE plan_id = ANY($1)", list(plan_ids)
    )
    return n == len(plan_ids)


def _day_with_stops(vehicle: str) -> tuple[PlanSubmitted, object]:
    """A plan for DAY (home, work, home) and its decision: 15 of 20 kWh, partly in MTUs the
    vehicle only reaches or leaves within (07:30 departure, 08:30 arrival)."""
    plan = PlanSubmitted(
        plan_id=uuid.uuid4(), revision=1, vehicle_id=vehicle, market_area="PL",
        delivery_day=DAY, bid=[BidStep(energy_kwh=20, price_eur_mwh=300)],
        stops=[
            Stop(charging_point_id="HOME", arrival=local(DAY, "00:00"),
                 departure=local(DAY, "07:30"), trip_kwh_after=4),
            Stop(charging_point_id="WORK", arrival=local(DAY, "08:30"),
                 departure=local(DAY, "16:30"), trip_kwh_after=4),
        ],
    )  # fmt: skip
    energies = {("HOME", 1): 5.0, ("HOME", 2): 3.0, ("HOME", 7): 2.0, ("WORK", 8): 2.5,
                ("WORK", 9): 2.5}  # fmt: skip
    return plan, decision(vehicle, plan_id=plan.plan_id, revision=1, day=DAY, energies=energies)


@pytest.mark.parametrize("service", [FIXED_CLOCK], indirect=True)
async def test_next_day_is_tomorrows_decision_as_coverage_and_merged_ranges(
    service, producer, topics, pool, numeric
):
    plan, decided = _day_with_stops(numeric)
    yesterday = decision(numeric, day=DAY - timedelta(days=1))
    await _publish(producer, topics.plans, [plan])
    await _publish(producer, topics.decisions, [decided, yesterday])
    await eventually(lambda: _stored(pool, decided.plan_id, yesterday.plan_id))
    async with httpx.AsyncClient(base_url=service.base_url) as http:
        r = await http.get(
            NEXT, params={"electric_vehicle": numeric}, headers=token(service, "anna")
        )
        assert r.status_code == 200, r.text
        assert r.headers["content-type"] == "application/json"
        assert r.json() == {
            "coverage": 75.0,
            "schedule_decision_date_ranges": [
                _range("01:00", "03:00"), _range("07:00", "07:30"), _range("08:30", "10:00"),
            ],
        }  # fmt: skip
        etag = r.headers["etag"]
        again = await http.get(
            NEXT, params={"electric_vehicle": numeric},
            headers={**token(service, "anna"), "If-None-Match": etag},
        )  # fmt: skip
        assert again.status_code == 304
        # operators see every vehicle; the numeric id is the registry's id written the same
        r = await http.get(NEXT, params={"electric_vehicle": numeric}, headers=service.auth("op"))
        assert r.status_code == 200 and r.json()["coverage"] == 75.0


@pytest.mark.parametrize("service", [FIXED_CLOCK], indirect=True)
async def test_history_by_date_or_of_every_day_one_decision_per_day(
    service, producer, topics, pool, numeric
):
    before, day_before = DAY - timedelta(days=2), DAY - timedelta(days=1)
    first = decision(numeric, day=before, energies={("HOME", 22): 6.0, ("HOME", 23): 4.0})
    # two plans of one day make one decision: coverage over both, ranges of both
    second = decision(numeric, day=day_before, energies={("HOME", 20): 5.0})
    third = decision(numeric, day=day_before, energies={})  # rejected: 0 of 20 kWh
    _, fourth = _day_with_stops(numeric)  # no plan seen: whole MTUs
    await _publish(producer, topics.decisions, [fourth, third, second, first])
    await eventually(lambda: _stored(pool, *(d.plan_id for d in (first, second, third, fourth))))
    async with httpx.AsyncClient(base_url=service.base_url, headers=token(service, "anna")) as http:
        r = await http.get(LIST, params={"electric_vehicle": numeric})
        assert r.status_code == 200, r.text
        every = r.json()
        assert [d["coverage"] for d in every] == [50.0, 12.5, 75.0]  # by day
        assert every[0]["schedule_decision_date_ranges"] == [
            {"start_time": "2031-01-13T22:00:00+01:00", "end_time": "2031-01-14T00:00:00+01:00"}
        ]
        assert every[1]["schedule_decision_date_ranges"] == [
            {"start_time": "2031-01-14T20:00:00+01:00", "end_time": "2031-01-14T21:00:00+01:00"}
        ]
        assert [x["start_time"][11:16] for x in every[2]["schedule_decision_date_ranges"]] == [
            "01:00", "07:00", "08:00",
        ]  # fmt: skip
        r = await http.get(LIST, params={"electric_vehicle": numeric, "date": str(day_before)})
        assert r.json() == [every[1]]
        r = await http.get(LIST, params={"electric_vehicle": numeric, "date": "2031-02-01"})
        assert r.status_code == 200 and r.json() == []


@pytest.mark.parametrize("service", [FIXED_CLOCK], indirect=True)
async def test_someone_elses_vehicle_is_403_with_detail(service, producer, topics, pool):
    bob = service.vehicles["bob"]
    theirs = decision(bob, day=DAY)
    await _publish(producer, topics.decisions, [theirs])
    await eventually(lambda: _stored(pool, theirs.plan_id))
    async with httpx.AsyncClient(base_url=service.base_url, headers=token(service, "anna")) as http:
        for path in (NEXT, LIST):
            r = await http.get(path, params={"electric_vehicle": bob})
            assert r.status_code == 403
            assert r.headers["content-type"] == "application/json"
            assert r.json() == {"detail": f"electric vehicle {bob!r} is not one of yours"}


@pytest.mark.parametrize("service", [FIXED_CLOCK], indirect=True)
async def test_no_decision_yet_is_404_with_error_until_it_arrives(
    service, producer, topics, pool, numeric
):
    async with httpx.AsyncClient(base_url=service.base_url, headers=token(service, "anna")) as http:
        r = await http.get(NEXT, params={"electric_vehicle": numeric})
        assert r.status_code == 404 and r.headers["content-type"] == "application/json"
        assert r.json() == {
            "error": f"no decision (yet) for electric vehicle {numeric!r} for the next delivery "
            "day, 2031-01-15"
        }
        for path in (NEXT, LIST):  # a vehicle nobody registered
            r = await http.get(path, params={"electric_vehicle": "no-such-vehicle"})
            assert r.status_code == 404 and set(r.json()) == {"error"}
            assert "not registered" in r.json()["error"]
        d = decision(numeric, day=DAY, energies={("HOME", 3): 20.0})
        await _publish(producer, topics.decisions, [d])
        await eventually(lambda: _stored(pool, d.plan_id))

        async def arrived() -> bool:  # the response cache is dropped on the commit's NOTIFY
            r = await http.get(NEXT, params={"electric_vehicle": numeric})
            return r.status_code == 200 and r.json()["coverage"] == 100.0

        await eventually(arrived, within=5)


_NOT_ISO = "Value error, must be a date as YYYY-MM-DD"
_NO_MONTH_13 = (
    "Input should be a valid date or datetime, month value is outside expected range of 1-12"
)


@pytest.mark.parametrize("service", [FIXED_CLOCK], indirect=True)
async def test_bad_parameters_answer_400_in_the_original_shape(service, numeric):
    ev = "electric_vehicle"
    required = ["This field is required."]
    cases = [
        (NEXT, {}, {ev: required}),
        (NEXT, {ev: ""}, {ev: ["String should have at least 1 character"]}),
        (LIST, {"date": "2031-01-15"}, {ev: required}),
        (LIST, {ev: "x" * 65}, {ev: ["String should have at most 64 characters"]}),
        (LIST, {ev: numeric, "date": "15.01.2031"}, {"date": [_NOT_ISO]}),
        (LIST, {ev: numeric, "date": "2031-13-45"}, {"date": [_NO_MONTH_13]}),
        (
            LIST,
            {ev: numeric, "delivery_day": "2031-01-15", "limit": "5"},
            {"non_field_errors": [
                "electric_vehicle and date (the original API) cannot be combined with "
                "delivery_day, limit (chargeflow's)"
            ]},
        ),
    ]  # fmt: skip
    async with httpx.AsyncClient(base_url=service.base_url, headers=token(service, "anna")) as http:
        for path, params, errors in cases:
            r = await http.get(path, params=params)
            assert (r.status_code, r.json()) == (400, errors), (path, params)
            assert r.headers["content-type"] == "application/json"
        # without credentials: chargeflow's 401, whose `detail` is what DRF clients read
        r = await http.get(
            NEXT, params={"electric_vehicle": numeric}, headers={"Authorization": ""}
        )
        assert r.status_code == 401 and r.json()["detail"] == "missing bearer token"
        # chargeflow's own requests keep their problem documents
        r = await http.get(LIST, params={"delivery_day": "2031-13-45"})
        assert r.status_code == 422 and r.headers["content-type"] == "application/problem+json"


@pytest.mark.parametrize("service", [FIXED_CLOCK], indirect=True)
async def test_the_original_endpoints_keep_the_per_token_rate_limit(service, numeric):
    # the service's defaults: 20 requests/s per token, burst 40
    async with httpx.AsyncClient(base_url=service.base_url, headers=token(service, "anna")) as http:
        answers = await asyncio.gather(
            *(http.get(NEXT, params={"electric_vehicle": numeric}) for _ in range(60))
        )
        limited = [r for r in answers if r.status_code == 429]
        assert limited and {r.status_code for r in answers} <= {404, 429}
        assert int(limited[0].headers["retry-after"]) >= 1
        assert "rate limit" in limited[0].json()["detail"]  # what DRF clients read
        r = await http.get(NEXT, params={"electric_vehicle": numeric}, headers=service.auth("bob"))
        assert r.status_code == 403  # another token is not limited
