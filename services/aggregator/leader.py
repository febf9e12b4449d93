"""The leader's gate-closure timer: one marker per (area, day) into the by-day topic.

The leader is whoever owns partition 0 of the by-day topic. When a day's gate closure has
passed on the clock, it notes the end offsets of ``charging-plans`` and of the direct
producers' topics and waits until the intake group has committed past them (so every plan
acknowledged before closure is on the by-day topic, ahead of the marker), at most
``aggregator_closure_wait_s``; then it sends the marker with the day's key, into the day's
partition. Markers may be sent twice (a new
leader does not know what the old one sent); the owner ignores duplicates.
"""

from __future__ import annotations

import asyncio
import logging
import time
from datetime import date, timedelta

from aiokafka import AIOKafkaConsumer, TopicPartition

from schemas.events import GateClosureMarker
from schemas.market import area_day_key
from schemas.market_day import next_delivery_day
from services.aggregator import direct, topics
from services.aggregator.clearing import event_uuid
from services.aggregator.offsets import true_end_offsets
from services.aggregator.owner import Owner
from services.common.kafka import make_consumer

log = logging.getLogger(__name__)


class Leader:
    def __init__(self, owner: Owner) -> None:
        self.o = owner
        self.sent: set[tuple[str, date]] = set()
        self.waiting: dict[tuple[str, date], tuple[dict[TopicPartition, int], float]] = {}
        self.probe: AIOKafkaConsumer | None = None  # reads the intake group's commits
        self.ends: AIOKafkaConsumer | None = None  # finds the end of charging-plans

    @property
    def is_leader(self) -> bool:
        return 0 in self.o.assigned

    def due(self) -> list[tuple[str, date]]:
        """(area, day) whose gate closure passed within the lookback and have no marker yet."""
        now = self.o.clock.now()
        out = []
        window: set[tuple[str, date]] = set()
        for area, config in sorted(self.o.configs.configs.items()):
            last = next_delivery_day(
                now, config.timezone, config.gate_closure_local, config.gate_closure_days_before
            ) - timedelta(days=1)
            for back in range(self.o.s.aggregator_marker_lookback_days, -1, -1):
                day = last - timedelta(days=back)
                window.add((area, day))
                if (area, day) not in self.sent:
                    out.append((area, day))
        # Days that left the lookback are never due again: forget them (bounded memory).
        self.sent &= window
        return out

    async def _intake_caught_up(self, snapshot: dict[TopicPartition, int]) -> bool:
        assert self.probe is not None
        for tp, end in snapshot.items():
            if end > 0 and (await self.probe.committed(tp) or 0) < end:
                return False
        return True

    async def _snapshot(self) -> dict[TopicPartition, int]:
        assert self.ends is not None
        # charging-plans and every direct producer's topic; topics() refreshes the metadata.
        names = direct.plan_topics(self.o.names, await self.ends.topics())
        tps = [
            TopicPartition(t, p)
            for t in names
            for p in sorted(self.ends.partitions_for_topic(t) or ())
        ]
        if not tps:
            return {}
        self.ends.assign(tps)
        return await true_end_offsets(self.ends, tps)

    async def tick(self) -> None:
        if not self.is_leader:
            self.waiting.clear()
            return
        for area, day in self.due():
            if (area, day) not in self.waiting:
                self.waiting[(area, day)] = (await self._snapshot(), time.monotonic())
            snapshot, since = self.waiting[(area, day)]
            waited = time.monotonic() - since
            if not await self._intake_caught_up(snapshot):
                if waited < self.o.s.aggregator_closure_wait_s:
                    continue
                log.warning(
                    "intake still behind %.0f s after gate closure of %s/%s: "
                    "sending the marker anyway",
                    waited,
                    area,
                    day,
                )
            await self.send(area, day)

    async def send(self, area: str, day: date) -> None:
        config = self.o.configs.get(area)
        assert config is not None
        closure = config.gate_closure_for(day)
        marker = GateClosureMarker(
            event_id=event_uuid("marker", area, day),
            occurred_at=self.o.clock.now(),
            market_area=area,
            delivery_day=day,
            gate_closure=closure,
        )
        await self.o.producer.send_and_wait(
            self.o.names.by_day,
            marker.model_dump_json().encode(),
            key=area_day_key(area, day).encode(),
            headers=[("k", topics.KIND_MARKER)],
        )
        self.sent.add((area, day))
        self.waiting.pop((area, day), None)
        log.info("gate-closure marker sent for %s/%s (closure %s)", area, day, closure.isoformat())

    async def run(self) -> None:
        self.probe = make_consumer(
            self.o.s.kafka_access(),
            group_id=self.o.names.intake_group,
            enable_auto_commit=False,
        )
        self.ends = make_consumer(self.o.s.kafka_access(), enable_auto_commit=False)
        await self.probe.start()
        await self.ends.start()
        try:
            await self.o.recovered.wait()
            while True:
                try:
                    await self.tick()
                except Exception:  # a broker hiccup must not kill the timer
                    log.exception("gate-closure timer failed; retrying")
                await asyncio.sleep(self.o.s.aggregator_tick_s)
        finally:
            await self.probe.stop()
            await self.ends.stop()
