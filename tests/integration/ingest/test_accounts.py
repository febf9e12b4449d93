"""Self-service accounts on the ingest gateway (DESIGN §7 Accounts, §7.1): log in with a
password, use the token under both schemes, list and revoke one's own tokens, expiry."""

from __future__ import annotations

import asyncio
import uuid
from datetime import timedelta

import pytest

from services.common import accounts, registry
from tests.integration.ingest.conftest import plan

pytestmark = pytest.mark.integration
URL = "/charging-schedules/"
PASSWORD = "correct horse battery"


@pytest.fixture
async def anna(pool, tokens) -> str:
    """driver-anna (owns V001) with a password."""
    async with pool.acquire() as conn:
        await accounts.set_password(conn, "driver-anna", PASSWORD)
    return "driver-anna"


async def login(client, user: str, password: str):  # type: ignore[no-untyped-def]
    return await client.post("/auth/token", data={"username": user, "password": password})


async def test_login_gives_a_token_that_submits_plans_under_both_schemes(make_gateway, anna):
    client, _ = await make_gateway()
    response = await login(client, anna, PASSWORD)
    assert response.status_code == 200, response.text
    grant = response.json()
    assert grant["token_type"] == "bearer" and grant["expires_in"] == 90 * 86400
    token = grant["access_token"]
    for scheme in ("Bearer", "Token"):
        answer = await client.post(URL, json=plan(), headers={"Authorization": f"{scheme} {token}"})
        assert answer.status_code == 202, (scheme, answer.text)


async def test_wrong_password_and_unknown_user_get_the_same_refusal(make_gateway, anna):
    client, _ = await make_gateway()
    wrong = await login(client, anna, "not the password")
    unknown = await login(client, f"nobody-{uuid.uuid4().hex[:6]}", PASSWORD)
    assert wrong.status_code == unknown.status_code == 400
    assert (
        wrong.json()
        == unknown.json()
        == {
            "error": "invalid_grant",
            "error_description": "wrong user name or password",
        }
    )
    no_password = await login(client, "fleet-demo", PASSWORD)  # a user without a password
    assert no_password.status_code == 400


async def test_the_original_login_answers_in_its_own_shapes(make_gateway, anna):
    client, _ = await make_gateway()
    ok = await client.post("/api-token-auth/", json={"username": anna, "password": PASSWORD})
    assert ok.status_code == 200 and set(ok.json()) == {"token"}
    token = ok.json()["token"]
    answer = await client.post(URL, json=plan(), headers={"Authorization": f"Token {token}"})
    assert answer.status_code == 202
    bad = await client.post("/api-token-auth/", json={"username": anna, "password": "nope nope"})
    assert bad.status_code == 400
    assert bad.json() == {"non_field_errors": ["Unable to log in with provided credentials."]}
    missing = await client.post("/api-token-auth/", json={"username": anna})
    assert missing.json() == {"password": ["This field is required."]}
    form = await client.post("/api-token-auth/", data={"username": anna, "password": PASSWORD})
    assert form.status_code == 200


async def test_a_user_lists_and_revokes_their_own_tokens_only(make_gateway, anna, tokens):
    client, _ = await make_gateway(token_cache_ttl_s=0.2)
    token = (await login(client, anna, PASSWORD)).json()["access_token"]
    mine = {"Authorization": f"Bearer {token}"}
    listed = (await client.get("/auth/tokens", headers=mine)).json()
    assert listed[0]["prefix"] == token[:9] and listed[0]["active"] and listed[0]["expires_at"]
    assert all(token not in str(t) for t in listed)  # never the secret itself
    others = {"Authorization": f"Bearer {tokens['operator']}"}
    operators = (await client.get("/auth/tokens", headers=others)).json()
    assert listed[0]["id"] not in {t["id"] for t in operators}
    # Someone else's token id: 404, and the token keeps working.
    assert (
        await client.delete(f"/auth/tokens/{listed[0]['id']}", headers=others)
    ).status_code == 404
    assert (await client.post(URL, json=plan(), headers=mine)).status_code == 202
    assert (await client.delete(f"/auth/tokens/{listed[0]['id']}", headers=mine)).status_code == 204
    await asyncio.sleep(0.3)  # the token cache TTL
    assert (await client.post(URL, json=plan(), headers=mine)).status_code == 401
    again = await client.delete(f"/auth/tokens/{listed[0]['id']}", headers=others)
    assert again.status_code == 404


async def test_an_expired_token_is_refused(make_gateway, pool, tokens):
    client, _ = await make_gateway(token_cache_ttl_s=0.1)
    _, token = await registry.create_token(pool, "driver-anna", "short", timedelta(seconds=1))
    headers = {"Authorization": f"Bearer {token}"}
    assert (await client.post(URL, json=plan(), headers=headers)).status_code == 202
    await asyncio.sleep(1.3)
    assert (await client.post(URL, json=plan(), headers=headers)).status_code == 401


async def test_repeated_logins_are_throttled_whatever_the_password(make_gateway, anna):
    client, _ = await make_gateway()
    answers = [(await login(client, anna, "guess guess")).status_code for _ in range(7)]
    assert answers[:5] == [400] * 5 and answers[-1] == 429
    refused = await login(client, anna, PASSWORD)  # even the right one, for a while
    assert refused.status_code == 429 and int(refused.headers["retry-after"]) >= 1


async def test_a_user_name_with_nul_is_refused_like_any_unknown_user(make_gateway):
    client, _ = await make_gateway()
    form = await login(client, "anna\x00", "whatever password")
    legacy = await client.post("/api-token-auth/", json={"username": "a\x00", "password": "x"})
    assert form.status_code == legacy.status_code == 400  # PostgreSQL text holds no NUL: no 500
