"""One problem module for every service: each app answers with its own slugs."""

from __future__ import annotations

from uuid import UUID

from fastapi import FastAPI
from fastapi.testclient import TestClient

from schemas.base import FieldError
from services.common.problems import ProblemError
from services.decisions import problems as decisions_problems
from services.ingest import problems as ingest_problems


def _app(install) -> FastAPI:  # type: ignore[no-untyped-def]
    app = FastAPI()
    install(app)

    @app.get("/invalid")
    async def invalid() -> None:
        raise ProblemError(422, "bad", [FieldError(loc="stops[0].arrival", reason="naive")])

    @app.get("/items/{item_id}")
    async def item(item_id: UUID) -> None:
        return None

    return app


def test_each_service_names_its_own_problem_types() -> None:
    ingest = TestClient(_app(ingest_problems.install)).get("/invalid")
    decisions = TestClient(_app(decisions_problems.install)).get("/invalid")
    assert ingest.status_code == decisions.status_code == 422
    assert ingest.headers["content-type"] == "application/problem+json"
    assert ingest.json()["type"] == "urn:chargeflow:problem:invalid-plan"
    assert decisions.json()["type"] == "urn:chargeflow:problem:invalid-request"
    assert ingest.json()["errors"] == [{"loc": "stops[0].arrival", "reason": "naive"}]
    assert ingest_problems.problem_body(503, "down")["type"] == (
        "urn:chargeflow:problem:broker-unavailable"
    )


def test_a_bad_parameter_names_the_parameter_without_its_location() -> None:
    r = TestClient(_app(ingest_problems.install)).get("/items/not-a-uuid")
    assert r.status_code == 422
    body = r.json()
    assert body["type"] == "urn:chargeflow:problem:invalid-request"
    assert [e["loc"] for e in body["errors"]] == ["item_id"]
    assert body["instance"] == "/items/not-a-uuid"
