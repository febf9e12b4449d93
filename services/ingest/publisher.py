"""Publishing to the broker with an answer we can trust: acked (acks=all) or failed.

The producer's own ``request_timeout_ms`` is the publish timeout, so a record that was not
acknowledged in time has *failed* in the producer (its batch expired) and will not be sent
later behind our back: a 503 then means "not stored" (unless the broker stored it and only
the ack was lost - the usual at-least-once ambiguity, resolved by idempotent resubmission).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Sequence

from aiokafka import AIOKafkaProducer
from aiokafka.partitioner import DefaultPartitioner
from aiokafka.producer.message_accumulator import BatchBuilder

from services.common.kafka import make_producer
from services.ingest import metrics

log = logging.getLogger(__name__)

BATCH_THRESHOLD = 16  # records per publish call from which we build producer batches ourselves
_PARTITIONER = DefaultPartitioner()
Failure = BaseException | None


class Publisher:
    def __init__(self, bootstrap: str, timeout_s: float) -> None:
        self.timeout_s = timeout_s
        timeout_ms = int(timeout_s * 1000)
        self.producer: AIOKafkaProducer = make_producer(
            bootstrap,
            request_timeout_ms=timeout_ms,
            metadata_max_age_ms=30_000,
            max_batch_size=256 * 1024,
            linger_ms=1,
        )

    async def start(self, attempts: int = 30) -> None:
        for attempt in range(1, attempts + 1):
            try:
                await self.producer.start()
                return
            except Exception as exc:  # broker not up yet: retry for a while, then fail
                if attempt == attempts:
                    raise
                log.warning("broker not reachable (%s); retrying", exc)
                await asyncio.sleep(1)

    async def stop(self) -> None:
        await self.producer.stop()

    async def publish(
        self, topic: str, records: Sequence[tuple[bytes, bytes]]
    ) -> list[BaseException | None]:
        """Send (key, value) records; per record None when acked, else the error."""
        start = time.perf_counter()
        results: list[Failure] = [None] * len(records)
        if len(records) >= BATCH_THRESHOLD:
            pending = await self._enqueue_batches(topic, records, results)
        else:
            pending = await self._enqueue_each(topic, records, results)
        if pending:
            # The producer fails expired batches itself after timeout_s; the margin covers
            # a request that was in flight when it expired. asyncio.wait cancels nothing.
            done, not_done = await asyncio.wait(pending, timeout=self.timeout_s * 2 + 1)
            for f in done:
                if (error := f.exception()) is not None:
                    for i in pending[f]:
                        results[i] = error
            for f in not_done:
                for i in pending[f]:
                    results[i] = TimeoutError("no broker acknowledgement in time")
        failed = [r for r in results if r is not None]
        for failure in failed:
            metrics.BROKER_ERRORS.labels(type(failure).__name__).inc()
        if failed:
            log.warning(
                "%d of %d records not acknowledged: %r", len(failed), len(records), failed[0]
            )
        acked = len(records) - len(failed)
        if acked:
            metrics.EVENTS_PUBLISHED.labels(topic).inc(acked)
        metrics.PUBLISH_LATENCY.observe(time.perf_counter() - start)
        return results

    async def _enqueue_each(
        self, topic: str, records: Sequence[tuple[bytes, bytes]], results: list[Failure]
    ) -> dict[asyncio.Future[object], list[int]]:
        pending: dict[asyncio.Future[object], list[int]] = {}
        for i, (key, value) in enumerate(records):
            try:
                # send() only enqueues (or waits for metadata/buffer space); bound that too.
                async with asyncio.timeout(self.timeout_s):
                    pending[await self.producer.send(topic, value, key=key)] = [i]
            except Exception as exc:
                results[i] = exc
        return pending

    async def _enqueue_batches(
        self, topic: str, records: Sequence[tuple[bytes, bytes]], results: list[Failure]
    ) -> dict[asyncio.Future[object], list[int]]:
        """One producer batch per partition (and per max_batch_size) instead of one future
        per record: aiokafka's per-record send() costs ~40 µs of metadata lookups alone.
        Partitions are chosen by the producer's own key partitioner, so a vehicle's plans
        land where a plain send() would put them."""
        pending: dict[asyncio.Future[object], list[int]] = {}
        try:
            async with asyncio.timeout(self.timeout_s):
                partitions = sorted(await self.producer.partitions_for(topic))
        except Exception as exc:
            results[:] = [exc] * len(records)
            return pending
        groups: dict[int, list[int]] = {}
        for i, (key, _) in enumerate(records):
            groups.setdefault(_PARTITIONER(key, partitions, partitions), []).append(i)
        for partition, indexes in groups.items():
            builder = self.producer.create_batch()
            members: list[int] = []
            for i in indexes:
                key, value = records[i]
                if builder.append(key=key, value=value, timestamp=None) is None:
                    if members:
                        await self._send_batch(topic, partition, builder, members, pending, results)
                    builder, members = self.producer.create_batch(), []
                    if builder.append(key=key, value=value, timestamp=None) is None:
                        results[i] = ValueError("record larger than the producer batch size")
                        continue
                members.append(i)
            if members:
                await self._send_batch(topic, partition, builder, members, pending, results)
        return pending

    async def _send_batch(
        self,
        topic: str,
        partition: int,
        builder: BatchBuilder,
        members: list[int],
        pending: dict[asyncio.Future[object], list[int]],
        results: list[Failure],
    ) -> None:
        try:
            async with asyncio.timeout(self.timeout_s):
                future = await self.producer.send_batch(builder, topic, partition=partition)
            pending[future] = members
        except Exception as exc:
            for i in members:
                results[i] = exc

    async def ready(self, timeout_s: float = 2.0) -> bool:
        """True when the broker answers a metadata request."""
        try:
            await asyncio.wait_for(self.producer.client.fetch_all_metadata(), timeout_s)
            return True
        except Exception:
            return False
