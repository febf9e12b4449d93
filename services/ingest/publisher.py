"""Publishing to the broker with an answer we can trust: acked (acks=all) or failed.

The producer's own ``request_timeout_ms`` is the publish timeout, so a record that was not
acknowledged in time has *failed* in the producer (its batch expired) and will not be sent
later behind our back: a 503 then means "not stored" (unless the broker stored it and only
the ack was lost - the usual at-least-once ambiguity, resolved by idempotent resubmission).

Two ways in, same answers:
- a few records (a single plan, a cancellation): ``producer.send()`` per record, which lets
  the producer's accumulator merge them with other requests' records;
- many records (a batch request, ``BATCH_PATH_MIN`` or more): our own partitioning (the
  producer's DefaultPartitioner: murmur2 of the key, so a vehicle's plans land on the same
  partition either way) and one ``create_batch()``/``send_batch()`` per partition and broker
  round, shared by every batch request waiting for that partition (:class:`_PartitionQueue`).
  ``send()`` cost ~11 µs of Python per record, this ~2 µs (bench/produce_ceiling.py).
  A batch is acknowledged or fails as a whole: each of its records gets that answer.
Deadlines are the same on both: a record not handed to the producer within ``timeout_s`` of
the publish call fails with TimeoutError and is never sent; once handed over, the producer
expires it ``timeout_s`` later at the latest.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import deque
from collections.abc import Sequence

from aiokafka import AIOKafkaProducer
from aiokafka.partitioner import murmur2

from services.common.kafka import make_producer
from services.common.kafka_access import Broker
from services.ingest import metrics

log = logging.getLogger(__name__)

BATCH_PATH_MIN = 16  # records per publish call from which the batch path is taken
Record = tuple[bytes, bytes]
Result = BaseException | None


def partition_for(key: bytes, partitions: Sequence[int]) -> int:
    """aiokafka's DefaultPartitioner for a keyed record (the Java client's murmur2 rule)."""
    return partitions[(murmur2(key) & 0x7FFFFFFF) % len(partitions)]


class _Call:
    """One publish call on the batch path: a result per record, settled batch by batch.
    A record never settled (no answer from the producer in time) stays a TimeoutError."""

    __slots__ = ("abandoned", "deadline", "done", "remaining", "results")

    def __init__(self, n: int, deadline: float, done: asyncio.Future[None]) -> None:
        self.results: list[Result] = [TimeoutError("no broker acknowledgement in time")] * n
        self.remaining = n
        self.deadline = deadline  # loop time by which every record must be handed over
        self.done = done
        self.abandoned = False  # the caller has its answer: later settlements change nothing

    def settle(self, indexes: Sequence[int], error: Result) -> None:
        if self.abandoned:
            return
        results = self.results
        for i in indexes:
            results[i] = error
        self.remaining -= len(indexes)
        if self.remaining <= 0 and not self.done.done():
            self.done.set_result(None)


class _Waiting:
    """One call's records for one partition; ``start``: how many are handed over already."""

    __slots__ = ("call", "indexes", "records", "start")

    def __init__(self, call: _Call, indexes: list[int], records: list[Record]) -> None:
        self.call = call
        self.indexes = indexes
        self.records = records
        self.start = 0


class _PartitionQueue:
    """The records of every waiting publish call for one partition, and the one task that
    hands them to the producer: one batch per broker round, holding what queued meanwhile.

    aiokafka keeps a single not-yet-sent batch per partition and makes ``send_batch`` wait
    until the previous one is on its way; while this task waits there, newer calls queue up
    here and go out together in the next batch, as records of ``send()`` calls would.
    """

    def __init__(self, producer: AIOKafkaProducer, topic: str, partition: int) -> None:
        self.producer = producer
        self.topic = topic
        self.partition = partition
        self.queue: deque[_Waiting] = deque()
        self.task: asyncio.Task[None] | None = None

    def put(self, call: _Call, indexes: list[int], records: list[Record]) -> None:
        self.queue.append(_Waiting(call, indexes, records))
        if self.task is None or self.task.done():
            self.task = asyncio.get_running_loop().create_task(self._drain())

    async def _drain(self) -> None:
        loop = asyncio.get_running_loop()
        queue = self.queue
        while queue:
            batch = self.producer.create_batch()
            taken: list[tuple[_Call, list[int]]] = []
            deadline = None
            now = loop.time()
            while queue:
                w = queue[0]
                call, indexes, records, start = w.call, w.indexes, w.records, w.start
                if call.deadline <= now:  # not handed over in time: fail, never send
                    queue.popleft()
                    call.settle(indexes[start:], TimeoutError("not enqueued in time"))
                    continue
                end = start
                for key, value in records[start:]:
                    if batch.append(key=key, value=value, timestamp=None) is None:
                        break  # batch full
                    end += 1
                if end > start:
                    taken.append((call, indexes[start:end]))
                    deadline = call.deadline if deadline is None else min(deadline, call.deadline)
                if end < len(records):
                    w.start = end  # the rest goes into the next batch
                    break
                queue.popleft()
            if not taken:
                continue
            batch.close()  # no send() record may join it
            assert deadline is not None
            try:
                # Handed over before the earliest deadline of its records, or not at all
                # (cancelling send_batch before it enqueues the batch drops the batch).
                async with asyncio.timeout_at(deadline):
                    acked = await self.producer.send_batch(
                        batch, self.topic, partition=self.partition
                    )
            except BaseException as exc:
                error = exc if isinstance(exc, Exception) else RuntimeError("publisher stopped")
                for call, indexes in taken:
                    call.settle(indexes, error)
                if not isinstance(exc, Exception):
                    self._fail_all(error)
                    raise
                continue
            acked.add_done_callback(lambda f, taken=taken: _settle_all(f, taken))

    def _fail_all(self, error: BaseException) -> None:
        while self.queue:
            entry = self.queue.popleft()
            entry.call.settle(entry.indexes[entry.start :], error)


def _settle_all(acked: asyncio.Future[object], taken: list[tuple[_Call, list[int]]]) -> None:
    if acked.cancelled():
        error: Result = RuntimeError("batch cancelled")
    else:
        error = acked.exception()
    for call, indexes in taken:
        call.settle(indexes, error)


class Publisher:
    def __init__(self, bootstrap: Broker, timeout_s: float, linger_ms: int = 1) -> None:
        self.timeout_s = timeout_s
        timeout_ms = int(timeout_s * 1000)
        self.producer: AIOKafkaProducer = make_producer(
            bootstrap,
            request_timeout_ms=timeout_ms,
            metadata_max_age_ms=30_000,
            max_batch_size=256 * 1024,
            linger_ms=linger_ms,
        )
        self._queues: dict[tuple[str, int], _PartitionQueue] = {}
        self._partition_cache: dict[bytes, int] = {}
        self._partition_list: list[int] = []

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
        for queue in self._queues.values():
            if queue.task is not None:
                queue.task.cancel()
        await self.producer.stop()

    async def publish(
        self, topic: str, records: Sequence[tuple[bytes, bytes]]
    ) -> list[BaseException | None]:
        """Send (key, value) records; per record None when acked, else the error."""
        start = time.perf_counter()
        if len(records) >= BATCH_PATH_MIN:
            results = await self._publish_batches(topic, records)
        else:
            results = await self._send_each(topic, records)
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

    async def _publish_batches(self, topic: str, records: Sequence[Record]) -> list[Result]:
        loop = asyncio.get_running_loop()
        call = _Call(len(records), loop.time() + self.timeout_s, loop.create_future())
        try:
            async with asyncio.timeout(self.timeout_s):
                partitions = sorted(await self.producer.partitions_for(topic))
        except Exception as exc:  # no metadata in time: nothing was sent
            return [exc] * len(records)
        if partitions != self._partition_list:  # the topic grew: keys move, as in aiokafka
            self._partition_list = partitions
            self._partition_cache = {}
        cache = self._partition_cache
        if len(cache) > 200_000:  # keys come from clients: keep the cache bounded
            cache.clear()
        groups: dict[int, tuple[list[int], list[Record]]] = {}
        for i, record in enumerate(records):
            key = record[0]
            p = cache.get(key)
            if p is None:
                p = cache[key] = partition_for(key, partitions)
            group = groups.get(p)
            if group is None:
                group = groups[p] = ([], [])
            group[0].append(i)
            group[1].append(record)
        for p, (indexes, recs) in groups.items():
            queue = self._queues.get((topic, p))
            if queue is None:
                queue = self._queues[(topic, p)] = _PartitionQueue(self.producer, topic, p)
            queue.put(call, indexes, recs)
        # The producer fails expired batches itself after timeout_s; the margin covers a
        # request that was in flight when it expired. asyncio.wait cancels nothing.
        await asyncio.wait([call.done], timeout=self.timeout_s * 2 + 1)
        call.abandoned = True
        return call.results

    async def _send_each(self, topic: str, records: Sequence[Record]) -> list[Result]:
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
        return results

    async def ready(self, timeout_s: float = 2.0) -> bool:
        """True when the broker answers a metadata request."""
        try:
            await asyncio.wait_for(self.producer.client.fetch_all_metadata(), timeout_s)
            return True
        except Exception:
            return False
