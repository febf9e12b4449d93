"""Logins answer on the decisions service too (DESIGN §7: on ports 8000 and 8080), and its
vehicle API takes the original system's `Authorization: Token …` scheme."""

from __future__ import annotations

import httpx
import pytest

from services.common import accounts

pytestmark = pytest.mark.integration
PASSWORD = "another good password"


async def test_login_on_the_decisions_service_and_both_schemes(service, pool):
    name = next(n for n in await _users(pool) if n.startswith("anna-"))
    async with pool.acquire() as conn:
        await accounts.set_password(conn, name, PASSWORD)
    async with httpx.AsyncClient(base_url=service.base_url) as client:
        grant = await client.post("/auth/token", data={"username": name, "password": PASSWORD})
        assert grant.status_code == 200, grant.text
        token = grant.json()["access_token"]
        legacy = await client.post(
            "/api-token-auth/", json={"username": name, "password": PASSWORD}
        )
        assert legacy.status_code == 200
        day = {"delivery_day": "2026-11-26"}
        for header in (f"Bearer {token}", f"Token {legacy.json()['token']}"):
            answer = await client.get(
                "/charging-schedules-decisions/", params=day, headers={"Authorization": header}
            )
            assert answer.status_code == 200, (header, answer.text)
        listed = await client.get("/auth/tokens", headers={"Authorization": f"Token {token}"})
        assert len([t for t in listed.json() if t["label"] == "login"]) == 2
        refused = await client.get(
            "/charging-schedules-decisions/", params=day, headers={"Authorization": "Token nope"}
        )
        assert refused.status_code == 401


async def _users(pool) -> list[str]:  # type: ignore[no-untyped-def]
    return [r["name"] for r in await pool.fetch("SELECT name FROM users ORDER BY id DESC")]
