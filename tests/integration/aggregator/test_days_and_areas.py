"""Two market areas and two delivery days at once, one of them a DST day (23 h)."""

from __future__ import annotations

import uuid
from datetime import date, datetime, time, timedelta

import pytest

from schemas.market_day import mtu_count, zone
from services.aggregator.topics import Names
from services.aggregator.worker import Worker
from services.common.clock import Clock
from tests.integration.aggregator.fleet import (
    config,
    market_service,
    plan,
    plan_records,
    read_until,
    send_all,
    settings,
)

pytestmark = pytest.mark.integration

DST = date(2027, 3, 28)  # clocks go forward in Europe: a 23-hour delivery day
NEXT = date(2027, 3, 29)


async def test_two_areas_two_days(kafka_bootstrap, prefix, producer, tasks):
    await _run(kafka_bootstrap, prefix, producer, tasks, date(2026, 11, 26), date(2026, 11, 27))


async def test_dst_day_has_23_mtus(kafka_bootstrap, prefix, producer, tasks):
    await _run(kafka_bootstrap, prefix, producer, tasks, DST, NEXT)


async def _run(kafka_bootstrap, prefix, producer, tasks, first: date, second: date) -> None:
    DST, NEXT = first, second
    n = Names(prefix)
    areas = {"PL": "Europe/Warsaw", "PT": "Europe/Lisbon"}
    docs = []
    for area, tz in areas.items():
        cfg = config(area, [DST, NEXT], tz)
        await send_all(producer, n.config, [(area.encode(), cfg.model_dump_json().encode())])
        for day in (DST, NEXT):
            docs += [plan(i, day, area, tz=tz, plan_id=uuid.uuid4()) for i in range(12)]
    await send_all(producer, n.plans, plan_records(docs))
    # Before any closure; then past both closures of both areas (Lisbon closes an hour later).
    clock = Clock.fixed(datetime.combine(DST, time(9), tzinfo=zone("UTC")) - timedelta(days=1))
    tasks(Worker(settings(kafka_bootstrap, prefix), clock).run())
    tasks(market_service(kafka_bootstrap, prefix, clock).run())
    clock.set(datetime.combine(DST, time(13, 1), tzinfo=zone("Europe/Lisbon")))

    decisions = await read_until(kafka_bootstrap, n.decisions, lambda v: len(v) >= 48, 60)
    assert {d["plan_id"] for d in decisions} == {d["plan_id"] for d in docs}
    assert all(d["status"] == "accepted" for d in decisions), decisions[0]["reasons"]
    results = await read_until(
        kafka_bootstrap, n.results, lambda v: sum(r["phase"] == 2 for r in v) >= 4
    )
    final = {(r["market_area"], r["delivery_day"]): r for r in results if r["phase"] == 2}
    assert set(final) == {(a, d.isoformat()) for a in areas for d in (DST, NEXT)}
    assert len({r["run_id"] for r in final.values()}) == 4
    for (area, day), r in final.items():
        want = mtu_count(date.fromisoformat(day), areas[area], 60)
        assert len(r["mtu_starts"]) == want
        assert r["plans_total"] == 12
        tz = zone(areas[area])
        assert datetime.fromisoformat(r["mtu_starts"][0]) == datetime.combine(
            date.fromisoformat(day), time(0), tzinfo=tz
        )
    for d in decisions:  # every allocation lies in its own local delivery day
        for a in d["allocations"]:
            local = datetime.fromisoformat(a["mtu_start"]).astimezone(zone(areas[d["market_area"]]))
            assert local.date().isoformat() == d["delivery_day"]
