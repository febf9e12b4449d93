"""The latest ``AuctionConfig`` per market area, read from the compacted ``auction-config``.

Every worker reads the whole topic (no consumer group) and keeps the last valid value per
area. An invalid record is logged and skipped: the previous config stays in force.
"""

from __future__ import annotations

import asyncio
import logging

from aiokafka import AIOKafkaConsumer, TopicPartition
from pydantic import ValidationError

from schemas.config import AuctionConfig
from services.aggregator.offsets import true_end_offsets
from services.common.kafka import make_consumer
from services.common.kafka_access import Broker

log = logging.getLogger(__name__)


class ConfigView:
    def __init__(self, bootstrap: Broker, topic: str) -> None:
        self.bootstrap = bootstrap
        self.topic = topic
        self.configs: dict[str, AuctionConfig] = {}
        self.ready = asyncio.Event()  # set once the topic was read to its end at start
        self.version = 0  # bumped on every accepted config
        self._consumer: AIOKafkaConsumer | None = None
        # A config carries the whole fleet; large fleets make it a large record.
        self.max_fetch_bytes = 64 * 1024 * 1024

    def get(self, area: str) -> AuctionConfig | None:
        return self.configs.get(area)

    def apply(self, value: bytes | None) -> None:
        if value is None:
            return
        try:
            config = AuctionConfig.model_validate_json(value)
        except ValidationError as exc:
            log.error("invalid auction-config record skipped: %s", exc)
            return
        self.configs[config.market_area] = config
        self.version += 1
        log.info("auction-config for %s in force (event %s)", config.market_area, config.event_id)

    async def run(self) -> None:
        consumer = make_consumer(
            self.bootstrap,
            enable_auto_commit=False,
            max_partition_fetch_bytes=self.max_fetch_bytes,
            fetch_max_bytes=self.max_fetch_bytes,
        )
        await consumer.start()
        self._consumer = consumer
        try:
            parts = consumer.partitions_for_topic(self.topic)
            while not parts:
                await consumer._client.force_metadata_update()
                parts = consumer.partitions_for_topic(self.topic)
                if not parts:
                    await asyncio.sleep(0.2)
            tps = [TopicPartition(self.topic, p) for p in sorted(parts)]
            consumer.assign(tps)
            end = await true_end_offsets(consumer, tps)
            await consumer.seek_to_beginning(*tps)
            while True:
                batch = await consumer.getmany(timeout_ms=200)
                for records in batch.values():
                    for r in records:
                        self.apply(r.value)
                if not self.ready.is_set():
                    positions = [await consumer.position(tp) for tp in tps]
                    if all(pos >= end[tp] for pos, tp in zip(positions, tps, strict=True)):
                        self.ready.set()
        finally:
            await consumer.stop()
