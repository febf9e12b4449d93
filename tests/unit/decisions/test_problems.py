"""Every error is problem+json: an unreachable database is a retryable 503, never a 500."""

from __future__ import annotations

import asyncpg
from fastapi import FastAPI
from fastapi.testclient import TestClient

from services.decisions import problems


def _app() -> FastAPI:
    app = FastAPI()
    problems.install(app)

    @app.get("/down")
    async def down() -> None:
        raise asyncpg.PostgresConnectionError("connection refused")

    @app.get("/refused")
    async def refused() -> None:
        raise ConnectionRefusedError(111, "Connection refused")

    @app.get("/bug")
    async def bug() -> None:
        raise RuntimeError("boom")

    return app


def test_database_unavailable_is_a_503_problem_with_retry_after():
    client = TestClient(_app(), raise_server_exceptions=False)
    for path in ("/down", "/refused"):
        r = client.get(path)
        assert r.status_code == 503
        assert r.headers["content-type"] == "application/problem+json"
        assert r.headers["retry-after"] == "2"
        assert r.json()["type"] == "urn:chargeflow:problem:unavailable"


def test_a_bug_is_a_500_problem_without_details_leaking():
    r = TestClient(_app(), raise_server_exceptions=False).get("/bug")
    assert r.status_code == 500 and "boom" not in r.text
    assert r.json()["status"] == 500
