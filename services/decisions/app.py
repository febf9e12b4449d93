"""The decisions service: consumer task, LISTEN task and pool in the lifespan; the routes."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager

import asyncpg
from fastapi import FastAPI

from services.common import dbpool, registry, stackfile
from services.common.accountroutes import account_router
from services.common.addresslimit import AddressLimitMiddleware
from services.common.auth import TokenCache
from services.common.clock import Clock
from services.common.dlq import dlq_topic
from services.common.inflight import InFlightLimitMiddleware
from services.common.kafka import (
    AUCTION_RESULTS,
    CHARGING_PLANS,
    SCHEDULE_DECISIONS,
    TopicSpec,
    ensure_topics,
)
from services.common.metrics import http_metrics_middleware
from services.common.ratelimit import RateLimiter
from services.decisions import openapi, openapi_original, problems
from services.decisions.areas import AreaZones
from services.decisions.cache import ResponseCache, listen
from services.decisions.consumer import ConsumerConfig, DecisionsConsumer
from services.decisions.deps import current_user, get_pool
from services.decisions.records import Kind
from services.decisions.routes import decisions, health, operator, original
from services.decisions.settings import Settings
from services.decisions.store import NOTIFY_CHANNEL

log = logging.getLogger(__name__)

TOPIC_KINDS: dict[str, Kind] = {
    SCHEDULE_DECISIONS: "decisions",
    AUCTION_RESULTS: "results",
    CHARGING_PLANS: "plans",
}

DESCRIPTION = """Every vehicle's decision for a delivery day or a history of days (JSON with
ETag and charging windows, or OCPP 2.0.1 charging profiles), the operator's day summaries,
and the original system's decisions API (coverage and time ranges). Errors are RFC 9457
problem details, except the original API's own shapes."""


async def supervise(
    consumer: DecisionsConsumer,
    prepare: Callable[[], Awaitable[object]],
    max_backoff_s: float = 30.0,
) -> None:
    """Run the consumer forever; after a failure (broker or database down) restart it.

    The API keeps serving what the database holds meanwhile (`/readyz` says 503).
    """
    backoff = 1.0
    while True:
        started = time.monotonic()
        try:
            await prepare()
            await consumer.run()
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            consumer.last_error = repr(exc)
            if time.monotonic() - started > 60:
                backoff = 1.0  # it ran fine for a while: a new failure, not the same one
            log.exception("decisions consumer failed; restarting in %.0f s", backoff)
            await asyncio.sleep(backoff)
            backoff = min(max_backoff_s, backoff * 2)


def create_app(settings: Settings, clock: Clock | None = None) -> FastAPI:
    """The app; broker, database pool, consumer and cache listener start in its lifespan."""
    clock = clock or Clock.from_settings(settings)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        url = stackfile.database_url(settings)
        # Requests take connections from their own pool, with an acquire timeout (503
        # beyond it); the consumer has its own, so a flood of reads cannot starve it.
        pool = await dbpool.create_pool(
            url,
            acquire_timeout_s=settings.decisions_db_acquire_timeout_s,
            min_size=1,
            max_size=settings.decisions_pool_size,
            command_timeout=30,
        )
        consumer_pool: asyncpg.Pool | None = None
        tasks: list[asyncio.Task[None]] = []
        app.state.pool = pool
        app.state.tokens = TokenCache(
            lambda token: registry.authenticate(pool, token), settings.decisions_token_ttl_s
        )
        app.state.cache = ResponseCache(settings.decisions_cache_ttl_s)
        app.state.zones = AreaZones.of(pool, clock)
        app.state.consumer = None
        try:
            tasks.append(asyncio.create_task(listen(url, NOTIFY_CHANNEL, app.state.cache)))
            if settings.decisions_consume:
                consumer_pool = await asyncpg.create_pool(
                    url, min_size=1, max_size=settings.decisions_consumer_pool_size
                )
                app.state.consumer = _start_consumer(settings, consumer_pool, clock, tasks)
            yield
        finally:
            for task in tasks:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await task
            if consumer_pool is not None:
                await consumer_pool.close()
            await pool.close()

    app = FastAPI(
        title="chargeflow decisions", version="1.0.0", description=DESCRIPTION, lifespan=lifespan
    )
    app.state.settings = settings
    app.state.limiter = RateLimiter(
        settings.decisions_rate_limit_per_s, settings.decisions_rate_limit_burst
    )
    problems.install(app)
    # Innermost first: shed load beyond the in-flight bound; before it (and before
    # authentication) the per-address limit; outermost the metrics, so every answer counts.
    app.add_middleware(InFlightLimitMiddleware, max_in_flight=settings.decisions_max_in_flight)
    app.add_middleware(
        AddressLimitMiddleware,
        limiter=RateLimiter(
            settings.decisions_address_rate_limit_per_s,
            settings.decisions_address_rate_limit_burst,
        ),
    )
    app.middleware("http")(http_metrics_middleware("decisions"))
    app.include_router(original.router)
    app.include_router(decisions.router)
    app.include_router(account_router(get_pool, current_user))
    app.include_router(operator.router)
    app.include_router(health.router)
    openapi.install(app, openapi_original.DOCUMENTED)
    return app


def _start_consumer(
    settings: Settings, pool: asyncpg.Pool, clock: Clock, tasks: list[asyncio.Task[None]]
) -> DecisionsConsumer:
    bootstrap = stackfile.kafka_access(settings)
    prefix = settings.decisions_topic_prefix

    def create_topics() -> Awaitable[list[str]]:
        return ensure_topics(
            bootstrap,
            tuple(TopicSpec(n) for name in TOPIC_KINDS for n in (name, dlq_topic(name))),
            partitions=settings.topic_partitions,
            replication_factor=settings.topic_replication_factor,
            prefix=prefix,
        )

    config = ConsumerConfig(
        bootstrap=bootstrap,
        topics={prefix + name: kind for name, kind in TOPIC_KINDS.items()},
        name=settings.decisions_consumer,
        batch_max=settings.decisions_batch_max,
        wait_ms=settings.decisions_batch_wait_ms,
        session_timeout_ms=settings.decisions_session_timeout_ms,
        heartbeat_ms=settings.decisions_heartbeat_ms,
    )
    consumer = DecisionsConsumer(pool, config, clock)
    tasks.append(asyncio.create_task(supervise(consumer, create_topics)))
    log.info("decisions consumer on %s: %s", bootstrap, ", ".join(config.topics))
    return consumer
