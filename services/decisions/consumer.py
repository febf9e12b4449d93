"""The consumer: Kafka batches → one PostgreSQL transaction each, offsets stored with the rows.

The consumer group only spreads partitions over replicas; offsets are never committed to
Kafka. On every assignment we seek to the offsets stored in PostgreSQL (or to the
beginning), so whatever Kafka re-delivers after a crash or rebalance starts exactly after
the last batch the database holds.

No single record can stop it: a record that cannot be parsed, or that the database or its
driver refuses, goes to `<topic>.dlq` (and `consume_errors`) and its offset advances with
the rest of the batch. Only failures that are not about a record (database or broker
unavailable) end `run()`, before the batch's offsets are stored; the caller restarts it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass

import asyncpg
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, ConsumerRebalanceListener, TopicPartition
from aiokafka.structs import ConsumerRecord

from schemas.market_day import gate_closure
from services.common.clock import Clock
from services.common.kafka import make_group_consumer, make_producer
from services.common.kafka_access import Broker
from services.common.registry import get_market_area
from services.decisions import metrics, store
from services.decisions.deadletters import DeadLetterFailure, DeadLetters
from services.decisions.records import BadRecord, Batch, Kind, Record, add

log = logging.getLogger(__name__)
SERVICE = "decisions"

AfterWrite = Callable[[Batch, store.Written], Awaitable[None]]
BeforeCommit = Callable[[list[BadRecord]], Awaitable[None]]


@dataclass(frozen=True)
class ConsumerConfig:
    bootstrap: Broker
    topics: dict[str, Kind]  # topic name -> what it carries
    name: str = "decisions"  # group id and key of the stored offsets
    batch_max: int = 10_000
    wait_ms: int = 200
    session_timeout_ms: int = 6000
    heartbeat_ms: int = 1000


def _records(
    topics: dict[str, Kind], fetched: dict[TopicPartition, list[ConsumerRecord]]
) -> list[tuple[Kind, Record]]:
    return [
        (topics[tp.topic], Record(r.topic, r.partition, r.offset, r.value, r.key))
        for tp, records in fetched.items()
        for r in records
    ]


async def _parse(records: list[tuple[Kind, Record]], chunk: int = 256) -> Batch:
    """Parse, yielding to the loop every `chunk` records so the running write progresses."""
    batch = Batch()
    for i, (kind, record) in enumerate(records):
        add(batch, kind, record)
        if i % chunk == chunk - 1:
            await asyncio.sleep(0)
    return batch


class _SeekToStored(ConsumerRebalanceListener):  # type: ignore[misc]
    def __init__(self, owner: DecisionsConsumer) -> None:
        self.owner = owner

    async def on_partitions_revoked(self, revoked: list[TopicPartition]) -> None:
        # Let the batch in flight commit first, so the next owner starts after it.
        await self.owner.finish_write()

    async def on_partitions_assigned(self, assigned: list[TopicPartition]) -> None:
        await self.owner.seek_to_stored(assigned)


class DecisionsConsumer:
    def __init__(
        self,
        pool: asyncpg.Pool,
        config: ConsumerConfig,
        clock: Clock | None = None,
        after_write: AfterWrite | None = None,
        after_dead_letters: BeforeCommit | None = None,
    ) -> None:
        self.pool = pool
        self.config = config
        self.clock = clock or Clock()
        self.after_write = after_write  # tests use it to crash between write and next poll
        # Tests use it to crash after dead letters were acknowledged, before their commit.
        self.after_dead_letters = after_dead_letters
        self._dead_letters: DeadLetters | None = None
        for topic in config.topics:  # every series exists from the start (rate() needs 0)
            metrics.DLQ_EVENTS.labels(SERVICE, topic)
        self.assigned = asyncio.Event()
        self.running = False
        self.last_error: str | None = None  # why the last run ended, for /readyz
        self._kafka: AIOKafkaConsumer | None = None
        self._gate_seen: set[tuple[str, object, str]] = set()
        self._positions: dict[tuple[str, int], int] = {}
        self._writing: asyncio.Task[None] | None = None

    async def finish_write(self) -> None:
        """Wait for the batch being written (its failure surfaces in the main loop)."""
        writing = self._writing
        if writing is not None and not writing.done():
            await asyncio.wait({writing})

    async def seek_to_stored(self, assigned: list[TopicPartition]) -> None:
        assert self._kafka is not None
        stored = await store.load_offsets(self.pool, self.config.name)
        for tp in assigned:
            offset = stored.get((tp.topic, tp.partition))
            if offset is None:
                await self._kafka.seek_to_beginning(tp)
            else:
                self._kafka.seek(tp, offset)
        log.info("assigned %s, seeked to stored offsets %s", assigned, stored)
        if assigned:
            self.assigned.set()

    async def run(self) -> None:
        """Consume until cancelled. Any database error propagates (the caller restarts us)."""
        cfg = self.config
        kafka = make_group_consumer(
            bootstrap=cfg.bootstrap,
            group_id=cfg.name,
            session_timeout_ms=cfg.session_timeout_ms,
            heartbeat_ms=cfg.heartbeat_ms,
            max_partition_fetch_bytes=8 * 1024 * 1024,
            fetch_max_bytes=64 * 1024 * 1024,
        )
        self._kafka = kafka
        kafka.subscribe(list(cfg.topics), listener=_SeekToStored(self))
        producer = make_producer(cfg.bootstrap)  # dead letters only
        async with self.pool.acquire() as conn, _started(producer):
            await store.prepare(conn)
            self._dead_letters = DeadLetters(producer, cfg.topics, self.clock, SERVICE)
            await kafka.start()
            self.running = True
            # Pipeline: while batch N is written (PostgreSQL works on another core), batch
            # N+1 is fetched and parsed here. Writes stay strictly sequential, so the
            # stored offsets still only ever cover whole, committed batches.
            writing: asyncio.Task[None] | None = None
            self._writing = None
            try:
                while True:
                    fetched = await kafka.getmany(timeout_ms=cfg.wait_ms, max_records=cfg.batch_max)
                    if fetched:
                        records = _records(cfg.topics, fetched)
                        parsed = await _parse(records)
                        if writing is not None:
                            await writing
                        writing = asyncio.create_task(self._write(conn, records, parsed))
                        self._writing = writing
                    elif writing is not None and writing.done():
                        await writing  # surfaces a failed write now, not at the next batch
                        writing = None
                    self._report_lag(kafka)
            finally:
                if writing is not None and not writing.done():
                    writing.cancel()  # rolls the transaction back: re-read after restart
                    with contextlib.suppress(asyncio.CancelledError, Exception):
                        await writing
                self.running = False
                self.assigned.clear()
                await kafka.stop()

    async def _write(
        self, conn: asyncpg.Connection, records: list[tuple[Kind, Record]], parsed: Batch
    ) -> None:
        started = time.perf_counter()
        try:
            batch, written = await store.write(
                conn, self.config.name, records, parsed, before_commit=self._dead_letter
            )
        except Exception as exc:
            if not _refused(exc):
                raise  # the database or broker failed: stop, nothing of the batch is stored
            # One record the database or its driver refuses (a NUL byte in a text, an int
            # beyond int4) must not block the others: find it, store it as refused.
            log.warning("batch of %d refused (%s); isolating the culprit", len(records), exc)
            batch, written = await store.write_isolating(
                conn, self.config.name, records, before_commit=self._dead_letter
            )
        metrics.BATCH_SECONDS.observe(time.perf_counter() - started)
        self._positions.update(batch.offsets)
        for topic, n in batch.consumed.items():
            metrics.EVENTS_CONSUMED.labels(SERVICE, topic).inc(n)
        for bad in batch.bad:
            metrics.EVENTS_INVALID.labels(SERVICE, bad.topic).inc()
            reasons = "; ".join(map(str, bad.reasons[:5]))
            log.warning("record %s[%d]@%d refused, dead letter sent: %s", bad.topic,
                        bad.partition, bad.offset, reasons)  # fmt: skip
        metrics.DECISIONS_PERSISTED.inc(written.decisions)
        metrics.PLANS_PERSISTED.inc(written.plans)
        metrics.RUNS_PERSISTED.inc(written.runs)
        await self._observe_gate_closure(batch)
        if self.after_write is not None:
            await self.after_write(batch, written)

    async def _dead_letter(self, batch: Batch) -> None:
        """Inside the batch's transaction: publish its dead letters, wait for the acks."""
        if not batch.bad:
            return
        assert self._dead_letters is not None, "run() creates the dead-letter producer"
        await self._dead_letters.publish(batch.bad)
        if self.after_dead_letters is not None:
            try:
                await self.after_dead_letters(batch.bad)
            except Exception as exc:  # a simulated crash, not a refused record
                raise DeadLetterFailure("after_dead_letters failed") from exc

    def _report_lag(self, kafka: AIOKafkaConsumer) -> None:
        for tp in kafka.assignment():
            high = kafka.highwater(tp)
            position = self._positions.get((tp.topic, tp.partition))
            if high is None or position is None:
                continue  # nothing fetched from this partition yet
            lag = max(0, high - position)
            metrics.CONSUMER_LAG.labels(SERVICE, tp.topic, str(tp.partition)).set(lag)

    async def _observe_gate_closure(self, batch: Batch) -> None:
        """Once per phase-2 run: clock time from its day's gate closure until now (served)."""
        for d in batch.decisions.values():
            key = (d.market_area, d.delivery_day, d.run_id)
            if d.phase != 2 or key in self._gate_seen:
                continue
            self._gate_seen.add(key)
            area = await get_market_area(self.pool, d.market_area)
            if area is None:
                continue  # unknown area: no gate closure to measure from
            try:
                closed = gate_closure(d.delivery_day, area.timezone, area.gate_closure)
                served = (self.clock.now() - closed).total_seconds()
            except (OverflowError, ValueError) as exc:  # e.g. 0001-01-01: D-1 does not exist
                log.warning("no gate closure for %s %s: %s", d.market_area, d.delivery_day, exc)
                continue  # already stored; only this measurement is skipped
            metrics.GATE_TO_SERVED.observe(max(0.0, served))


def _refused(exc: Exception) -> bool:
    """Is this write failure about a record's values (isolate it) or not (stop)?"""
    return not isinstance(exc, DeadLetterFailure) and store.refused(exc)


@contextlib.asynccontextmanager
async def _started(producer: AIOKafkaProducer) -> AsyncIterator[AIOKafkaProducer]:
    await producer.start()
    try:
        yield producer
    finally:
        await producer.stop()
