"""Owner stage: the partitions of the by-day topic, their state table and the clearing runs.

One partition holds whole (area, day)s, so whoever owns it sees every plan, the gate-closure
marker and the market result of those days in order. Per batch: apply the records, make
each change durable in the co-partitioned changelog, publish what the runs produce, and
commit the by-day offsets only after every send was acknowledged. A crash replays the
uncommitted records onto the recovered state; that is harmless because every change is
idempotent (revisions, day status) and every run is deterministic.

A record the owner cannot apply, whatever it raises, goes to ``aggregator-by-day.dlq`` with
the reason and the stage goes on (:meth:`Owner.handle`); only broker failures stop it.
Days leave the state after the retention window (:meth:`Owner.expire`), and the changelog
gets a restore checkpoint when its dead history outgrows the live state (checkpoint.py).
"""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from datetime import date, datetime, timedelta
from typing import Any

import orjson
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, ConsumerRebalanceListener, TopicPartition
from aiokafka.errors import KafkaError
from aiokafka.structs import ConsumerRecord

from schemas.base import FieldError, Model
from schemas.events import GateClosureMarker, PlanCancelled, PlanSubmitted, WhatIfRequested
from schemas.market import MarketResult
from schemas.market_day import DEFAULT_TIMEZONE
from services.aggregator import metrics as m
from services.aggregator import topics
from services.aggregator.batching import Batches, CommitPipeline
from services.aggregator.checkpoint import CHECKPOINT_KEY, CheckpointWriter, read_checkpoints
from services.aggregator.clearing import rejection
from services.aggregator.configs import ConfigView
from services.aggregator.deadletters import (
    Unusable,
    count_topics,
    failure_reason,
    send_dead_letter,
)
from services.aggregator.restore import restore
from services.aggregator.retention import forget_at
from services.aggregator.runs import Runs
from services.aggregator.settings import Settings
from services.aggregator.state import AreaDay, DayRecord, Table
from services.aggregator.topics import Names
from services.common.clock import Clock
from services.common.kafka import make_group_consumer

# Plans bigger than this are not stored (their changelog entry would not fit a record
# batch); a valid plan (<= 48 stops, <= 50 bid steps) is a few KB.
MAX_PLAN_BYTES = 256 * 1024
# The per-day lookup caches are cleared when they reach this size (hostile days are many).
_CACHE_MAX = 10_000
# Plans and cancellations for days further ahead are refused: such a day would stay in
# memory until long after it ended (retention counts from then). The intake's planning
# horizon (a week) refuses them first; this bound holds whoever writes the by-day topic.
FAR_AHEAD = timedelta(days=366)

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
        todo = sorted(now - kept)
        bootstrap = o.s.kafka_access()
        start = await read_checkpoints(bootstrap, o.names.checkpoint_group, o.names.changelog, todo)
        counts = await restore(bootstrap, o.names.changelog, todo, o.table, start)
        for p, n in counts.items():
            o.written[p] = n  # what a restore reads now: the checkpoint's trigger counts it
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
        # Changelog records per partition since its last checkpoint (or read by its restore).
        self.written: dict[int, int] = {}
        self.checkpoints = CheckpointWriter(
            settings.kafka_access(), names.checkpoint_group, names.changelog
        )
        self._expired_at = 0.0

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
            self.written[partition] = self.written.get(partition, 0) + 1

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
        await self.checkpoints.start()
        self.commits = CommitPipeline(consumer)
        count_topics([self.names.by_day])
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
                if time.monotonic() - self._expired_at > 1.0:
                    self._expired_at = time.monotonic()
                    await self.expire()
                # Committed once the changelog writes and outputs of this poll are acked.
                await self.commits.submit(await self.out.take(), offsets)
                await self.checkpoint_due()
                await self._lag(consumer)
        finally:
            await consumer.stop()
            await self.checkpoints.stop()

    async def _lag(self, consumer: AIOKafkaConsumer) -> None:
        for tp in consumer.assignment():
            high = consumer.highwater(tp)
            if high is not None:
                lag = high - await consumer.position(tp)
                m.CONSUMER_LAG.labels(S, tp.topic, str(tp.partition)).set(max(lag, 0))

    def update_gauges(self) -> None:
        for p in self.assigned:
            m.TABLE_PLANS.labels(str(p)).set(self.table.live_count(p))
            m.TABLE_ENTRIES.labels(str(p)).set(self.table.entry_count(p))
        m.TABLE_DAYS.set(len(self.table.days()))

    # -- records ----------------------------------------------------------------------
    async def handle(self, partition: int, r: ConsumerRecord[bytes, bytes]) -> None:
        """Apply one by-day record; whatever it raises sends it to the DLQ, and the stage
        goes on. Broker failures (KafkaError) stop the stage, nothing committed past it."""
        try:
            await self._apply(partition, r)
        except KafkaError:
            raise
        except Exception as exc:
            log.debug("by-day record %d@%d raised", partition, r.offset, exc_info=True)
            await self._unusable(r, exc)

    async def _apply(self, partition: int, r: ConsumerRecord[bytes, bytes]) -> None:
        kind = dict(r.headers or ()).get("k")
        value = r.value or b""
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
            known = b", ".join(
                (topics.KIND_PLAN, topics.KIND_CANCEL, topics.KIND_MARKER, topics.KIND_MARKET)
                + (topics.KIND_WHATIF,)
            ).decode()
            raise Unusable("k", f"no known kind header (one of {known}), got {kind!r:.60}")

    async def _unusable(self, r: ConsumerRecord[bytes, bytes], exc: Exception) -> None:
        if isinstance(exc, Unusable):
            reasons = exc.reasons
        else:
            reasons = [FieldError(loc="", reason=f"unprocessable record: {failure_reason(exc)}")]
        identity: dict[str, Any] = {}
        plan = None
        if dict(r.headers or ()).get("k") == topics.KIND_PLAN and r.value:
            try:  # a readable plan: its vehicle hears why too
                plan = PlanSubmitted.model_validate_json(r.value)
                identity = {
                    "plan_id": plan.plan_id,
                    "revision": plan.revision,
                    "vehicle_id": plan.vehicle_id,
                }
            except Exception:
                plan = None
        now = self.clock.now()
        await send_dead_letter(self.out, r, reasons, now, "unusable by-day record", **identity)
        if plan is not None:
            try:
                decision = rejection(plan, "unprocessable", reasons, now, phase=1)
            except Exception as why:  # the dead letter is written; the decision is a courtesy
                log.error("no rejected decision for plan %s: %s", plan.plan_id, why)
                return
            await self.publish(self.names.decisions, decision, plan.vehicle_id)

    def _late(self, partition: int, area_day: AreaDay) -> DayRecord | bool | None:
        """The day's record when the gate is closed; True when it is too old to clear."""
        day = self.table.find(partition, area_day)
        if day is not None and day.record is not None:
            return day.record
        horizon = self.late_from(area_day)
        return True if horizon is not None and self.clock.now() >= horizon else None

    def late_from(self, area_day: AreaDay) -> datetime | None:
        """From when plans for the day are too old to clear (None: no config, not known)."""
        config = self.configs.get(area_day[0])
        if config is None:
            return None
        cached = self._horizons.get(area_day)
        if cached is None or cached[0] is not config:
            try:
                horizon = config.gate_closure_for(area_day[1]) + timedelta(
                    days=self.s.aggregator_marker_lookback_days + 1
                )
            except OverflowError as exc:
                raise Unusable(
                    "delivery_day", f"{area_day[1]} is out of the range the aggregator handles"
                ) from exc
            if len(self._horizons) >= _CACHE_MAX:
                self._horizons.clear()
            cached = self._horizons[area_day] = (config, horizon)
        return cached[1]

    def _in_range(self, area_day: AreaDay) -> None:
        if area_day[1] > self.clock.now().date() + FAR_AHEAD:
            raise Unusable(
                "delivery_day",
                f"{area_day[1]} is more than {FAR_AHEAD.days} days ahead of the aggregator's clock",
            )

    def _area_day(self, area: str, day: str) -> AreaDay:
        ad = self._days.get((area, day))
        if ad is None:
            if len(self._days) >= _CACHE_MAX:
                self._days.clear()
            ad = self._days[(area, day)] = (area, date.fromisoformat(day))
        return ad

    async def _plan(
        self, partition: int, seq: int, doc: dict[str, Any], raw: bytes, cfg: bytes | None = None
    ) -> None:
        plan_id = _checked_plan_id(doc, raw)
        ad = self._area_day(doc["market_area"], doc["delivery_day"])
        self._in_range(ad)
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
        if outcome == "taken":
            raise Unusable("plan_id", _TAKEN)
        if change is None:
            m.PLANS_STALE.labels(S, outcome).inc()
        await self.log_change(partition, change)

    # -- lifecycle ---------------------------------------------------------------------
    async def expire(self) -> None:
        """Forget the days past the retention window (aggregator_retention_days)."""
        now = self.clock.now()
        retention = timedelta(days=self.s.aggregator_retention_days)
        for p, ad, day in self.table.days():
            if p not in self.assigned:
                continue
            config = self.configs.get(ad[0])
            try:
                late_from = self.late_from(ad)
            except Unusable:
                late_from = None
            tz = config.timezone if config is not None else DEFAULT_TIMEZONE
            at = forget_at(ad, day.record, tz, late_from, retention)
            if at is not None and now >= at:
                await self.forget(p, ad)

    async def forget(self, partition: int, ad: AreaDay) -> None:
        """Drop one day: tombstones to the changelog, and out of every per-day cache. Its
        plans that never got a decision are rejected (no acknowledged plan is lost)."""
        day = self.table.find(partition, ad)
        if day is None:
            return
        expired = day.record is None or day.record.status != "done"
        if expired:
            await self.runs.expired(partition, ad)
        for change in self.table.forget(partition, ad):
            await self.log_change(partition, change)
        self.runs.forget(partition, ad)
        self._days.pop((ad[0], ad[1].isoformat()), None)
        self._horizons.pop(ad, None)
        m.DAYS_FORGOTTEN.labels("true" if expired else "false").inc()
        log.info("forgot %s/%s (%s)", ad[0], ad[1], "expired" if expired else "done")

    async def checkpoint_due(self) -> None:
        """Checkpoint the partitions whose changelog history outgrew their live state."""
        floor = self.s.aggregator_checkpoint_min_records
        for p in sorted(self.assigned):
            live = self.table.entry_count(p)
            if self.written.get(p, 0) - live > max(live, floor):
                await self.checkpoint(p)

    async def checkpoint(self, partition: int) -> None:
        """Re-write the partition's live entries after a marker; store the marker's offset
        as where restores start (checkpoint.py)."""
        await self.flush()  # everything before the marker is acknowledged first
        marker = orjson.dumps({"at": self.clock.now().isoformat()})
        sent = await self.producer.send_and_wait(
            self.names.changelog, marker, key=CHECKPOINT_KEY, partition=partition
        )
        copied = 0
        for key, value in self.table.entries(partition):
            if partition not in self.assigned:  # revoked meanwhile: stop writing its state
                return
            await self.send(self.names.changelog, value, key, partition=partition)
            copied += 1
        await self.flush()
        if partition not in self.assigned:  # taken away meanwhile: its new owner decides
            return
        await self.checkpoints.store(partition, sent.offset)
        self.written[partition] = copied + 1
        m.CHECKPOINTS.inc()
        log.info(
            "changelog partition %d: %d live entries re-written, restores start at %d",
            partition,
            copied,
            sent.offset,
        )

    async def _cancel(self, partition: int, seq: int, cancel: PlanCancelled) -> None:
        ad: AreaDay = (cancel.market_area, cancel.delivery_day)
        self._in_range(ad)
        if self._late(partition, ad):
            m.PLANS_LATE.labels(S).inc()
            log.warning("cancellation of %s after gate closure ignored", cancel.plan_id)
            return
        outcome, change = self.table.cancel(
            partition, ad, str(cancel.plan_id), cancel.revision, cancel.vehicle_id, seq
        )
        if outcome == "taken":
            raise Unusable("plan_id", _TAKEN)
        if change is None:
            m.PLANS_STALE.labels(S, outcome).inc()
        await self.log_change(partition, change)


# Says nothing of the other plan (whose vehicle, which revision): a direct producer that
# learnt someone's plan_id learns nothing more, and cannot replace or cancel that plan.
_TAKEN = "plan_id is taken by another vehicle's plan for this day; use a new plan_id"


def _checked_plan_id(doc: object, raw: bytes) -> str:
    """The plan id in canonical form (as cancellations use it), once what the owner stores
    a plan under is found sound: the intake checked it, but the by-day topic can be written
    directly."""
    if not isinstance(doc, dict):
        raise Unusable("", "a plan must be a JSON object")
    if len(raw) > MAX_PLAN_BYTES:
        raise Unusable("", f"plan of {len(raw)} bytes exceeds {MAX_PLAN_BYTES} bytes")
    for name, limit in (("market_area", 32), ("vehicle_id", 64), ("delivery_day", 10)):
        value = doc.get(name)
        if not isinstance(value, str) or not 0 < len(value) <= limit:
            raise Unusable(name, f"must be a string of 1 to {limit} characters")
    revision = doc.get("revision", 0)
    if type(revision) is not int or revision < 0:
        raise Unusable("revision", "must be an integer >= 0")
    try:
        return str(uuid.UUID(str(doc.get("plan_id"))))
    except ValueError as exc:
        raise Unusable("plan_id", "must be a UUID") from exc
