"""Intake stage: read ``charging-plans`` (and market results, operator commands), check every
event, and re-key what is valid by ``area/day`` onto the by-day topic. Plans published
straight to ``charging-plans.direct.<producer>`` pass the ownership gate of
``services.aggregator.direct`` first.

Invalid input never stops the stream: it goes to the DLQ of the topic it was read from
(``charging-plans.dlq``, ``market-results.dlq``, ``auction-commands.dlq``) as a RejectedEvent
with the original bytes and every reason, and when a plan's identity is readable the
vehicle also gets a rejected ScheduleDecision. The same holds for any exception raised while
handling one record (:meth:`Intake.isolated`); only broker failures stop the stage. Offsets
are committed only after every forwarded record and dead letter was acknowledged
(at-least-once; the owner stage dedupes).
"""

from __future__ import annotations

import asyncio
import logging
import multiprocessing
import time
from collections.abc import Awaitable
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import Any

import orjson
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.errors import KafkaError
from aiokafka.structs import ConsumerRecord
from pydantic import ValidationError

from schemas.base import FieldError
from schemas.context import ValidationContext
from schemas.events import PlanCancelled, PlanSubmitted, WhatIfRequested
from schemas.market import MarketResult, area_day_key
from schemas.market_day import delivery_day_of
from schemas.parsing import errors_from, parse_plan_event
from schemas.validation import validate_plan
from services.aggregator import direct, topics
from services.aggregator import metrics as m
from services.aggregator.batching import Batches, CommitPipeline
from services.aggregator.checker import Verdict, check_batch, init_child, non_finite
from services.aggregator.clearing import rejection
from services.aggregator.configs import ConfigView
from services.aggregator.deadletters import count_topics, failure_reason, send_dead_letter
from services.aggregator.settings import Settings
from services.aggregator.topics import Names
from services.common.clock import Clock
from services.common.kafka import make_group_consumer

log = logging.getLogger(__name__)
S = m.SERVICE
_SUBMITTED = m.PLANS_RECEIVED.labels(S, "submitted")
_CANCELLED = m.PLANS_RECEIVED.labels(S, "cancelled")


def _identity(value: bytes) -> dict[str, Any]:
    """Best-effort plan_id / revision / vehicle_id of an unreadable plan, for the DLQ."""
    try:
        doc = orjson.loads(value)
    except orjson.JSONDecodeError:
        return {}
    if not isinstance(doc, dict):
        return {}
    out: dict[str, Any] = {}
    vid = doc.get("vehicle_id")
    if isinstance(vid, str) and 0 < len(vid) <= 64:
        out["vehicle_id"] = vid
    rev = doc.get("revision")
    if type(rev) is int and rev >= 0:
        out["revision"] = rev
    try:
        import uuid

        out["plan_id"] = uuid.UUID(str(doc.get("plan_id")))
    except ValueError:
        pass
    return out


class Intake:
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
        self.consumer: AIOKafkaConsumer | None = None
        self.contexts: dict[str, tuple[object, ValidationContext]] = {}
        self.out = Batches(producer)
        self.direct = direct.DirectPlans(settings, names, self.out, configs, clock)
        self.commits: CommitPipeline | None = None
        self.first_record_at: float | None = None
        # Parsing and validation run in a helper process (settings: 0 = inline).
        self.pool = self._new_pool()
        self._sent: dict[
            str, object
        ] = {}  # area -> config event id the helpers have  # perf_counter of the first batch

    def _new_pool(self) -> ProcessPoolExecutor | None:
        if self.s.aggregator_intake_processes <= 0:
            return None
        return ProcessPoolExecutor(
            self.s.aggregator_intake_processes,
            mp_context=multiprocessing.get_context("spawn"),
            initializer=init_child,
        )

    def _context(self, area: str) -> tuple[ValidationContext | None, str | None]:
        """The validation context of the area's config and that config's event id; its
        planning horizon counts from the area's local date on the clock (DESIGN §5)."""
        config = self.configs.get(area)
        if config is None:
            return None, None
        today = delivery_day_of(self.clock.now(), config.timezone)
        cached = self.contexts.get(area)
        if cached is None or cached[0] is not config or cached[1].today != today:
            cached = (config, ValidationContext.from_config(config, today=today))
            self.contexts[area] = cached
        return cached[1], str(config.event_id)

    async def run(self) -> None:
        n = self.names
        self.consumer = consumer = make_group_consumer(
            pattern=direct.intake_pattern(n),  # plans, market, commands, direct topics
            bootstrap=self.s.kafka_access(),
            metadata_max_age_ms=direct.DISCOVERY_MS,
            group_id=n.intake_group,
            session_timeout_ms=self.s.aggregator_session_timeout_ms,
            heartbeat_ms=self.s.aggregator_heartbeat_ms,
            max_partition_fetch_bytes=8 * 1024 * 1024,
        )
        await consumer.start()
        self.commits = CommitPipeline(consumer)
        count_topics((n.plans, n.market, n.commands))
        try:
            while True:
                batch = await consumer.getmany(
                    timeout_ms=200, max_records=self.s.aggregator_batch_max
                )
                if not batch:
                    continue
                if self.first_record_at is None:
                    self.first_record_at = time.perf_counter()
                offsets = {}
                for tp, records in batch.items():
                    m.EVENTS_CONSUMED.labels(S, tp.topic).inc(len(records))
                    if tp.topic == n.plans and self.pool is not None:
                        await self._plans_in_pool(records)
                    else:
                        for r in records:
                            await self.isolated(r)
                    offsets[tp] = records[-1].offset + 1
                # Committed once every forward of this poll is acknowledged.
                await self.commits.submit(await self.out.take(), offsets)
                for tp in batch:
                    high = consumer.highwater(tp)
                    if high is not None:
                        lag = max(high - await consumer.position(tp), 0)
                        m.CONSUMER_LAG.labels(S, tp.topic, str(tp.partition)).set(lag)
        finally:
            await consumer.stop()
            if self.pool is not None:
                self.pool.shutdown(wait=False, cancel_futures=True)

    async def _plans_in_pool(self, records: list[ConsumerRecord[bytes, bytes]]) -> None:
        """Check a poll's plan events in the helper process; forward in the original order."""
        assert self.pool is not None
        updates = {}
        for area, config in self.configs.configs.items():
            if self._sent.get(area) != config.event_id:
                updates[area] = config.model_dump_json().encode()
                self._sent[area] = config.event_id
        values = [r.value or b"" for r in records]
        loop = asyncio.get_running_loop()
        try:
            now = self.clock.now()
            verdicts = await loop.run_in_executor(self.pool, check_batch, updates, values, now)
        except Exception as exc:
            # The helper failed for the whole poll (it died, or a config did not load in
            # it): check these records inline, each on its own, and start a new helper.
            log.error("intake helper failed (%s): checking %d plans inline", exc, len(records))
            self._sent.clear()  # a new helper knows no config yet
            if isinstance(exc, BrokenProcessPool):
                self.pool.shutdown(wait=False, cancel_futures=True)
                self.pool = self._new_pool()
            verdicts = [None] * len(records)
        for r, verdict in zip(records, verdicts, strict=True):
            # None: invalid (or unreadable): the full inline path
            await self.isolated(r, None if verdict is None else self._checked(r, verdict))

    async def _checked(self, r: ConsumerRecord[bytes, bytes], verdict: Verdict) -> None:
        """Forward a plan event the helper found valid."""
        assert verdict is not None
        kind, key, config_id = verdict
        (_SUBMITTED if kind == topics.KIND_PLAN else _CANCELLED).inc()
        await self._forward(key, kind, r.value or b"", config_id)

    async def _forward(
        self, key: str, kind: bytes, value: bytes, validated_with: str | None = None
    ) -> None:
        headers = [("k", kind)]
        if validated_with is not None:  # lets clearing skip re-validating with the same config
            headers.append(("cfg", validated_with.encode()))
        await self.out.add(self.names.by_day, key.encode(), value, headers)

    async def isolated(
        self, r: ConsumerRecord[bytes, bytes], step: Awaitable[None] | None = None
    ) -> None:
        """Handle one record (or run ``step`` for it); whatever that raises ends in the
        record's topic's DLQ and the stream goes on.

        Broker failures (KafkaError) are not the record's fault: they stop the stage as
        before, and nothing is committed past the record (it is read again on restart).
        """
        try:
            await (self.handle(r) if step is None else step)
        except KafkaError:
            raise
        except Exception as exc:
            log.debug("record %s[%d]@%d raised", r.topic, r.partition, r.offset, exc_info=True)
            await self._unusable(r, exc)

    async def _unusable(self, r: ConsumerRecord[bytes, bytes], exc: Exception) -> None:
        reasons = [FieldError(loc="", reason=f"unprocessable record: {failure_reason(exc)}")]
        if r.topic != self.names.plans:
            await send_dead_letter(self.out, r, reasons, self.clock.now(), "unusable record")
            return
        m.PLANS_RECEIVED.labels(S, "unprocessable").inc()
        value = r.value or b""
        event = None
        try:  # its vehicle hears why too, when the plan itself is readable
            event = parse_plan_event(value)[0] if value else None
        except Exception:
            pass
        await self._reject(r, value, reasons, event)

    async def handle(self, r: ConsumerRecord[bytes, bytes]) -> None:
        if r.topic == self.names.plans:
            await self._plan(r)
        elif (producer := self.direct.producer_of(r.topic)) is not None:
            if await self.direct.screen(r, producer):  # only the producer's own vehicles
                await self._plan(r)
        elif r.topic == self.names.market:
            await self._forward_readable(r, MarketResult, topics.KIND_MARKET, "market result")
        else:
            await self._forward_readable(r, WhatIfRequested, topics.KIND_WHATIF, "command")

    async def _plan(self, r: ConsumerRecord[bytes, bytes]) -> None:
        value = r.value if r.value is not None else b""
        event, errors = (
            parse_plan_event(value)
            if value
            else (None, [FieldError(loc="", reason="empty record value (no event)")])
        )
        if isinstance(event, PlanSubmitted):
            _SUBMITTED.inc()
            ctx, config_id = self._context(event.market_area)
            errors = non_finite(event)
            if ctx is not None and not errors:
                errors = validate_plan(event, ctx)
            if not errors:
                key = area_day_key(event.market_area, event.delivery_day)
                await self._forward(key, topics.KIND_PLAN, value, config_id)
                return
        elif isinstance(event, PlanCancelled):
            _CANCELLED.inc()
            key = area_day_key(event.market_area, event.delivery_day)
            await self._forward(key, topics.KIND_CANCEL, value)
            return
        else:
            m.PLANS_RECEIVED.labels(S, "unreadable").inc()
        await self._reject(r, value, errors, event)

    async def _reject(
        self,
        r: ConsumerRecord[bytes, bytes],
        value: bytes,
        errors: list[FieldError],
        event: PlanSubmitted | PlanCancelled | None,
    ) -> None:
        m.PLANS_INVALID.labels(S).inc()
        ident = (
            {"plan_id": event.plan_id, "revision": event.revision, "vehicle_id": event.vehicle_id}
            if event is not None
            else _identity(value)
        )
        await send_dead_letter(self.out, r, errors, self.clock.now(), "invalid plan event", **ident)
        if isinstance(event, PlanSubmitted):
            # The plan is identifiable: its vehicle hears why through schedule-decisions too.
            try:
                decision = rejection(event, "validation", errors[:200], self.clock.now(), phase=1)
                value = decision.model_dump_json().encode()
            except Exception as exc:  # the dead letter is written; the decision is a courtesy
                log.error("no rejected decision for plan %s: %s", event.plan_id, exc)
                return
            await self.out.add(self.names.decisions, event.vehicle_id.encode(), value)

    async def _forward_readable(
        self,
        r: ConsumerRecord[bytes, bytes],
        model: type[MarketResult] | type[WhatIfRequested],
        kind: bytes,
        what: str,
    ) -> None:
        """Re-key a market result or an operator command by area/day; what can't be read goes
        to the DLQ of its topic with every reason."""
        if not r.value:
            reasons = [FieldError(loc="", reason=f"empty record value (no {what})")]
            await send_dead_letter(self.out, r, reasons, self.clock.now(), f"unreadable {what}")
            return
        try:
            event = model.model_validate_json(r.value)
        except ValidationError as exc:
            reasons = errors_from(exc)
            await send_dead_letter(self.out, r, reasons, self.clock.now(), f"unreadable {what}")
            return
        key = area_day_key(event.market_area, event.delivery_day)
        await self._forward(key, kind, r.value or b"")
