"""The decisions service's published contract is exact: `st run --checks all` finds nothing,
with a vehicle token and with an operator token, on a service fed through the real broker
(decisions, a cleared run and a pending plan of a day, which is the next delivery day on the
service's fixed clock, so that the original API's next_day answers 200 too)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import httpx
import pytest

from schemas.events import PlanSubmitted
from schemas.network import Node
from schemas.plan import BidStep, Stop
from services.common import registry
from tests.integration.contract import run_st, with_examples
from tests.integration.decisions.conftest import eventually
from tests.integration.decisions.test_api import _publish
from tests.unit.decisions.factories import DAY, cleared, decision, mtus

pytestmark = [pytest.mark.integration, pytest.mark.slow]

NEXT_DAY = "/charging-schedules-decisions/next_day/"
# 16:00 in Warsaw the day before DAY: DAY is the next delivery day
FIXED_CLOCK = {
    "settings": {"clock_start": datetime(2026, 11, 25, 15, tzinfo=UTC), "clock_speed": 0}
}


@pytest.mark.parametrize("service", [FIXED_CLOCK], indirect=True)
@pytest.mark.parametrize("user", ["anna", "op"])
async def test_st_run_with_every_check_finds_nothing(
    user, service, producer, topics, pool, tmp_path
):
    area = f"C{uuid.uuid4().hex[:5]}"
    anna, bob = service.vehicles["anna"], service.vehicles["bob"]
    async with pool.acquire() as conn:
        await registry.upsert_market_area(conn, registry.MarketArea(id=area))
        await registry.upsert_node(conn, Node(id=f"{area}-N1", capacity_kw=50.0), area)
    mine = decision(anna, area=area)
    pending = PlanSubmitted(
        plan_id=uuid.uuid4(), vehicle_id=anna, market_area=area, delivery_day=DAY,
        bid=[BidStep(energy_kwh=12, price_eur_mwh=200)],
        stops=[Stop(charging_point_id="P1", arrival=mtus()[2], departure=mtus()[5])],
    )  # fmt: skip
    await _publish(producer, topics.results, [cleared(area=area, nodes=(f"{area}-N1",))])
    await _publish(producer, topics.plans, [pending])
    await _publish(producer, topics.decisions, [mine, decision(bob, area=area)])

    async def stored() -> bool:
        return await pool.fetchval(
            "SELECT count(*) FROM schedule_decisions WHERE market_area = $1", area
        ) == 2 and await pool.fetchval("SELECT count(*) FROM plans WHERE market_area = $1", area)

    await eventually(stored)
    try:
        async with httpx.AsyncClient(base_url=service.base_url) as http:
            document = (await http.get("/openapi.json")).json()
        examples = {
            "plan_id": str(mine.plan_id),
            "market_area": area,
            "delivery_day": DAY.isoformat(),
            "vehicle_id": anna,
            "limit": 1,  # the example's page has a next_cursor
        }
        document = with_examples(document, examples)
        # the original API's vehicle only on next_day: on the list path it would mix with the
        # examples of chargeflow's parameters (a 400), and the list's 200 would go unchecked
        for parameter in document["paths"][NEXT_DAY]["get"]["parameters"]:
            if parameter["name"] == "electric_vehicle":
                parameter["example"] = anna
        await run_st(document, service.base_url, service.tokens[user], tmp_path)
    finally:
        await pool.execute("DELETE FROM nodes WHERE market_area = $1", area)
        await pool.execute("DELETE FROM market_areas WHERE id = $1", area)
