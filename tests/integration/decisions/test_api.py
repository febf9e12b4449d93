"""Vehicle and operator HTTP APIs on a running service fed through the real broker."""

from __future__ import annotations

import json
import re
import uuid
from datetime import date
from pathlib import Path

import httpx
import jsonschema
import ocpp
import pytest

from schemas.events import PlanSubmitted
from schemas.network import Node
from schemas.plan import BidStep, Stop
from services.common import registry
from services.decisions import store
from services.decisions.ocpp import profile_energy_kwh
from services.decisions.records import Record
from tests.integration.decisions.conftest import eventually
from tests.unit.decisions.factories import DAY, cleared, decision, mtus

pytestmark = pytest.mark.integration

URL = "/charging-schedules-decisions/"
SET_PROFILE_SCHEMA = json.loads(
    (Path(ocpp.__file__).parent / "v201/schemas/SetChargingProfileRequest.json").read_text()
)


async def _publish(producer, topic, events):
    for e in events:
        key = getattr(e, "vehicle_id", None) or e.key
        await producer.send(topic, e.model_dump_json().encode(), key=key.encode())
    await producer.flush()


async def _stored(pool, plan_id, revision=None) -> bool:
    row = await pool.fetchrow("SELECT revision FROM schedule_decisions WHERE plan_id = $1", plan_id)
    return row is not None and (revision is None or row["revision"] == revision)


async def test_a_vehicle_user_sees_only_its_own_decisions(service, producer, topics, pool):
    anna, bob = service.vehicles["anna"], service.vehicles["bob"]
    mine, theirs = decision(anna), decision(bob)
    await _publish(producer, topics.decisions, [mine, theirs])
    await eventually(lambda: _stored(pool, theirs.plan_id))
    async with httpx.AsyncClient(base_url=service.base_url) as http:
        day = {"delivery_day": DAY.isoformat()}
        r = await http.get(URL, params=day, headers=service.auth("anna"))
        assert r.status_code == 200
        assert [d["plan_id"] for d in r.json()["decisions"]] == [str(mine.plan_id)]
        got = r.json()["decisions"][0]
        assert got["status"] == "accepted" and got["accepted_kwh"] == 10.5
        assert got["allocations"][0]["mtu_start"] == "2026-11-26T01:00:00+01:00"
        r = await http.get(URL, params={**day, "vehicle_id": bob}, headers=service.auth("anna"))
        assert r.status_code == 404 and r.headers["content-type"] == "application/problem+json"
        r = await http.get(f"{URL}{theirs.plan_id}/ocpp", headers=service.auth("anna"))
        assert r.status_code == 404  # not 403: a foreign plan id is not even confirmed to exist
        r = await http.get(f"{URL}{mine.plan_id}/ocpp", headers=service.auth("anna"))
        assert r.status_code == 200
        r = await http.get(URL, params=day, headers=service.auth("op"))
        seen = {d["plan_id"] for d in r.json()["decisions"]}
        assert {str(mine.plan_id), str(theirs.plan_id)} <= seen


async def test_etag_answers_304_until_the_decision_changes(service, producer, topics, pool):
    anna = service.vehicles["anna"]
    first = decision(anna, revision=1)
    await _publish(producer, topics.decisions, [first])
    await eventually(lambda: _stored(pool, first.plan_id))
    params = {"delivery_day": DAY.isoformat(), "vehicle_id": anna}
    async with httpx.AsyncClient(base_url=service.base_url, headers=service.auth("anna")) as http:
        r = await http.get(URL, params=params)
        etag = r.headers["etag"]
        assert r.headers["cache-control"] == "private, no-cache"
        r = await http.get(URL, params=params, headers={"If-None-Match": etag})
        assert r.status_code == 304 and r.content == b""
        newer = decision(anna, plan_id=first.plan_id, revision=2, energies={("P-WORK-01", 9): 4.0})
        await _publish(producer, topics.decisions, [newer])
        await eventually(lambda: _stored(pool, first.plan_id, 2))

        async def changed() -> bool:
            r = await http.get(URL, params=params, headers={"If-None-Match": etag})
            return r.status_code == 200 and r.json()["decisions"][0]["revision"] == 2

        await eventually(changed, within=5)


async def test_bad_requests_get_problem_details_with_field_errors(service):
    async with httpx.AsyncClient(base_url=service.base_url) as http:
        r = await http.get(URL, params={"delivery_day": "2026-13-45"}, headers=service.auth("anna"))
        assert r.status_code == 422
        assert r.headers["content-type"] == "application/problem+json"
        assert r.json()["errors"][0]["loc"] == "delivery_day"
        r = await http.get(URL, params={"delivery_day": DAY.isoformat()})
        assert r.status_code == 401 and r.json()["status"] == 401
        assert r.headers["www-authenticate"].startswith("Bearer")
        r = await http.get(URL, params={"delivery_day": DAY.isoformat()},
                           headers={"Authorization": "Bearer nope"})  # fmt: skip
        assert r.status_code == 401
        r = await http.get(f"{URL}not-a-uuid/ocpp", headers=service.auth("anna"))
        assert r.status_code == 422 and r.json()["errors"][0]["loc"] == "plan_id"


async def test_ocpp_profiles_are_valid_and_deliver_exactly_the_allocated_energy(
    service, producer, topics, pool
):
    anna = service.vehicles["anna"]
    energies = {("P-HOME-01", 0): 7.4, ("P-HOME-01", 1): 3.3, ("P-HOME-01", 4): 1.05,
                ("P-WORK-02", 9): 11.0, ("P-WORK-02", 10): 0.123}  # fmt: skip
    d = decision(anna, energies=energies)
    await _publish(producer, topics.decisions, [d])
    await eventually(lambda: _stored(pool, d.plan_id))
    async with httpx.AsyncClient(base_url=service.base_url) as http:
        r = await http.get(f"{URL}{d.plan_id}/ocpp", headers=service.auth("anna"))
    body = r.json()
    assert [p["charging_point_id"] for p in body["profiles"]] == ["P-HOME-01", "P-WORK-02"]
    for item in body["profiles"]:
        profile = item["charging_profile"]
        jsonschema.validate({"evseId": 1, "chargingProfile": profile}, SET_PROFILE_SCHEMA)
        assert profile["chargingProfilePurpose"] == "TxProfile"
        assert profile["chargingProfileKind"] == "Absolute"
        schedule = profile["chargingSchedule"][0]
        assert schedule["chargingRateUnit"] == "W"
        want = sum(e for (p, _), e in energies.items() if p == item["charging_point_id"])
        assert profile_energy_kwh(profile) == pytest.approx(want, abs=1e-3)
    home = body["profiles"][0]["charging_profile"]["chargingSchedule"][0]
    assert home["startSchedule"] == "2026-11-25T23:00:00Z"  # 00:00 local = first MTU
    assert [p["limit"] for p in home["chargingSchedulePeriod"]] == [7400, 3300, 0, 0, 1050]
    total = sum(profile_energy_kwh(p["charging_profile"]) for p in body["profiles"])
    assert total == pytest.approx(d.accepted_kwh, abs=1e-3)


async def test_day_summary_shows_totals_energy_against_capacity_and_prices(
    service, producer, topics, pool
):
    area = f"S{uuid.uuid4().hex[:5]}"
    async with pool.acquire() as conn:
        await registry.upsert_market_area(conn, registry.MarketArea(id=area))
        await registry.upsert_node(conn, Node(id=f"{area}-N1", capacity_kw=50.0), area)
    run = cleared(area=area, nodes=(f"{area}-N1",))
    plan = PlanSubmitted(
        plan_id=uuid.uuid4(), vehicle_id=service.vehicles["bob"], market_area=area,
        delivery_day=DAY, revision=0, bid=[BidStep(energy_kwh=12, price_eur_mwh=200)],
        stops=[Stop(charging_point_id="P1", arrival=mtus()[2], departure=mtus()[5])],
    )  # fmt: skip
    await _publish(producer, topics.results, [run, cleared(area=area, run_id="p1", phase=1)])
    await _publish(producer, topics.plans, [plan])
    await _publish(producer, topics.decisions, [decision(service.vehicles["bob"], area=area)])

    async def ready() -> bool:
        return await pool.fetchval(
            "SELECT count(*) FROM auction_runs WHERE market_area = $1", area
        ) == 2 and await pool.fetchval("SELECT count(*) FROM plans WHERE market_area = $1", area)

    await eventually(ready)
    try:
        await _check_summary(service, area, plan.plan_id)
    finally:
        await pool.execute("DELETE FROM nodes WHERE market_area = $1", area)
        await pool.execute("DELETE FROM market_areas WHERE id = $1", area)


async def _check_summary(service, area: str, plan_id: uuid.UUID) -> None:
    path = f"/operator/api/days/{area}/{DAY.isoformat()}"
    async with httpx.AsyncClient(base_url=service.base_url) as http:
        r = await http.get(path, headers=service.auth("op"))
        assert r.status_code == 200, r.text
        s = r.json()
        assert s["run"]["run_id"] == "run-1" and s["run"]["phase"] == 2  # phase 2 wins
        assert s["run"]["welfare_eur"] == 12.5 and s["run"]["coverage"] == 0.75
        assert s["plans"]["submitted"] == 1 and s["plans"]["requested_kwh"] == 12.0
        node = s["run"]["nodes"][0]
        assert node["capacity_kwh"] == 50.0 and len(node["energy_kwh"]) == 24
        assert s["run"]["prices_eur_mwh"][:2] == [90.0, 91.0]
        assert [x["run_id"] for x in s["runs"]] == ["run-1", "p1"]
        assert (await http.get(path, headers=service.auth("anna"))).status_code == 403
        r = await http.get(f"/operator/api/days/{area}/2030-01-01", headers=service.auth("op"))
        assert r.status_code == 404
        # the vehicle sees its plan of that area as decided
        r = await http.get(
            URL, params={"delivery_day": DAY.isoformat()}, headers=service.auth("bob")
        )
        statuses = {d["plan_id"]: d["status"] for d in r.json()["decisions"]}
        assert statuses[str(plan_id)] == "pending"


async def test_health_readiness_and_metrics(service, producer, topics, pool):
    d = decision(service.vehicles["anna"], day=date(2026, 11, 27))
    await _publish(producer, topics.decisions, [d])
    await eventually(lambda: _stored(pool, d.plan_id))
    lag = rf'^chargeflow_consumer_lag{{[^}}]*topic="{re.escape(topics.decisions)}"[^}}]*}} 0\.0$'
    async with httpx.AsyncClient(base_url=service.base_url) as http:
        assert (await http.get("/healthz")).json() == {"status": "ok"}
        assert (await http.get("/readyz")).status_code == 200

        async def lag_reported() -> bool:  # reported after the batch, on the next poll
            return re.search(lag, (await http.get("/metrics")).text, re.M) is not None

        await eventually(lag_reported, within=5)
        text = (await http.get("/metrics")).text
    for name in ("chargeflow_decisions_persisted_total", "chargeflow_events_consumed_total",
                 "chargeflow_consumer_lag", "chargeflow_http_requests_total"):  # fmt: skip
        assert name in text
    # a phase-2 decision of a known area: gate closure (D-1 12:00 Warsaw) to served observed
    count = re.search(r"^chargeflow_gate_closure_to_decisions_seconds_count (\S+)$", text, re.M)
    assert count is not None and float(count.group(1)) >= 1


@pytest.mark.parametrize("service", [{"broker_down": True}], indirect=True)
async def test_without_a_broker_it_serves_the_database_and_is_not_ready(service, pool):
    d = decision(service.vehicles["anna"], day=date(2026, 11, 28))
    async with pool.acquire() as conn:  # written by an earlier run of the service, say
        await store.prepare(conn)
        await store.write(
            conn, "test-seed", [("decisions", Record("seed", 0, 0, d.model_dump_json().encode()))]
        )
    async with httpx.AsyncClient(base_url=service.base_url) as http:
        assert (await http.get("/healthz")).status_code == 200
        r = await http.get("/readyz")
        assert r.status_code == 503 and r.json()["errors"][0]["loc"] == "consumer"
        r = await http.get(URL, params={"delivery_day": "2026-11-28"}, headers=service.auth("anna"))
        assert [x["plan_id"] for x in r.json()["decisions"]] == [str(d.plan_id)]
    await pool.execute("DELETE FROM consumed_offsets WHERE consumer = 'test-seed'")
