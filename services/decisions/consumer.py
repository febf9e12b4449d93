"""The consumer: Kafka batches → one PostgreSQL transaction each, offsets stored with the rows.

The consumer group only spreads partitions over replicas; offsets are never committed to
Kafka. On every assignment we seek to the offsets stored in PostgreSQL (or to the
beginning), so whatever Kafka re-delivers after a crash or rebalance starts exactly after
the last batch the database holds.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import asyncpg
from aiokafka import AIOKafkaConsumer, ConsumerRebalanceListener, TopicPartition
from aiokafka.structs import ConsumerRecord

from schemas.base import FieldError
from schemas.market_day import gate_closure
from services.common.clock import Clock
from services.common.kafka import make_group_consumer
from services.common.kafka_access import Broker
from services.common.registry import get_market_area
from services.decisions import metrics, store
from services.decisions.records import Batch, Kind, Record, add

log = logging.getLogger(__name__)
SERVICE = "decisions"

_REJECTED_BY_DATABASE = (asyncpg.DataError, asyncpg.IntegrityConstraintViolationError)

AfterWrite = Callable[[Batch, store.Written], Awaitable[None]]


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
        (topics[tp.topic], Record(r.topic, r.partition, r.offset, r.value))
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
    ) -> None:
        self.pool = pool
        self.config = config
        self.clock = clock or Clock()
        self.after_write = after_write  # tests use it to crash between write and next poll
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
        async with self.pool.acquire() as conn:
            await store.prepare(conn)
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
            batch, written = await store.write(conn, self.config.name, records, parsed)
        except _REJECTED_BY_DATABASE:
            # One record the database refuses (e.g. a NUL byte in a text) must not block
            # the others: redo the batch one record per transaction, isolating the culprit.
            batch, written = await self._write_one_by_one(conn, records)
        metrics.BATCH_SECONDS.observe(time.perf_counter() - started)
        self._positions.update(batch.offsets)
        for topic, n in batch.consumed.items():
            metrics.EVENTS_CONSUMED.labels(SERVICE, topic).inc(n)
        for bad in batch.bad:
            metrics.EVENTS_INVALID.labels(SERVICE, bad.topic).inc()
            log.warning("unreadable record %s[%d]@%d: %s", bad.topic, bad.partition, bad.offset,
                        "; ".join(map(str, bad.reasons)))  # fmt: skip
        metrics.DECISIONS_PERSISTED.inc(written.decisions)
        metrics.PLANS_PERSISTED.inc(written.plans)
        metrics.RUNS_PERSISTED.inc(written.runs)
        await self._observe_gate_closure(batch)
        if self.after_write is not None:
            await self.after_write(batch, written)

    async def _write_one_by_one(
        self, conn: asyncpg.Connection, records: list[tuple[Kind, Record]]
    ) -> tuple[Batch, store.Written]:
        total = Batch()
        counts = [0, 0, 0, 0]
        for one in records:
            try:
                batch, w = await store.write(conn, self.config.name, [one])
            except _REJECTED_BY_DATABASE as exc:
                reason = FieldError(loc="", reason=f"rejected by the database: {exc}")
                batch, w = await store.write(conn, self.config.name, [one], None, reason)
            total.offsets.update(batch.offsets)
            total.bad.extend(batch.bad)
            total.decisions.update(batch.decisions)
            for topic, n in batch.consumed.items():
                total.consumed[topic] = total.consumed.get(topic, 0) + n
            for i, n in enumerate((w.decisions, w.plans, w.runs, w.bad)):
                counts[i] += n
        return total, store.Written(*counts)

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
            closed = gate_closure(d.delivery_day, area.timezone, area.gate_closure)
            metrics.GATE_TO_SERVED.observe(max(0.0, (self.clock.now() - closed).total_seconds()))
