"""The shared HTTP metrics middleware labels requests by route template, cheaply."""

from __future__ import annotations

import httpx
from fastapi import FastAPI

from services.common.metrics import HTTP_REQUESTS, http_metrics_middleware


def _count(route: str, status: str) -> float:
    value = HTTP_REQUESTS.labels("route-label-test", "GET", route, status)._value.get()
    return float(value)


async def test_requests_are_labelled_by_route_template_or_unmatched():
    app = FastAPI()

    @app.get("/things/{thing_id}")
    async def thing(thing_id: int) -> dict[str, int]:
        return {"id": thing_id}

    app.middleware("http")(http_metrics_middleware("route-label-test"))
    before_ok = _count("/things/{thing_id}", "200")
    before_422 = _count("/things/{thing_id}", "422")
    before_404 = _count("unmatched", "404")
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
        assert (await client.get("/things/7")).status_code == 200
        assert (await client.get("/things/x")).status_code == 422
        assert (await client.get("/nowhere")).status_code == 404
    assert _count("/things/{thing_id}", "200") == before_ok + 1
    assert _count("/things/{thing_id}", "422") == before_422 + 1
    assert _count("unmatched", "404") == before_404 + 1
