"""A topic read from its beginning and followed, each value handed to a callback.

For small topics whose latest value per key is the state (``auction-config``, compacted)
or whose recent records are (``auction-results``: one summary per clearing run). No
consumer group: every process reads everything itself, so it needs only Read on the topic.
``ready`` is set once the records that were there at start have been read; a missing topic
is waited for. An apply callback that raises is logged and the record skipped.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable

from aiokafka import AIOKafkaConsumer, TopicPartition

from services.common.kafka import make_consumer
from services.common.kafka_access import Broker

log = logging.getLogger(__name__)

Apply = Callable[[bytes | None], None]


class TopicView:
    def __init__(
        self, bootstrap: Broker, topic: str, apply: Apply, max_fetch_bytes: int = 64 * 1024 * 1024
    ) -> None:
        self.bootstrap = bootstrap
        self.topic = topic
        self._apply = apply
        self.max_fetch_bytes = max_fetch_bytes  # a config carries the whole fleet
        self.ready = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    async def start(self, wait_s: float) -> bool:
        """Start following; wait up to ``wait_s`` for the records already there. False when
        they were not all read in time (the view keeps reading in the background)."""
        self._task = asyncio.create_task(self._run_forever(), name=f"view {self.topic}")
        try:
            await asyncio.wait_for(self.ready.wait(), wait_s)
        except TimeoutError:
            log.warning("%s not read to its end within %.0f s: going on", self.topic, wait_s)
            return False
        return True

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def _run_forever(self) -> None:
        while True:
            try:
                await self._run()
            except asyncio.CancelledError:
                raise
            except Exception:  # a broker hiccup: read again from the start (idempotent)
                log.exception("reading %s failed; again in 2 s", self.topic)
                await asyncio.sleep(2)

    async def _run(self) -> None:
        consumer = make_consumer(
            self.bootstrap,
            enable_auto_commit=False,
            auto_offset_reset="earliest",
            max_partition_fetch_bytes=self.max_fetch_bytes,
            fetch_max_bytes=self.max_fetch_bytes,
        )
        await consumer.start()
        try:
            tps = await self._partitions(consumer)
            consumer.assign(tps)
            end = await consumer.end_offsets(tps)
            await consumer.seek_to_beginning(*tps)
            while True:
                batch = await consumer.getmany(timeout_ms=500)
                for records in batch.values():
                    for record in records:
                        self._take(record.value)
                if not self.ready.is_set():
                    # Tansu may report the last batch's base offset + 1 as the end: having
                    # reached it, the one fetch above has read that whole batch too.
                    positions = [await consumer.position(tp) for tp in tps]
                    if all(p >= end[tp] for p, tp in zip(positions, tps, strict=True)):
                        self.ready.set()
        finally:
            await consumer.stop()

    async def _partitions(self, consumer: AIOKafkaConsumer) -> list[TopicPartition]:
        while True:
            await consumer._client.force_metadata_update()
            parts = consumer.partitions_for_topic(self.topic)
            if parts:
                return [TopicPartition(self.topic, p) for p in sorted(parts)]
            await asyncio.sleep(0.5)

    def _take(self, value: bytes | None) -> None:
        try:
            self._apply(value)
        except Exception:
            log.exception("record of %s skipped", self.topic)
