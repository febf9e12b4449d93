"""Fixtures for the decisions service on the real broker and PostgreSQL."""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest

from services.common.dlq import dlq_topic
from services.common.kafka import (
    AUCTION_RESULTS,
    CHARGING_PLANS,
    SCHEDULE_DECISIONS,
    TopicSpec,
    ensure_topics,
)
from services.decisions.consumer import ConsumerConfig, DecisionsConsumer
from services.decisions.records import Kind

# Short group timings: Tansu completes a join only after about a session timeout.
FAST = {"session_timeout_ms": 1000, "heartbeat_ms": 200}


class Topics:
    def __init__(self, prefix: str) -> None:
        self.prefix = prefix
        self.decisions = prefix + SCHEDULE_DECISIONS
        self.results = prefix + AUCTION_RESULTS
        self.plans = prefix + CHARGING_PLANS

    def kinds(self) -> dict[str, Kind]:
        return {self.decisions: "decisions", self.results: "results", self.plans: "plans"}


@pytest.fixture
async def topics(kafka_bootstrap: str) -> Topics:
    t = Topics(f"dec-{uuid.uuid4().hex[:8]}.")
    names = (SCHEDULE_DECISIONS, AUCTION_RESULTS, CHARGING_PLANS)
    specs = tuple(TopicSpec(n) for name in names for n in (name, dlq_topic(name)))
    await ensure_topics(kafka_bootstrap, specs, partitions=2, prefix=t.prefix)
    return t


Start = Callable[..., Awaitable[tuple[DecisionsConsumer, "asyncio.Task[None]"]]]


@pytest.fixture
async def start_consumer(kafka_bootstrap: str, pool: Any, topics: Topics) -> AsyncIterator[Start]:
    """Start a consumer task on the test topics; it is cancelled at the end of the test."""
    tasks: list[asyncio.Task[None]] = []

    async def start(
        name: str | None = None, **kwargs: Any
    ) -> tuple[DecisionsConsumer, asyncio.Task[None]]:
        config = ConsumerConfig(
            bootstrap=kafka_bootstrap, topics=topics.kinds(), name=name or topics.prefix,
            batch_max=kwargs.pop("batch_max", 5000), wait_ms=100, **FAST,
        )  # fmt: skip
        consumer = DecisionsConsumer(pool, config, **kwargs)
        task = asyncio.create_task(consumer.run())
        tasks.append(task)
        waiter = asyncio.create_task(consumer.assigned.wait())
        done, _ = await asyncio.wait(
            {waiter, task}, timeout=30, return_when=asyncio.FIRST_COMPLETED
        )
        if task in done:
            waiter.cancel()
            task.result()  # raises what killed it
        assert waiter in done, "consumer got no partitions within 30 s"
        return consumer, task

    yield start
    for task in tasks:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await task


async def eventually(check: Callable[[], Awaitable[bool]], within: float = 20.0) -> None:
    """Poll `check` until it is true (the consumer is asynchronous by design)."""
    deadline = asyncio.get_running_loop().time() + within
    while not await check():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"condition not reached within {within:.0f} s")
        await asyncio.sleep(0.1)


class Service:
    """The decisions app served by uvicorn on a free port, with its own users and vehicles."""

    def __init__(self, base_url: str, tokens: dict[str, str], vehicles: dict[str, str]) -> None:
        self.base_url = base_url
        self.tokens = tokens  # user name -> bearer token
        self.vehicles = vehicles  # user name -> its vehicle id

    def auth(self, user: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[user]}"}


@pytest.fixture
async def service(
    request: pytest.FixtureRequest,
    kafka_bootstrap: str,
    database_url: str,
    pool: Any,
    topics: Topics,
) -> AsyncIterator[Service]:
    """Parametrize indirectly with {"broker_down": True} to start it without a broker, with
    {"settings": {...}} to override settings (e.g. a fixed clock)."""
    import uvicorn

    from schemas.network import Vehicle
    from services.common import registry
    from services.decisions.app import create_app
    from services.decisions.settings import Settings
    from services.devstack.children import free_port

    tag = uuid.uuid4().hex[:6]
    tokens, vehicles = {}, {}
    async with pool.acquire() as conn:
        await registry.upsert_market_area(conn, registry.MarketArea(id="PL"))
        for user, role in (("anna", "vehicle"), ("bob", "vehicle"), ("op", "operator")):
            name = f"{user}-{tag}"
            await registry.ensure_user(conn, name, role)  # type: ignore[arg-type]
            tokens[user] = (await registry.create_token(conn, name))[1]
            if role == "vehicle":
                vehicles[user] = f"V-{user}-{tag}"
                await registry.upsert_vehicle(
                    conn, Vehicle(id=vehicles[user], battery_kwh=60, max_power_kw=11), name
                )
    broker_down = getattr(request, "param", {}).get("broker_down", False)
    if broker_down:
        kafka_bootstrap = f"127.0.0.1:{free_port()}"  # nothing listens there
    settings = Settings(
        kafka_bootstrap=kafka_bootstrap, database_url=database_url,
        decisions_topic_prefix=topics.prefix, decisions_consumer=topics.prefix,
        decisions_session_timeout_ms=1000, decisions_heartbeat_ms=200,
        decisions_batch_wait_ms=50, decisions_port=free_port(),
        **getattr(request, "param", {}).get("settings", {}),
    )  # fmt: skip
    app = create_app(settings)
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=settings.decisions_port, log_level="warning")
    )
    task = asyncio.create_task(server.serve())
    try:
        while not server.started:
            if task.done():
                task.result()
            await asyncio.sleep(0.05)
        if not broker_down:
            await asyncio.wait_for(app.state.consumer.assigned.wait(), timeout=30)
        yield Service(f"http://127.0.0.1:{settings.decisions_port}", tokens, vehicles)
    finally:
        server.should_exit = True
        await asyncio.wait_for(task, timeout=15)
        # Leave the shared registry as found (other tests count its vehicles and users).
        await pool.execute("DELETE FROM vehicles WHERE id = ANY($1)", list(vehicles.values()))
        await pool.execute("DELETE FROM users WHERE name LIKE $1", f"%-{tag}")
