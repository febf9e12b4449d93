"""Fixtures for the ingest gateway on the real broker and PostgreSQL (see tests/conftest.py)."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from services.common import registry
from services.common.clock import Clock
from services.devstack import seed
from services.ingest.app import create_app
from services.ingest.settings import Settings

# 09:00 Warsaw on 2026-11-25: delivery day 2026-11-26 is open until 12:00 local today.
NOW = datetime(2026, 11, 25, 8, 0, tzinfo=UTC)
DAY = "2026-11-26"


def plan(vehicle: str = "V001", revision: int = 1, **changes: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "plan_id": str(uuid.uuid4()),
        "revision": revision,
        "vehicle_id": vehicle,
        "market_area": "PL",
        "delivery_day": DAY,
        "initial_soc_kwh": 12.0,
        "stops": [
            {
                "charging_point_id": "P-WORK-01",
                "arrival": f"{DAY}T08:00:00+01:00",
                "departure": f"{DAY}T16:30:00+01:00",
                "trip_kwh_after": 6.0,
            }
        ],
        "bid": [
            {"energy_kwh": 10.0, "price_eur_mwh": 400.0},
            {"energy_kwh": 15.0, "price_eur_mwh": 150.0},
        ],
    }
    body.update(changes)
    return body


@pytest.fixture(scope="session")
async def tokens(pool) -> dict[str, str]:
    """Bearer tokens by user: driver-anna (vehicle, owns V001), fleet-demo, operator."""
    async with pool.acquire() as conn:
        await seed.apply(conn, seed.load())
        out = {}
        for user in ("driver-anna", "fleet-demo", "operator"):
            _, out[user] = await registry.create_token(conn, user, "ingest tests")
    return out


def auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


Client = httpx.AsyncClient
AppFactory = Callable[..., Awaitable[tuple[Client, FastAPI]]]


@asynccontextmanager
async def running(app: FastAPI) -> AsyncIterator[Client]:
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://ingest") as client:
            yield client


@pytest.fixture
async def make_gateway(kafka_bootstrap, database_url, topic_factory, tokens):
    """Start a gateway (lifespan and all) on a fresh topic; returns (client, app)."""
    stack: list[Any] = []

    async def make(clock: Clock | None = None, **overrides: Any) -> tuple[Client, FastAPI]:
        options: dict[str, Any] = {
            "kafka_bootstrap": kafka_bootstrap,
            "database_url": database_url,
            "plans_topic": overrides.pop("plans_topic", None) or await topic_factory("plans", 2),
            "publish_timeout_s": 3.0,
            "rate_limit_per_s": 1000.0,
            "rate_limit_burst": 1000,
        }
        options.update(overrides)
        app = create_app(Settings(**options), clock or Clock.fixed(NOW))
        context = running(app)
        client = await context.__aenter__()
        stack.append(context)
        return client, app

    yield make
    for context in reversed(stack):
        await context.__aexit__(None, None, None)
