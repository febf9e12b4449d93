"""The decision list is paged by key: every page bounded, all pages together the whole day."""

from __future__ import annotations

import random
import uuid
from datetime import date, timedelta

import httpx
import pytest

from schemas.events import PlanSubmitted
from schemas.plan import BidStep, Stop
from tests.integration.decisions.conftest import eventually
from tests.integration.decisions.test_api import _publish
from tests.unit.decisions.factories import decision, mtus

pytestmark = pytest.mark.integration

URL = "/charging-schedules-decisions/"


async def _pages(http: httpx.AsyncClient, params: dict, headers: dict) -> list[list[dict]]:
    pages, cursor = [], None
    while True:
        query = {**params, **({"cursor": cursor} if cursor else {})}
        r = await http.get(URL, params=query, headers=headers)
        assert r.status_code == 200, r.text
        body = r.json()
        pages.append(body["decisions"])
        cursor = body["next_cursor"]
        if cursor is None:
            return pages
        assert len(pages) < 50, "paging does not end"


async def test_pages_are_bounded_disjoint_and_together_the_whole_day(
    service, producer, topics, pool
):
    day = date(2031, 1, 1) + timedelta(days=random.randrange(3000))  # a day no other test uses
    anna, bob = service.vehicles["anna"], service.vehicles["bob"]
    decided = [decision(anna, day=day) for _ in range(25)] + [
        decision(bob, day=day) for _ in range(7)
    ]
    pending = [
        PlanSubmitted(
            plan_id=uuid.uuid4(),
            vehicle_id=anna,
            market_area="PL",
            delivery_day=day,
            bid=[BidStep(energy_kwh=5, price_eur_mwh=100)],
            stops=[Stop(charging_point_id="P1", arrival=mtus(day)[2], departure=mtus(day)[4])],
        )
        for _ in range(4)
    ]
    await _publish(producer, topics.decisions, decided)
    await _publish(producer, topics.plans, pending)

    async def stored() -> bool:
        n = await pool.fetchval(
            "SELECT count(*) FROM schedule_decisions WHERE delivery_day = $1", day
        )
        m = await pool.fetchval("SELECT count(*) FROM plans WHERE delivery_day = $1", day)
        return n == 32 and m == 4

    await eventually(stored)
    everyone = [
        str(d.plan_id) for d in sorted(decided, key=lambda d: (d.vehicle_id, str(d.plan_id)))
    ]
    everyone += [str(p.plan_id) for p in sorted(pending, key=lambda p: str(p.plan_id))]
    async with httpx.AsyncClient(base_url=service.base_url) as http:
        pages = await _pages(
            http, {"delivery_day": day.isoformat(), "limit": 6}, service.auth("op")
        )
        assert [len(p) for p in pages] == [6, 6, 6, 6, 6, 6]  # 36 items, the last page full
        assert [d["plan_id"] for page in pages for d in page] == everyone
        statuses = [d["status"] for page in pages for d in page]
        assert statuses == ["accepted"] * 32 + ["pending"] * 4  # decided first

        mine = await _pages(
            http, {"delivery_day": day.isoformat(), "limit": 10}, service.auth("anna")
        )
        assert [len(p) for p in mine] == [10, 10, 9]
        assert {d["vehicle_id"] for page in mine for d in page} == {anna}

        one_go = await http.get(
            URL, params={"delivery_day": day.isoformat()}, headers=service.auth("op")
        )
        assert [d["plan_id"] for d in one_go.json()["decisions"]] == everyone  # default 1 000
        assert one_go.json()["next_cursor"] is None

        for bad in ({"limit": 0}, {"limit": 10_001}, {"cursor": "0:not-a-uuid:V1"}):
            r = await http.get(
                URL, params={"delivery_day": day.isoformat(), **bad}, headers=service.auth("op")
            )
            assert r.status_code == 422 and r.headers["content-type"] == "application/problem+json"
            assert r.json()["errors"][0]["loc"] in ("limit", "cursor")
