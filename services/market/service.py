"""The market adapter process: ``aggregate-bids`` in, ``market-results`` out.

At-least-once: offsets are committed after the results were acknowledged; a redelivered
bid gets the identical result (same event id), which the aggregator ignores once the day
is done.

No single bid stops the loop: an unreadable one, one no exchange could take (non-finite
numbers, times out of range, more MTUs than a day has) and one the exchange adapter fails
on go to ``aggregate-bids.dlq`` (acknowledged before the batch's offsets are committed, so
a crash cannot lose a dead letter; a replay writes the same one again), and the aggregator
is answered ``rejected`` when the bid names its run. Failures that are not about a bid
(broker down, exchange unreachable) stop the loop before the commit, as before: the bids
are read again after the restart.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from datetime import timedelta

from aiokafka import AIOKafkaProducer
from aiokafka.errors import KafkaError
from aiokafka.structs import ConsumerRecord
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, generate_latest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from schemas.base import FieldError
from schemas.market import AggregateBid, MarketResult
from services.common import kafka
from services.common.clock import Clock
from services.common.dlq import dead_letter_of, dead_letter_record, dlq_topic
from services.common.kafka import TopicSpec, ensure_topics, make_group_consumer, make_producer
from services.common.tasks import http_stage, run_stages
from services.market.adapter import ExchangeAdapter, ExchangeUnavailable, SimulatedExchange
from services.market.bids import read_bid, refusal
from services.market.exchange import ExchangeRules, Supply
from services.market.settings import Settings

log = logging.getLogger(__name__)
SERVICE = "market"
REGISTRY = CollectorRegistry()
BIDS = Counter(
    "chargeflow_market_bids_total", "Aggregate bids read, by outcome", ["status"], registry=REGISTRY
)
DLQ_EVENTS = Counter(
    "chargeflow_dlq_events_total",
    "Records sent to the dead-letter topic <topic>.dlq, by service and the topic read from",
    ["service", "topic"],
    registry=REGISTRY,
)
# The exchange cannot be reached, or the broker failed: not about a bid (stop, retry).
_NOT_ABOUT_THE_BID = (ExchangeUnavailable, OSError, TimeoutError, KafkaError, MemoryError)


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
        DLQ_EVENTS.labels(SERVICE, self.bids_topic)  # the series exists before any dead letter

    async def run(self) -> None:
        s = self.s
        assert s.kafka_bootstrap
        await ensure_topics(
            s.kafka_access(),
            (
                TopicSpec(kafka.AGGREGATE_BIDS),
                TopicSpec(dlq_topic(kafka.AGGREGATE_BIDS)),
                TopicSpec(kafka.MARKET_RESULTS),
            ),
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
                        await self.handle(producer, r)
                if batch:  # every answer and dead letter of the batch is acknowledged
                    await consumer.commit()
        finally:
            await consumer.stop()
            await producer.stop()

    async def handle(self, producer: AIOKafkaProducer, record: ConsumerRecord) -> None:
        """Answer one bid; a bid that cannot be used gets a dead letter (and `rejected`)."""
        bid, reasons = read_bid(record.value)
        result: MarketResult | None = None
        if bid is not None and not reasons:
            try:
                await self._delay(bid)
                result = await self.exchange.submit(bid)
            except _NOT_ABOUT_THE_BID:
                raise  # stop before the commit: this bid is read again after the restart
            except Exception as exc:  # the adapter failed on this bid
                log.exception("exchange adapter failed on bid %s run %s", bid.key, bid.run_id)
                text = f"the exchange adapter failed on this bid ({type(exc).__name__}: {exc})"
                reasons = [FieldError(loc="", reason=text[:2000])]
        if reasons:
            await self._dead_letter(producer, record, reasons)
            if bid is None:
                BIDS.labels("unreadable").inc()
                return  # no run to answer
            result = refusal(bid, reasons, self.clock.now())
        assert result is not None
        BIDS.labels(result.status).inc()
        await producer.send_and_wait(
            self.results_topic, result.model_dump_json().encode(), key=result.key.encode()
        )
        log.info("bid %s run %s: %s", result.key, result.run_id, result.status)

    async def _delay(self, bid: AggregateBid) -> None:
        """Simulated exchange latency, in clock time after the bid was made (or after now,
        for a bid stamped in the future: a wrong clock must not hold the loop for years)."""
        if self.s.market_delay_s:
            made = min(bid.occurred_at, self.clock.now())
            await self.clock.sleep_until(made + timedelta(seconds=self.s.market_delay_s))

    async def _dead_letter(
        self, producer: AIOKafkaProducer, record: ConsumerRecord, reasons: list[FieldError]
    ) -> None:
        event = dead_letter_of(record, reasons, self.clock.now())
        topic, key, value = dead_letter_record(event, record.key)
        await producer.send_and_wait(topic, value, key=key)
        DLQ_EVENTS.labels(SERVICE, record.topic).inc()
        log.warning("bid %s[%d]@%d to %s: %s", record.topic, record.partition, record.offset,
                    topic, "; ".join(map(str, reasons[:5])))  # fmt: skip

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
