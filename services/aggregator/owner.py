"""Owner stage: the partitions of the by-day topic, their state table and the clearing runs.

One partition holds whole (area, day)s, so whoever owns it sees every plan, the gate-closure
marker and the market result of those days in order. Per batch: apply the records, make
each change durable in the co-partitioned changelog, publish what the runs produce, and
commit the by-day offsets only after every send was acknowledged. A crash replays the
uncommitted records onto the recovered state; that is harmless because every change is
idempotent (revisions, day status) and every run is deterministic.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from datetime import date, datetime, timedelta
from typing import Any

import orjson
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, ConsumerRebalanceListener, TopicPartition
from aiokafka.structs import ConsumerRecord

from schemas.base import FieldError, Model
from schemas.events import GateClosureMarker, PlanCancelled, PlanSubmitted, WhatIfRequested
from schemas.market import MarketResult
from services.aggregator import metrics as m
from services.aggregator import topics
from services.aggregator.batching import Batches, CommitPipeline
from services.aggregator.clearing import rejection
from services.aggregator.configs import ConfigView
from services.aggregator.restore import restore
from services.aggregator.runs import Runs
from services.aggregator.settings import Settings
from services.aggregator.state import AreaDay, DayRecord, Table
from services.aggregator.topics import Names
from services.common.clock import Clock
from services.common.kafka import make_group_consumer

log = logging.getLogger(__name__)
S = m.SERVICE


class _Recover(ConsumerRebalanceListener):  # type: ignore[misc]
    """Keeps the state of partitions that stay ours; rebuilds new ones from the changelog."""

    def __init__(self, owner: Owner) -> None:
        self.owner = owner
        self.revoked: set[int] = set()

    async def on_partitions_revoked(self, revoked: list[TopicPartition]) -> None:
        self.revoked = {tp.partition for tp in revoked}
        self.owner.assigned -= self.revoked

    async def on_partitions_assigned(self, assigned: list[TopicPartition]) -> None:
        o = self.owner
        now = {tp.partition for tp in assigned}
        # Records of a partition must not be applied while its state is being rebuilt:
        # pause it, and the main loop also skips (and re-reads) records of partitions that
        # are not in `assigned` yet.
        if o.consumer is not None and assigned:
            o.consumer.pause(*assigned)
        # Eager rebalancing: a partition revoked and given straight back was nobody
        # else's in between, so its state is current; anything else is rebuilt.
        for p in set(o.table.partitions) - now:
            o.table.drop(p)
        kept = now & self.revoked & set(o.table.partitions)
        await restore(o.s.kafka_access(), o.names.changelog, sorted(now - kept), o.table)
        o.assigned = now
        o.runs.forget_cache()
        if o.consumer is not None and assigned:
            o.consumer.resume(*assigned)
        o.recovered.set()


class Owner:
    def __init__(
        self,
        settings: Settings,
        names: Names,
        producer: AIOKafkaProducer,
        configs: ConfigView,
        clock: Clock,
    ) -> None:
        self.s = settings
        self.names = names
        self.producer = producer
        self.configs = configs
        self.clock = clock
        self.table = Table()
        self.assigned: set[int] = set()
        self.recovered = asyncio.Event()
        self.out = Batches(producer)
        self.commits: CommitPipeline | None = None
        self._days: dict[tuple[str, str], AreaDay] = {}
        # Per day: the config it was computed with and when plans become too old to clear.
        self._horizons: dict[AreaDay, tuple[object, datetime]] = {}
        self.runs = Runs(self)
        self.consumer: AIOKafkaConsumer | None = None

    # -- publishing -------------------------------------------------------------------
    async def send(
        self,
        topic: str,
        value: bytes | None,
        key: bytes,
        partition: int | None = None,
        headers: list[tuple[str, bytes]] | None = None,
    ) -> None:
        await self.out.add(topic, key, value, headers or (), partition)

    async def publish(self, topic: str, event: Model, key: str) -> None:
        await self.send(topic, event.model_dump_json().encode(), key.encode())

    async def log_change(self, partition: int, change: tuple[bytes, bytes | None] | None) -> None:
        if change is not None:
            await self.send(self.names.changelog, change[1], change[0], partition=partition)

    async def flush(self) -> None:
        """Send everything queued and wait for the acknowledgements (benchmarks, tests)."""
        await self.out.flush()
        if self.commits is not None:
            await self.commits.drain()

    # -- main loop --------------------------------------------------------------------
    async def run(self) -> None:
        s = self.s
        self.consumer = consumer = make_group_consumer(
            bootstrap=s.kafka_access(),
            group_id=self.names.owner_group,
            session_timeout_ms=s.aggregator_session_timeout_ms,
            heartbeat_ms=s.aggregator_heartbeat_ms,
            max_partition_fetch_bytes=8 * 1024 * 1024,
            # A day's clearing runs between two polls: allow long solves (100 000 plans).
            max_poll_interval_ms=900_000,
        )
        await consumer.start()
        self.commits = CommitPipeline(consumer)
        consumer.subscribe([self.names.by_day], listener=_Recover(self))
        try:
            while True:
                batch = await consumer.getmany(
                    timeout_ms=int(s.aggregator_tick_s * 1000), max_records=s.aggregator_batch_max
                )
                offsets = {}
                for tp, records in batch.items():
                    if tp.partition not in self.assigned:  # still being recovered
                        consumer.seek(tp, records[0].offset)
                        continue
                    m.EVENTS_CONSUMED.labels(S, tp.topic).inc(len(records))
                    for r in records:
                        await self.handle(tp.partition, r)
                    offsets[tp] = records[-1].offset + 1
                await self.runs.timers()
                # Committed once the changelog writes and outputs of this poll are acked.
                await self.commits.submit(await self.out.take(), offsets)
                await self._lag(consumer)
        finally:
            await consumer.stop()

    async def _lag(self, consumer: AIOKafkaConsumer) -> None:
        for tp in consumer.assignment():
            high = consumer.highwater(tp)
            if high is not None:
                lag = high - await consumer.position(tp)
                m.CONSUMER_LAG.labels(S, tp.topic, str(tp.partition)).set(max(lag, 0))

    def update_gauges(self) -> None:
        for p in self.assigned:
            m.TABLE_PLANS.labels(str(p)).set(self.table.live_count(p))
        m.TABLE_DAYS.set(len(self.table.days()))

    # -- records ----------------------------------------------------------------------
    async def handle(self, partition: int, r: ConsumerRecord[bytes, bytes]) -> None:
        kind = dict(r.headers or ()).get("k")
        value = r.value or b""
        try:
            if kind == topics.KIND_PLAN:
                # The intake validated it: read only the identity here (hot path).
                cfg = dict(r.headers or ()).get("cfg")
                await self._plan(partition, r.offset, orjson.loads(value), value, cfg)
            elif kind == topics.KIND_CANCEL:
                await self._cancel(partition, r.offset, PlanCancelled.model_validate_json(value))
            elif kind == topics.KIND_MARKER:
                await self.runs.on_marker(partition, GateClosureMarker.model_validate_json(value))
            elif kind == topics.KIND_MARKET:
                await self.runs.on_market(partition, MarketResult.model_validate_json(value))
            elif kind == topics.KIND_WHATIF:
                await self.runs.on_what_if(partition, WhatIfRequested.model_validate_json(value))
            else:
                log.error("by-day record %d@%d without a known kind header", partition, r.offset)
        except (ValueError, KeyError, TypeError) as exc:  # never stop on a bad record
            log.error("by-day record %d@%d unreadable, skipped: %s", partition, r.offset, exc)

    def _late(self, partition: int, area_day: AreaDay) -> DayRecord | bool | None:
        """The day's record when the gate is closed; True when it is too old to clear."""
        day = self.table.find(partition, area_day)
        if day is not None and day.record is not None:
            return day.record
        config = self.configs.get(area_day[0])
        if config is None:
            return None
        cached = self._horizons.get(area_day)
        if cached is None or cached[0] is not config:
            horizon = config.gate_closure_for(area_day[1]) + timedelta(
                days=self.s.aggregator_marker_lookback_days + 1
            )
            cached = self._horizons[area_day] = (config, horizon)
        return True if self.clock.now() >= cached[1] else None

    def _area_day(self, area: str, day: str) -> AreaDay:
        ad = self._days.get((area, day))
        if ad is None:
            ad = self._days[(area, day)] = (area, date.fromisoformat(day))
        return ad

    async def _plan(
        self, partition: int, seq: int, doc: dict[str, Any], raw: bytes, cfg: bytes | None = None
    ) -> None:
        ad = self._area_day(doc["market_area"], doc["delivery_day"])
        late = self._late(partition, ad)
        if late:
            plan = PlanSubmitted.model_validate_json(raw)
            m.PLANS_LATE.labels(S).inc()
            run_id = late.run_id if isinstance(late, DayRecord) and late.run_id else "gate-closed"
            closure = late.gate_closure if isinstance(late, DayRecord) else "long ago"
            reason = f"gate_closed: gate closure for {plan.delivery_day} passed at {closure}"
            decision = rejection(
                plan, run_id, [FieldError(loc="delivery_day", reason=reason)], self.clock.now(), 1
            )
            await self.publish(self.names.decisions, decision, plan.vehicle_id)
            return
        plan_id = str(uuid.UUID(doc["plan_id"]))  # the canonical form, as cancellations use
        outcome, change = self.table.submit(
            partition,
            ad,
            plan_id,
            int(doc.get("revision", 0)),
            doc["vehicle_id"],
            seq,
            raw,
            cfg.decode() if cfg else None,
        )
        if change is None:
            m.PLANS_STALE.labels(S, outcome).inc()
        await self.log_change(partition, change)

    async def _cancel(self, partition: int, seq: int, cancel: PlanCancelled) -> None:
        ad: AreaDay = (cancel.market_area, cancel.delivery_day)
        if self._late(partition, ad):
            m.PLANS_LATE.labels(S).inc()
            log.warning("cancellation of %s after gate closure ignored", cancel.plan_id)
            return
        outcome, change = self.table.cancel(
            partition, ad, str(cancel.plan_id), cancel.revision, cancel.vehicle_id, seq
        )
        if change is None:
            m.PLANS_STALE.labels(S, outcome).inc()
        await self.log_change(partition, change)
