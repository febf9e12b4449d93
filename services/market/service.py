"""The market adapter process: ``aggregate-bids`` in, ``market-results`` out.

At-least-once: offsets are committed after the results were acknowledged; a redelivered
bid gets the identical result (same event id), which the aggregator ignores once the day
is done. An unreadable bid is logged and counted, never stops the loop.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from datetime import timedelta

from aiokafka import AIOKafkaProducer
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, generate_latest
from pydantic import ValidationError
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from schemas.market import AggregateBid
from services.common import kafka
from services.common.clock import Clock
from services.common.kafka import TopicSpec, ensure_topics, make_group_consumer, make_producer
from services.common.tasks import http_stage, run_stages
from services.market.adapter import ExchangeAdapter, SimulatedExchange
from services.market.exchange import ExchangeRules, Supply
from services.market.settings import Settings

log = logging.getLogger(__name__)
REGISTRY = CollectorRegistry()
BIDS = Counter(
    "chargeflow_market_bids_total", "Aggregate bids read, by outcome", ["status"], registry=REGISTRY
)


def exchange_from(settings: Settings, clock: Clock) -> SimulatedExchange:
    supply = (
        Supply.model_validate_json(settings.market_supply_file.read_bytes())
        if settings.market_supply_file
        else Supply()
    )
    rules = ExchangeRules(
        price_min_eur_mwh=settings.market_price_min_eur_mwh,
        price_max_eur_mwh=settings.market_price_max_eur_mwh,
        max_steps=settings.market_max_steps,
        lot_mwh=settings.market_lot_mwh,
    )
    return SimulatedExchange(supply, rules, clock)


class MarketService:
    def __init__(
        self,
        settings: Settings,
        clock: Clock | None = None,
        exchange: ExchangeAdapter | None = None,
    ) -> None:
        if not settings.kafka_bootstrap:
            raise ValueError("CHARGEFLOW_KAFKA_BOOTSTRAP is required")
        self.s = settings
        self.clock = clock or Clock.from_settings(settings)
        self.exchange = exchange or exchange_from(settings, self.clock)
        p = settings.market_topic_prefix
        self.bids_topic, self.results_topic = p + kafka.AGGREGATE_BIDS, p + kafka.MARKET_RESULTS
        self.ready = asyncio.Event()

    async def run(self) -> None:
        s = self.s
        assert s.kafka_bootstrap
        await ensure_topics(
            s.kafka_access(),
            (TopicSpec(kafka.AGGREGATE_BIDS), TopicSpec(kafka.MARKET_RESULTS)),
            s.topic_partitions,
            s.topic_replication_factor,
            prefix=s.market_topic_prefix,
        )
        tasks = [asyncio.create_task(self.consume(), name="consume")]
        if s.market_port is not None:
            stage = http_stage(self.web(), s.market_host, s.market_port)
            tasks.append(asyncio.create_task(stage, name="http"))
        await run_stages(tasks)

    async def consume(self) -> None:
        s = self.s
        producer = make_producer(s.kafka_access())
        consumer = make_group_consumer(
            self.bids_topic,
            bootstrap=s.kafka_access(),
            group_id=s.market_topic_prefix + s.market_group,
            session_timeout_ms=s.market_session_timeout_ms,
            heartbeat_ms=s.market_heartbeat_ms,
        )
        await producer.start()
        await consumer.start()
        self.ready.set()
        try:
            while True:
                batch = await consumer.getmany(timeout_ms=500)
                for records in batch.values():
                    for r in records:
                        await self.handle(producer, r.value or b"")
                if batch:
                    await consumer.commit()
        finally:
            await consumer.stop()
            await producer.stop()

    async def handle(self, producer: AIOKafkaProducer, value: bytes) -> None:
        try:
            bid = AggregateBid.model_validate_json(value)
        except ValidationError as exc:
            BIDS.labels("unreadable").inc()
            log.error("unreadable aggregate bid skipped: %s", exc)
            return
        if self.s.market_delay_s:
            # Simulated exchange latency, in clock time after the bid was made.
            await self.clock.sleep_until(bid.occurred_at + timedelta(seconds=self.s.market_delay_s))
        result = await self.exchange.submit(bid)
        BIDS.labels(result.status).inc()
        await producer.send_and_wait(
            self.results_topic, result.model_dump_json().encode(), key=result.key.encode()
        )
        log.info("bid %s run %s: %s", result.key, result.run_id, result.status)

    def web(self) -> Starlette:
        async def metrics(request: Request) -> Response:
            """Prometheus text format."""
            return Response(generate_latest(REGISTRY), media_type=CONTENT_TYPE_LATEST)

        async def healthz(request: Request) -> Response:
            """Liveness."""
            return JSONResponse({"status": "ok"})

        async def readyz(request: Request) -> Response:
            """Consumer running."""
            ok = self.ready.is_set()
            return JSONResponse(
                {"status": "ok" if ok else "starting"}, status_code=200 if ok else 503
            )

        return Starlette(
            routes=[
                Route("/metrics", metrics),
                Route("/healthz", healthz),
                Route("/readyz", readyz),
            ]
        )


def main(settings: Settings | None = None) -> None:
    from services.common.settings import load_settings

    settings = settings or load_settings(Settings)
    logging.basicConfig(
        level=settings.log_level, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )

    async def run() -> None:
        service = MarketService(settings)
        task = asyncio.current_task()
        assert task is not None
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, task.cancel)
        with contextlib.suppress(asyncio.CancelledError):
            await service.run()

    asyncio.run(run())
