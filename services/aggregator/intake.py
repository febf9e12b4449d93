"""Intake stage: read ``charging-plans`` (and market results, operator commands), check every
event, and re-key what is valid by ``area/day`` onto the by-day topic. Plans published
straight to ``charging-plans.direct.<producer>`` pass the ownership gate of
``services.aggregator.direct`` first.

Invalid input never stops the stream: it goes to ``charging-plans.dlq`` as a RejectedEvent
with the original bytes and every reason, and when the plan's identity is readable the
vehicle also gets a rejected ScheduleDecision. Offsets are committed only after every
forwarded record was acknowledged (at-least-once; the owner stage dedupes).
"""

from __future__ import annotations

import asyncio
import logging
import multiprocessing
import time
from concurrent.futures import ProcessPoolExecutor
from typing import Any

import orjson
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.structs import ConsumerRecord
from pydantic import ValidationError

from schemas.base import FieldError
from schemas.context import ValidationContext
from schemas.events import PlanCancelled, PlanSubmitted, WhatIfRequested
from schemas.market import MarketResult, area_day_key
from schemas.parsing import errors_from, parse_plan_event
from schemas.validation import validate_plan
from services.aggregator import direct, topics
from services.aggregator import metrics as m
from services.aggregator.batching import Batches, CommitPipeline
from services.aggregator.checker import check_batch, init_child
from services.aggregator.clearing import rejection
from services.aggregator.configs import ConfigView
from services.aggregator.settings import Settings
from services.aggregator.topics import Names
from services.common.clock import Clock
from services.common.dlq import dead_letter
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
        self.pool = (
            ProcessPoolExecutor(
                settings.aggregator_intake_processes,
                mp_context=multiprocessing.get_context("spawn"),
                initializer=init_child,
            )
            if settings.aggregator_intake_processes > 0
            else None
        )
        self._sent: dict[
            str, object
        ] = {}  # area -> config event id the helpers have  # perf_counter of the first batch

    def _context(self, area: str) -> tuple[ValidationContext | None, str | None]:
        """The validation context of the area's config and that config's event id."""
        config = self.configs.get(area)
        if config is None:
            return None, None
        cached = self.contexts.get(area)
        if cached is None or cached[0] is not config:
            cached = (config, ValidationContext.from_config(config))
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
                            await self.handle(r)
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
        verdicts = await loop.run_in_executor(self.pool, check_batch, updates, values)
        for r, verdict in zip(records, verdicts, strict=True):
            if verdict is None:
                await self._plan(r)  # invalid (or unreadable): the full inline path
                continue
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
            if ctx is not None:
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
        m.DLQ_EVENTS.labels(S).inc()
        ident = (
            {"plan_id": event.plan_id, "revision": event.revision, "vehicle_id": event.vehicle_id}
            if event is not None
            else _identity(value)
        )
        dlq = dead_letter(
            topic=r.topic,
            partition=r.partition,
            offset=r.offset,
            key=r.key,
            value=value,
            reasons=errors,
            now=self.clock.now(),
            **ident,
        )
        log.warning(
            "invalid plan event %s[%d]@%d to DLQ: %s",
            r.topic,
            r.partition,
            r.offset,
            "; ".join(str(e) for e in errors[:5]),
        )
        await self.out.add(self.names.dlq, r.key, dlq.model_dump_json().encode())
        if isinstance(event, PlanSubmitted):
            # The plan is identifiable: its vehicle hears why through schedule-decisions too.
            decision = rejection(event, "validation", errors[:200], self.clock.now(), phase=1)
            await self.out.add(
                self.names.decisions, event.vehicle_id.encode(), decision.model_dump_json().encode()
            )

    async def _forward_readable(
        self,
        r: ConsumerRecord[bytes, bytes],
        model: type[MarketResult] | type[WhatIfRequested],
        kind: bytes,
        what: str,
    ) -> None:
        """Re-key a market result or an operator command by area/day; skip what can't be read."""
        try:
            event = model.model_validate_json(r.value or b"")
        except ValidationError as exc:
            log.error(
                "unreadable %s %s[%d]@%d skipped: %s",
                what,
                r.topic,
                r.partition,
                r.offset,
                "; ".join(str(e) for e in errors_from(exc)[:5]),
            )
            return
        key = area_day_key(event.market_area, event.delivery_day)
        await self._forward(key, kind, r.value or b"")
