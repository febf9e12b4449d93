"""POST /charging-schedules/ on the real broker and PostgreSQL: 202 means stored."""

from __future__ import annotations

import asyncio
import uuid

import pytest

from schemas.events import PlanSubmitted
from schemas.plan import ChargingPlan
from services.common import registry
from tests.integration.ingest.conftest import auth, plan
from tests.integration.ingest.helpers import read_events

pytestmark = pytest.mark.integration
URL = "/charging-schedules/"


async def test_accepted_plan_is_on_the_topic_with_the_same_content(
    make_gateway, tokens, consumer_factory
):
    client, app = await make_gateway()
    body = plan()
    response = await client.post(URL, json=body, headers=auth(tokens["driver-anna"]))
    assert response.status_code == 202, response.text
    assert response.json() == {"plan_id": body["plan_id"], "revision": 1, "status": "accepted"}
    consumer = await consumer_factory(app.state.settings.plans_topic)
    [(key, event)] = await read_events(consumer, 1)
    assert key == b"V001"
    assert isinstance(event, PlanSubmitted) and event.source == "ingest"
    assert event.to_plan() == ChargingPlan.model_validate(body)


async def test_missing_bad_and_revoked_tokens_get_401(make_gateway, tokens, pool):
    client, _ = await make_gateway(token_cache_ttl_s=0.2)
    for headers in ({}, auth("cf_not-a-token"), {"Authorization": "Basic abc"}):
        response = await client.post(URL, json=plan(), headers=headers)
        assert response.status_code == 401
        assert response.headers["content-type"] == "application/problem+json"
        assert response.headers["www-authenticate"].startswith("Bearer")
    async with pool.acquire() as conn:
        token_id, token = await registry.create_token(conn, "driver-anna", "revoke me")
    assert (await client.post(URL, json=plan(), headers=auth(token))).status_code == 202
    async with pool.acquire() as conn:
        await registry.revoke_token(conn, token_id)
    await asyncio.sleep(0.3)  # the token cache TTL of this gateway
    assert (await client.post(URL, json=plan(), headers=auth(token))).status_code == 401


async def test_vehicle_user_gets_403_for_a_vehicle_not_theirs(make_gateway, tokens):
    client, _ = await make_gateway()
    response = await client.post(URL, json=plan("V002"), headers=auth(tokens["driver-anna"]))
    assert response.status_code == 403
    assert response.json()["errors"][0]["loc"] == "vehicle_id"
    operator = await client.post(URL, json=plan("V002"), headers=auth(tokens["operator"]))
    assert operator.status_code == 202


async def test_invalid_plan_gets_422_listing_every_field_error(make_gateway, tokens):
    client, _ = await make_gateway()
    stops = [
        {
            "charging_point_id": "P-WORK-01",
            "arrival": "2026-11-26T08:00:00+01:00",
            "departure": "2026-11-26T16:30:00+01:00",
        },
        {
            "charging_point_id": "P-NOPE",
            "arrival": "2026-11-26T10:00:00+01:00",
            "departure": "2026-11-26T18:00:00+01:00",
        },
    ]
    bid = [{"energy_kwh": 5.0, "price_eur_mwh": 100.0}, {"energy_kwh": 5.0, "price_eur_mwh": 300.0}]
    response = await client.post(
        URL,
        json=plan(stops=stops, bid=bid, initial_soc_kwh=99.0),
        headers=auth(tokens["driver-anna"]),
    )
    assert response.status_code == 422
    problem = response.json()
    assert response.headers["content-type"] == "application/problem+json"
    assert problem["type"] == "urn:chargeflow:problem:invalid-plan" and problem["status"] == 422
    locs = {e["loc"] for e in problem["errors"]}
    assert {"initial_soc_kwh", "stops[1].charging_point_id", "bid[1].price_eur_mwh"} <= locs
    assert any("overlap" in e["reason"] for e in problem["errors"])


async def test_schema_errors_and_naive_timestamps_get_422(make_gateway, tokens):
    client, _ = await make_gateway()
    body = plan()
    body["stops"][0]["arrival"] = "2026-11-26T08:00:00"
    del body["stops"][0]["charging_point_id"]  # (a missing bid is the operator's default now)
    response = await client.post(URL, json=body, headers=auth(tokens["driver-anna"]))
    assert response.status_code == 422
    errors = {e["loc"]: e["reason"] for e in response.json()["errors"]}
    assert "naive" in errors["stops[0].arrival"]
    assert errors["stops[0].charging_point_id"] == "field required"
    garbage = await client.post(URL, content=b"{nope", headers=auth(tokens["driver-anna"]))
    assert garbage.status_code == 422 and "invalid JSON" in garbage.json()["errors"][0]["reason"]


async def test_plan_after_gate_closure_gets_409(make_gateway, tokens):
    client, _ = await make_gateway()
    day = "2026-11-25"  # closed at 2026-11-24T12:00:00+01:00
    stop = {
        "charging_point_id": "P-WORK-01",
        "arrival": f"{day}T18:00:00+01:00",
        "departure": f"{day}T22:00:00+01:00",
    }
    response = await client.post(
        URL, json=plan(delivery_day=day, stops=[stop]), headers=auth(tokens["driver-anna"])
    )
    assert response.status_code == 409
    [error] = response.json()["errors"]
    assert error == {
        "loc": "delivery_day",
        "reason": "gate closure for 2026-11-25 passed at 2026-11-24T12:00:00+01:00",
    }


async def test_resubmission_is_idempotent_and_older_revision_gets_409(
    make_gateway, tokens, consumer_factory
):
    client, app = await make_gateway()
    headers = auth(tokens["fleet-demo"])
    body = plan("V002", revision=2)
    assert (await client.post(URL, json=body, headers=headers)).status_code == 202
    assert (await client.post(URL, json=body, headers=headers)).status_code == 202
    older = await client.post(URL, json={**body, "revision": 1}, headers=headers)
    assert older.status_code == 409 and older.json()["errors"][0]["loc"] == "revision"
    assert (
        await client.post(URL, json={**body, "revision": 3}, headers=headers)
    ).status_code == 202
    consumer = await consumer_factory(app.state.settings.plans_topic)
    events = await read_events(consumer, 2)
    assert [e.revision for _, e in events] == [2, 3]


async def test_crash_between_ack_and_revision_write_still_accepts_the_retry(
    make_gateway, tokens, consumer_factory, pool
):
    client, app = await make_gateway()
    store = app.state.gateway.store
    real_record = store.record

    async def crash(accepted):  # the process "dies" after the ack, before the write
        raise ConnectionResetError("simulated crash")

    store.record = crash
    body = plan("V003")
    headers = auth(tokens["fleet-demo"])
    assert (await client.post(URL, json=body, headers=headers)).status_code == 202
    row = await pool.fetchrow(
        "SELECT * FROM ingest_plan_revisions WHERE plan_id = $1", uuid.UUID(body["plan_id"])
    )
    assert row is None
    store.record = real_record
    assert (await client.post(URL, json=body, headers=headers)).status_code == 202
    consumer = await consumer_factory(app.state.settings.plans_topic)
    events = await read_events(consumer, 2)
    # published twice with the same plan_id+revision: consumers dedupe; nothing was lost
    assert {(str(e.plan_id), e.revision) for _, e in events} == {(body["plan_id"], 1)}
    assert len(events) == 2
    revision = await pool.fetchval(
        "SELECT revision FROM ingest_plan_revisions WHERE plan_id = $1", uuid.UUID(body["plan_id"])
    )
    assert revision == 1


async def test_body_over_one_mib_gets_413(make_gateway, tokens):
    client, _ = await make_gateway()
    body = plan(padding="x" * (1024 * 1024))
    response = await client.post(URL, json=body, headers=auth(tokens["driver-anna"]))
    assert response.status_code == 413
    assert response.headers["content-type"] == "application/problem+json"

    async def chunks():  # no Content-Length: the limit is enforced while streaming
        for _ in range(20):
            yield b" " * 65536

    streamed = await client.post(URL, content=chunks(), headers=auth(tokens["driver-anna"]))
    assert streamed.status_code == 413


async def test_rate_limit_per_token_gets_429_with_retry_after(make_gateway, tokens):
    client, _ = await make_gateway(rate_limit_per_s=0.5, rate_limit_burst=2)
    statuses = []
    for _ in range(3):
        response = await client.post(URL, json=plan(), headers=auth(tokens["driver-anna"]))
        statuses.append(response.status_code)
    assert statuses == [202, 202, 429]
    assert int(response.headers["retry-after"]) >= 1
    other = await client.post(URL, json=plan("V002"), headers=auth(tokens["fleet-demo"]))
    assert other.status_code == 202  # the limit is per token


async def test_nul_character_in_vehicle_id_is_422_not_a_database_error(make_gateway, tokens):
    # Found by the fuzzer: PostgreSQL text cannot hold NUL, the lookup used to fail with 503.
    client, _ = await make_gateway()
    response = await client.post(URL, json=plan("V\x00"), headers=auth(tokens["operator"]))
    assert response.status_code == 422
    assert response.json()["errors"][0]["loc"] == "vehicle_id"


async def test_metrics_count_requests_by_route_and_plans_by_reason(make_gateway, tokens):
    client, _ = await make_gateway()
    await client.post(URL, json=plan(), headers=auth(tokens["driver-anna"]))
    await client.post(URL, json=plan("V002"), headers=auth(tokens["driver-anna"]))
    text = (await client.get("/metrics")).text
    assert (
        'chargeflow_http_requests_total{method="POST",route="/charging-schedules/",'
        'service="ingest",status="202"}' in text
    )
    assert 'chargeflow_plans_rejected_total{reason="forbidden"}' in text
    for name in (
        "chargeflow_plans_accepted_total",
        "chargeflow_ingest_publish_duration_seconds",
        "chargeflow_http_request_duration_seconds_bucket",
    ):
        assert name in text
    assert (await client.get("/healthz")).json() == {"status": "ok"}
    assert (await client.get("/readyz")).json() == {"status": "ready"}


async def test_revision_beyond_64_bits_gets_422_not_a_crash(make_gateway, tokens):
    # Found by the fuzzer: echoing such a revision in the batch result crashed orjson.
    client, _ = await make_gateway()
    body = plan(revision=47680861589249556480)
    batch = await client.post(
        "/charging-schedules/batch", json={"plans": [body]}, headers=auth(tokens["operator"])
    )
    assert batch.status_code == 200
    [item] = batch.json()["results"]
    # The schema bounds the revision (0 .. 2**31-1): refused at parsing, so not echoed.
    assert item["http_status"] == 422 and item["revision"] is None
    assert [e["loc"] for e in item["errors"]] == ["revision"]
    single = await client.post(URL, json=body, headers=auth(tokens["operator"]))
    assert single.status_code == 422
