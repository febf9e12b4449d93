"""Resource limits of the gateway on the real broker and PostgreSQL (issue 10, item 3)."""

from __future__ import annotations

import asyncio
import json
import secrets
import time
import tracemalloc

import httpx
import pytest

from tests.integration.ingest.conftest import auth, plan

pytestmark = pytest.mark.integration

URL = "/charging-schedules/"
BATCH = "/charging-schedules/batch"
MIB = 1024 * 1024


async def test_a_16_mib_batch_of_empty_items_is_refused_in_well_under_a_second(
    make_gateway, tokens
):
    client, _ = await make_gateway()
    body = b'{"plans":[' + b"{}," * (16 * MIB // 3 - 5) + b"{}]}"
    assert len(body) <= 16 * MIB
    headers = {**auth(tokens["operator"]), "Content-Type": "application/json"}
    started = time.perf_counter()
    response = await client.post(BATCH, content=body, headers=headers)
    elapsed = time.perf_counter() - started
    assert response.status_code == 413, response.text[:300]
    assert response.headers["content-type"] == "application/problem+json"
    assert "the limit is 10000" in response.json()["detail"]
    assert elapsed < 1.0, elapsed  # before: 90 s, 15 GB RSS
    tracemalloc.start()
    try:
        again = await client.post(BATCH, content=body, headers=headers)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert again.status_code == 413
    # the request body is held twice (the client's chunk and Starlette's joined body);
    # nothing is built per item
    assert peak < 40 * MIB, peak


async def test_a_batch_is_charged_its_plans_and_its_bytes(make_gateway, tokens):
    client, _ = await make_gateway(
        max_batch_plans=5,
        rate_limit_plans_per_s=0.1,
        rate_limit_plans_burst=5,
        max_body_bytes=4096,
        max_batch_body_bytes=16_384,
        rate_limit_bytes_per_s=1.0,
        rate_limit_bytes_burst=16_384,
    )
    anna, fleet = auth(tokens["driver-anna"]), auth(tokens["fleet-demo"])
    first = await client.post(BATCH, json={"plans": [plan() for _ in range(5)]}, headers=anna)
    assert first.status_code == 200 and first.json()["accepted"] == 5
    one_more = await client.post(URL, json=plan(), headers=anna)
    assert one_more.status_code == 429, one_more.text
    assert "plans/s" in one_more.json()["detail"]
    assert int(one_more.headers["retry-after"]) >= 9  # one plan refills in 10 s
    assert (await client.post(URL, json=plan("V002"), headers=fleet)).status_code == 202

    one = json.dumps({"plans": [plan("V002")]})
    body = (one[:-1] + " " * (16_000 - len(one)) + "}").encode()  # 16 000 bytes, one plan
    headers = {**auth(tokens["operator"]), "Content-Type": "application/json"}
    big = await client.post(BATCH, content=body, headers=headers)
    assert big.status_code == 200, big.text
    second = await client.post(BATCH, content=body, headers=headers)
    assert second.status_code == 429 and "bytes/s" in second.json()["detail"]


async def test_the_address_limit_refuses_before_any_token_lookup(make_gateway, tokens):
    client, app = await make_gateway(address_rate_limit_per_s=0.01, address_rate_limit_burst=3)
    lookups = app.state.tokens.lookups
    statuses = []
    for _ in range(5):
        bad = auth("cf_" + secrets.token_urlsafe(32))
        statuses.append((await client.post(URL, json=plan(), headers=bad)).status_code)
    assert statuses == [401, 401, 401, 429, 429]
    assert app.state.tokens.lookups == lookups + 3  # the refused ones cost no lookup
    refused = await client.post(URL, json=plan(), headers=auth(tokens["driver-anna"]))
    assert refused.status_code == 429 and refused.headers["retry-after"]
    assert refused.json()["type"].endswith(":rate-limited")
    assert (await client.get("/healthz")).status_code == 200  # liveness is not limited
    other = httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app, client=("198.51.100.9", 4000)),
        base_url="http://ingest",
    )
    async with other:
        ok = await other.post(URL, json=plan(), headers=auth(tokens["driver-anna"]))
    assert ok.status_code == 202  # another address has its own bucket


async def test_a_flood_of_unknown_tokens_costs_one_lookup_each_and_evicts_nobody(
    make_gateway, tokens
):
    client, app = await make_gateway(token_cache_ttl_s=60)
    anna = auth(tokens["driver-anna"])
    assert (await client.post(URL, json=plan(), headers=anna)).status_code == 202
    cache = app.state.tokens
    before = cache.lookups
    flood = ["cf_" + secrets.token_urlsafe(32) for _ in range(300)]
    answers = await asyncio.gather(
        *(client.post(URL, json=plan(), headers=auth(t)) for t in flood + flood)
    )
    assert {r.status_code for r in answers} == {401}
    assert cache.lookups == before + 300  # each distinct token once, repeats from the cache
    assert cache.sizes()[1] >= 300
    assert (await client.post(URL, json=plan(), headers=anna)).status_code == 202
    assert cache.lookups == before + 300  # anna's entry survived the flood


async def test_a_request_waits_for_a_database_connection_at_most_the_acquire_timeout(
    make_gateway, tokens
):
    client, app = await make_gateway(db_pool_size=1, db_acquire_timeout_s=0.3)
    async with app.state.pool.acquire():  # the gateway's only connection is busy
        started = time.perf_counter()
        response = await client.post(URL, json=plan(), headers=auth(tokens["operator"]))
        elapsed = time.perf_counter() - started
    assert response.status_code == 503, response.text
    assert response.headers["retry-after"]
    assert response.headers["content-type"] == "application/problem+json"
    assert elapsed < 2.0, elapsed
    # the connection is back: the same request passes
    after = await client.post(URL, json=plan(), headers=auth(tokens["operator"]))
    assert after.status_code == 202


async def test_delete_on_the_batch_path_is_405_and_a_bad_plan_id_still_422(make_gateway, tokens):
    client, _ = await make_gateway()
    response = await client.delete(BATCH, headers=auth(tokens["operator"]))
    assert response.status_code == 405
    assert response.headers["allow"] == "POST"
    assert response.headers["content-type"] == "application/problem+json"
    bad = await client.delete(f"{URL}not-a-uuid", headers=auth(tokens["operator"]))
    assert bad.status_code == 422 and bad.json()["errors"][0]["loc"] == "plan_id"
