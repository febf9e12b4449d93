"""chargeflow's own list: the next delivery day by default, from/to history paged by key
across days, and charging windows beside the allocations — on the real broker and
PostgreSQL, with a fixed clock."""

from __future__ import annotations

import random
import uuid
from datetime import UTC, date, datetime, time, timedelta

import httpx
import pytest

from schemas.events import PlanSubmitted
from schemas.plan import BidStep, Stop
from tests.integration.decisions.conftest import eventually
from tests.integration.decisions.test_api import _publish
from tests.integration.decisions.test_paging import _pages
from tests.unit.decisions.factories import decision, mtus

pytestmark = pytest.mark.integration

URL = "/charging-schedules-decisions/"
# Days no other test uses: decisions of every vehicle are listed to the operator.
FIRST = date(2034, 1, 1) + timedelta(days=random.randrange(0, 3000, 10))
NOW = datetime.combine(FIRST, time(15), tzinfo=UTC)  # 16:00 in Warsaw: FIRST + 1 is next
FIXED_CLOCK = {"settings": {"clock_start": NOW, "clock_speed": 0}}


def _pending(vehicle: str, day: date) -> PlanSubmitted:
    return PlanSubmitted(
        plan_id=uuid.uuid4(), vehicle_id=vehicle, market_area="PL", delivery_day=day,
        bid=[BidStep(energy_kwh=5, price_eur_mwh=100)],
        stops=[Stop(charging_point_id="P1", arrival=mtus(day)[2], departure=mtus(day)[4])],
    )  # fmt: skip


async def _count(pool, days: list[date]) -> tuple[int, int]:
    decided = await pool.fetchval(
        "SELECT count(*) FROM schedule_decisions WHERE delivery_day = ANY($1)", days
    )
    plans = await pool.fetchval("SELECT count(*) FROM plans WHERE delivery_day = ANY($1)", days)
    return decided, plans


@pytest.mark.parametrize("service", [FIXED_CLOCK], indirect=True)
async def test_without_a_day_the_list_is_the_next_delivery_days(service, producer, topics, pool):
    anna = service.vehicles["anna"]
    today, tomorrow = decision(anna, day=FIRST), decision(anna, day=FIRST + timedelta(days=1))
    await _publish(producer, topics.decisions, [today, tomorrow])

    async def stored() -> bool:
        return (await _count(pool, [FIRST, FIRST + timedelta(days=1)]))[0] == 2

    await eventually(stored)
    async with httpx.AsyncClient(base_url=service.base_url, headers=service.auth("anna")) as http:
        r = await http.get(URL)
        assert r.status_code == 200, r.text
        body = r.json()
        tomorrow_text = str(FIRST + timedelta(days=1))
        assert (body["delivery_day"], body["from"], body["to"]) == (tomorrow_text,) * 3
        assert [d["plan_id"] for d in body["decisions"]] == [str(tomorrow.plan_id)]
        r = await http.get(URL, headers={"If-None-Match": r.headers["etag"]})
        assert r.status_code == 304


@pytest.mark.parametrize("service", [FIXED_CLOCK], indirect=True)
async def test_from_to_history_pages_are_bounded_disjoint_and_together_every_day(
    service, producer, topics, pool
):
    anna, bob = service.vehicles["anna"], service.vehicles["bob"]
    days = [FIRST + timedelta(days=3 + i) for i in range(4)]  # the third day has nothing
    decided = [decision(v, day=d) for d in (days[0], days[1], days[3]) for v in (anna, anna, bob)]
    pending = [_pending(anna, days[1]), _pending(bob, days[3])]
    await _publish(producer, topics.decisions, decided)
    await _publish(producer, topics.plans, pending)

    async def stored() -> bool:
        return await _count(pool, days) == (9, 2)

    await eventually(stored)

    def key(item) -> tuple:
        return (item.delivery_day, item in pending, item.vehicle_id, str(item.plan_id))

    everyone = [str(x.plan_id) for x in sorted([*decided, *pending], key=key)]
    window = {"from": str(days[0]), "to": str(days[3])}
    async with httpx.AsyncClient(base_url=service.base_url) as http:
        pages = await _pages(http, {**window, "limit": 4}, service.auth("op"))
        assert [len(p) for p in pages] == [4, 4, 3]
        assert [d["plan_id"] for page in pages for d in page] == everyone
        r = await http.get(URL, params={**window, "limit": 4}, headers=service.auth("op"))
        assert (r.json()["delivery_day"], r.json()["from"], r.json()["to"]) == (
            None, str(days[0]), str(days[3])
        )  # fmt: skip
        statuses = [(d["delivery_day"], d["status"]) for page in pages for d in page]
        assert statuses == [  # day by day, decided plans first
            *[(str(days[0]), "accepted")] * 3,
            *[(str(days[1]), "accepted")] * 3, (str(days[1]), "pending"),
            *[(str(days[3]), "accepted")] * 3, (str(days[3]), "pending"),
        ]  # fmt: skip
        # a vehicle user's pages hold its own vehicle's, across the days
        mine = await _pages(http, {**window, "limit": 2}, service.auth("anna"))
        own = [
            str(x.plan_id) for x in sorted([*decided, *pending], key=key) if x.vehicle_id == anna
        ]
        assert [d["plan_id"] for page in mine for d in page] == own and len(own) == 7
        # from alone reaches a year ahead; a day after the last: nothing
        r = await http.get(URL, params={"from": str(days[3])}, headers=service.auth("anna"))
        assert r.json()["to"] == str(days[3] + timedelta(days=365))
        assert len(r.json()["decisions"]) == 2
        bad = [
            ({"from": str(days[3]), "to": str(days[0])}, "to", "is before from"),
            ({"from": str(days[0]), "to": str(days[0] + timedelta(days=366))}, "to", "366 days"),
            ({"delivery_day": str(days[0]), "from": str(days[0])}, "from", "not both"),
            ({"from": "2034-02-30"}, "from", "day value is outside expected range"),
        ]
        for params, loc, reason in bad:
            r = await http.get(URL, params=params, headers=service.auth("anna"))
            assert r.status_code == 422 and r.headers["content-type"] == "application/problem+json"
            [error] = r.json()["errors"]
            assert error["loc"] == loc and reason in error["reason"], error


@pytest.mark.parametrize("service", [FIXED_CLOCK], indirect=True)
async def test_every_decision_carries_its_charging_windows_per_point(
    service, producer, topics, pool
):
    anna = service.vehicles["anna"]
    day = FIRST + timedelta(days=1)
    h = mtus(day)
    plan = PlanSubmitted(
        plan_id=uuid.uuid4(), revision=1, vehicle_id=anna, market_area="PL", delivery_day=day,
        bid=[BidStep(energy_kwh=20, price_eur_mwh=300)],
        stops=[Stop(charging_point_id="HOME", arrival=h[0], departure=h[3]),
               Stop(charging_point_id="WORK", arrival=h[8] + timedelta(minutes=45),
                    departure=h[16])],
    )  # fmt: skip
    energies = {("HOME", 1): 7.0, ("HOME", 2): 3.5, ("WORK", 8): 2.75, ("WORK", 9): 4.0}
    d = decision(anna, plan_id=plan.plan_id, revision=1, day=day, energies=energies)
    later = _pending(anna, day)
    await _publish(producer, topics.plans, [plan, later])
    await _publish(producer, topics.decisions, [d])

    async def stored() -> bool:
        n = await pool.fetchval("SELECT count(*) FROM plans WHERE plan_id = $1", later.plan_id)
        return n == 1 and await pool.fetchval(
            "SELECT count(*) FROM schedule_decisions WHERE plan_id = $1", d.plan_id
        )

    await eventually(stored)
    async with httpx.AsyncClient(base_url=service.base_url, headers=service.auth("anna")) as http:
        r = await http.get(URL, params={"delivery_day": str(day), "vehicle_id": anna})
    items = {i["plan_id"]: i for i in r.json()["decisions"]}
    got = items[str(d.plan_id)]
    assert len(got["allocations"]) == 4  # the per-MTU allocations stay beside the windows
    assert got["windows"] == [
        {"charging_point_id": "HOME", "start": h[1].isoformat(), "end": h[3].isoformat(),
         "energy_kwh": 10.5},
        # the vehicle arrives at 08:45: the window starts then, not with the MTU
        {"charging_point_id": "WORK", "start": (h[8] + timedelta(minutes=45)).isoformat(),
         "end": h[10].isoformat(), "energy_kwh": 6.75},
    ]  # fmt: skip
    assert items[str(later.plan_id)]["status"] == "pending"
    assert items[str(later.plan_id)]["windows"] == []
