"""Batches with mixed items, and cancellation, on the real broker and PostgreSQL."""

from __future__ import annotations

import pytest

from schemas.events import PlanCancelled, PlanSubmitted
from schemas.plan import ChargingPlan
from services.ingest import fastparse
from services.ingest.routes import plans as plan_routes
from tests.integration.ingest.conftest import auth, plan
from tests.integration.ingest.helpers import read_events

pytestmark = pytest.mark.integration
BATCH = "/charging-schedules/batch"


async def test_batch_with_mixed_items_answers_each_and_publishes_only_the_valid(
    make_gateway, tokens, consumer_factory
):
    client, app = await make_gateway()
    good = [plan("V001"), plan("V001", revision=4)]
    invalid = plan("V001", bid=[{"energy_kwh": -1, "price_eur_mwh": 10}])
    foreign = plan("V002")  # anna may not plan fleet-demo's car
    repeated = dict(good[0])
    items = [good[0], invalid, foreign, 42, good[1], repeated]
    response = await client.post(BATCH, json={"plans": items}, headers=auth(tokens["driver-anna"]))
    assert response.status_code == 200, response.text
    result = response.json()
    assert (result["accepted"], result["rejected"]) == (2, 4)
    statuses = [r["http_status"] for r in result["results"]]
    assert statuses == [202, 422, 403, 422, 202, 422]
    assert [r["index"] for r in result["results"]] == list(range(6))
    assert result["results"][1]["errors"][0]["loc"] == "bid[0].energy_kwh"
    assert "repeats item 0" in result["results"][5]["errors"][0]["reason"]
    consumer = await consumer_factory(app.state.settings.plans_topic)
    events = await read_events(consumer, 2)
    assert sorted(str(e.plan_id) for _, e in events) == sorted(p["plan_id"] for p in good)
    assert all(isinstance(e, PlanSubmitted) for _, e in events)


async def test_batch_limits_and_shape(make_gateway, tokens):
    client, _ = await make_gateway(max_batch_plans=3)
    headers = auth(tokens["operator"])
    too_many = await client.post(BATCH, json={"plans": [plan() for _ in range(4)]}, headers=headers)
    assert too_many.status_code == 413
    assert too_many.headers["content-type"] == "application/problem+json"
    for body in ({"plans": []}, {"plan": []}, [plan()], {"plans": [plan()], "x": 1}):
        response = await client.post(BATCH, json=body, headers=headers)
        assert response.status_code == 422, body


async def test_large_batch_is_accepted_in_one_request(make_gateway, tokens, consumer_factory):
    client, app = await make_gateway()
    plans = [plan(f"V{i % 20 + 1:03d}") for i in range(2000)]
    response = await client.post(BATCH, json={"plans": plans}, headers=auth(tokens["operator"]))
    assert response.status_code == 200 and response.json()["accepted"] == 2000
    consumer = await consumer_factory(app.state.settings.plans_topic)
    events = await read_events(consumer, 2000, settle_s=0.3)
    assert len({e.plan_id for _, e in events}) == 2000
    assert all(key == e.vehicle_id.encode() for key, e in events)  # keyed by vehicle


async def test_cancel_publishes_plan_cancelled_once_and_blocks_resubmission(
    make_gateway, tokens, consumer_factory
):
    client, app = await make_gateway()
    headers = auth(tokens["fleet-demo"])
    body = plan("V004", revision=2)
    assert (
        await client.post("/charging-schedules/", json=body, headers=headers)
    ).status_code == 202
    url = f"/charging-schedules/{body['plan_id']}"
    first = await client.delete(url, headers=headers)
    assert first.status_code == 202
    assert first.json() == {"plan_id": body["plan_id"], "revision": 2, "status": "cancelled"}
    assert (await client.delete(url, headers=headers)).status_code == 202  # idempotent
    again = await client.post("/charging-schedules/", json=body, headers=headers)
    assert again.status_code == 409
    consumer = await consumer_factory(app.state.settings.plans_topic)
    events = await read_events(consumer, 2)
    kinds = [type(e).__name__ for _, e in events]
    assert kinds == ["PlanSubmitted", "PlanCancelled"]
    cancelled = events[1][1]
    assert isinstance(cancelled, PlanCancelled) and cancelled.revision == 2
    assert events[1][0] == b"V004"
    newer = await client.post("/charging-schedules/", json={**body, "revision": 3}, headers=headers)
    assert newer.status_code == 202  # a higher revision re-plans


async def test_cancel_errors(make_gateway, tokens):
    client, _ = await make_gateway()
    body = plan("V005")
    await client.post("/charging-schedules/", json=body, headers=auth(tokens["fleet-demo"]))
    url = f"/charging-schedules/{body['plan_id']}"
    assert (await client.delete(url, headers=auth(tokens["driver-anna"]))).status_code == 403
    unknown = await client.delete(
        f"/charging-schedules/{plan()['plan_id']}", headers=auth(tokens["operator"])
    )
    assert unknown.status_code == 404
    bad_id = await client.delete("/charging-schedules/not-a-uuid", headers=auth(tokens["operator"]))
    assert bad_id.status_code == 422
    assert bad_id.headers["content-type"] == "application/problem+json"
    assert (await client.delete(url)).status_code == 401


async def test_cancel_after_gate_closure_gets_409(make_gateway, tokens):
    from datetime import timedelta

    from services.common.clock import Clock
    from tests.integration.ingest.conftest import NOW

    clock = Clock.fixed(NOW)
    client, _ = await make_gateway(clock=clock)
    body = plan("V006")
    headers = auth(tokens["fleet-demo"])
    assert (
        await client.post("/charging-schedules/", json=body, headers=headers)
    ).status_code == 202
    clock.advance(timedelta(hours=3))  # 12:00 Warsaw: gate closed for 2026-11-26
    response = await client.delete(f"/charging-schedules/{body['plan_id']}", headers=headers)
    assert response.status_code == 409
    assert response.json()["errors"][0]["loc"] == "delivery_day"


async def test_batch_fast_path_publishes_the_plans_as_sent_and_names_rule_errors(
    make_gateway, tokens, consumer_factory, monkeypatch
):
    """Well-formed plans take the msgspec parse; a plan that breaks a rule (not the schema)
    still gets validate_plan's precise errors, and the events carry the plans as sent."""
    parsed: list[object] = []

    def spy(body: bytes) -> object:
        parsed.append(result := fastparse.parse_batch(body))
        return result

    monkeypatch.setattr(plan_routes, "parse_batch", spy)
    client, app = await make_gateway()
    good = [plan(f"V{i % 20 + 1:03d}") for i in range(40)]
    good[3]["stops"][0]["arrival"] = "2026-11-26T07:00:00.123456Z"  # other offset, micros
    overlapping = plan("V005")
    overlapping["stops"] = overlapping["stops"] * 2
    items = [*good[:20], overlapping, *good[20:]]
    response = await client.post(BATCH, json={"plans": items}, headers=auth(tokens["operator"]))
    assert response.status_code == 200, response.text
    result = response.json()
    assert (result["accepted"], result["rejected"]) == (40, 1)
    assert len(parsed) == 1 and parsed[0] is not None  # the fast path took it
    bad = result["results"][20]
    assert (bad["http_status"], bad["plan_id"]) == (422, overlapping["plan_id"])
    assert any("overlaps" in e["reason"] for e in bad["errors"]), bad
    assert result["results"][21]["plan_id"] == good[20]["plan_id"]
    consumer = await consumer_factory(app.state.settings.plans_topic)
    events = await read_events(consumer, 40)
    sent = {p["plan_id"]: ChargingPlan.model_validate(p) for p in good}
    assert {str(e.plan_id): e.to_plan() for _, e in events} == sent
    assert len({e.event_id for _, e in events}) == 40


async def test_batch_items_the_broker_did_not_take_get_503_each(make_gateway, tokens):
    client, app = await make_gateway()  # a 2-partition topic
    producer = app.state.gateway.publisher.producer
    real = producer.send_batch

    async def refuse_partition_1(batch, topic, *, partition):
        if partition == 1:
            raise OSError("partition 1 refused")
        return await real(batch, topic, partition=partition)

    producer.send_batch = refuse_partition_1
    plans = [plan(f"V{i % 20 + 1:03d}") for i in range(40)]
    headers = auth(tokens["operator"])
    response = await client.post(BATCH, json={"plans": plans}, headers=headers)
    assert response.status_code == 200, response.text
    assert int(response.headers["retry-after"]) >= 1
    statuses = {r["http_status"] for r in response.json()["results"]}
    assert statuses == {202, 503}
    by_vehicle: dict[str, set[int]] = {}
    for p, r in zip(plans, response.json()["results"], strict=True):
        by_vehicle.setdefault(p["vehicle_id"], set()).add(r["http_status"])
    assert all(len(s) == 1 for s in by_vehicle.values())  # per partition, i.e. per vehicle

    async def refuse_all(batch, topic, *, partition):
        raise OSError("refused")

    producer.send_batch = refuse_all
    plans = [plan(f"V{i % 20 + 1:03d}") for i in range(40)]
    response = await client.post(BATCH, json={"plans": plans}, headers=headers)
    assert response.status_code == 503
    assert response.headers["content-type"] == "application/problem+json"
