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

from services.common.kafka import make_producer
from services.ingest import metrics

log = logging.getLogger(__name__)


class Publisher:
    def __init__(self, bootstrap: str, timeout_s: float, linger_ms: int = 1) -> None:
        self.timeout_s = timeout_s
        timeout_ms = int(timeout_s * 1000)
        self.producer: AIOKafkaProducer = make_producer(
            bootstrap,
            request_timeout_ms=timeout_ms,
            metadata_max_age_ms=30_000,
            max_batch_size=256 * 1024,
            linger_ms=linger_ms,
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
        results: list[BaseException | None] = [None] * len(records)
        futures: list[asyncio.Future[object] | None] = [None] * len(records)
        sent = 0
        try:
            # send() only enqueues (or waits for metadata/buffer space); bound that too, with
            # one deadline for the whole call (a timer per record was ~15% of publish()).
            async with asyncio.timeout(self.timeout_s):
                for i, (key, value) in enumerate(records):
                    sent = i + 1
                    try:
                        futures[i] = await self.producer.send(topic, value, key=key)
                    except Exception as send_error:
                        results[i] = send_error
        except TimeoutError as timeout:  # record sent-1 and the rest were never enqueued
            for i in range(sent - 1, len(records)):
                results[i] = timeout
        pending = {f: i for i, f in enumerate(futures) if f is not None}
        if pending:
            # The producer fails expired batches itself after timeout_s; the margin covers
            # a request that was in flight when it expired. asyncio.wait cancels nothing.
            _, not_done = await asyncio.wait(pending, timeout=self.timeout_s * 2 + 1)
            for f in not_done:
                results[pending[f]] = TimeoutError("no broker acknowledgement in time")
        for f, i in pending.items():
            if f.done() and (error := f.exception()) is not None:
                results[i] = error
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

    async def ready(self, timeout_s: float = 2.0) -> bool:
        """True when the broker answers a metadata request."""
        try:
            await asyncio.wait_for(self.producer.client.fetch_all_metadata(), timeout_s)
            return True
        except Exception:
            return False
