"""The publisher's batch path (send_batch per partition) on the real broker: same
partitions as send(), shared batches, per-record answers, and the publish deadline."""

from __future__ import annotations

import asyncio
import time
from collections import defaultdict

import pytest
from aiokafka import AIOKafkaConsumer

from services.common.kafka import TopicSpec, ensure_topics
from services.devstack.embedded import EmbeddedBroker
from services.ingest.publisher import BATCH_PATH_MIN, Publisher

pytestmark = pytest.mark.integration


async def read_all(
    consumer: AIOKafkaConsumer, expected: int, settle_s: float = 0.5, timeout_s: float = 15.0
) -> list[tuple[int, bytes, bytes]]:
    """(partition, key, value) of every record, until `expected` arrived and settle_s more."""
    out: list[tuple[int, bytes, bytes]] = []
    deadline = time.monotonic() + timeout_s
    settle_until: float | None = None
    while time.monotonic() < (settle_until or deadline):
        for tp, records in (await consumer.getmany(timeout_ms=200)).items():
            out += [(tp.partition, r.key, r.value) for r in records if r.key and r.value]
        if len(out) >= expected and settle_until is None:
            settle_until = time.monotonic() + settle_s
    return out


def records(tag: str, keys: int, per_key: int) -> list[tuple[bytes, bytes]]:
    return [
        (f"V{k:04d}".encode(), f"{tag}-{k}-{i}".encode())
        for i in range(per_key)
        for k in range(keys)
    ]


async def test_batch_path_puts_every_key_on_the_partition_send_puts_it(
    kafka_bootstrap, topic_factory, consumer_factory
):
    topic = await topic_factory("pub", 4)
    publisher = Publisher(kafka_bootstrap, 5.0)
    await publisher.start()
    try:
        batch = records("batch", keys=60, per_key=3)  # one call: the batch path
        assert len(batch) >= BATCH_PATH_MIN
        assert await publisher.publish(topic, batch) == [None] * len(batch)
        for key, _ in batch[:60]:  # one record per call: producer.send()
            assert await publisher.publish(topic, [(key, b"single-" + key)]) == [None]
    finally:
        await publisher.stop()
    consumer = await consumer_factory(topic)
    got = await read_all(consumer, len(batch) + 60)
    assert sorted(v for _, _, v in got) == sorted(
        [v for _, v in batch] + [b"single-" + k for k, _ in batch[:60]]
    )
    partitions: dict[bytes, set[int]] = defaultdict(set)
    for partition, key, _ in got:
        partitions[key].add(partition)
    assert all(len(p) == 1 for p in partitions.values()), partitions  # both paths agree
    assert len({p for ps in partitions.values() for p in ps}) == 4  # and spread them
    order = [v for _, k, v in got if k == b"V0007" and v.startswith(b"batch")]
    assert order == [b"batch-7-0", b"batch-7-1", b"batch-7-2"]  # a call's order per key


async def test_concurrent_batch_calls_share_broker_batches(
    kafka_bootstrap, topic_factory, consumer_factory
):
    topic = await topic_factory("pub", 4)
    publisher = Publisher(kafka_bootstrap, 5.0)
    await publisher.start()
    submitted = 0
    real = publisher.producer.send_batch

    async def counting(*args, **kwargs):
        nonlocal submitted
        submitted += 1
        return await real(*args, **kwargs)

    publisher.producer.send_batch = counting  # type: ignore[method-assign]
    try:
        calls = [records(f"c{c}", keys=40, per_key=5) for c in range(16)]
        results = await asyncio.gather(*(publisher.publish(topic, r) for r in calls))
    finally:
        await publisher.stop()
    assert all(r == [None] * 200 for r in results)
    assert submitted < 16 * 4  # calls waiting for the same partition went out together
    consumer = await consumer_factory(topic)
    assert len(await read_all(consumer, 16 * 200)) == 16 * 200


async def test_batch_failure_answers_only_the_records_of_that_batch(
    kafka_bootstrap, topic_factory, consumer_factory
):
    topic = await topic_factory("pub", 4)
    publisher = Publisher(kafka_bootstrap, 5.0)
    await publisher.start()
    real = publisher.producer.send_batch

    async def refuse_partition_2(batch, topic, *, partition):
        if partition == 2:
            raise OSError("partition 2 refused")
        return await real(batch, topic, partition=partition)

    publisher.producer.send_batch = refuse_partition_2  # type: ignore[method-assign]
    try:
        batch = records("x", keys=40, per_key=2)
        results = await publisher.publish(topic, batch)
    finally:
        await publisher.stop()
    failed = {batch[i][1] for i, r in enumerate(results) if r is not None}
    assert failed and len(failed) < len(batch)
    assert all(isinstance(r, OSError) for r in results if r is not None)
    consumer = await consumer_factory(topic)
    got = await read_all(consumer, len(batch) - len(failed))
    assert {p for p, _, _ in got} == {0, 1, 3}
    assert {v for _, _, v in got} == {v for _, v in batch} - failed  # exactly the others


async def test_batch_path_fails_in_time_and_never_sends_later(tmp_path):
    """Broker gone: every record fails within the publish deadlines (timeout_s to hand it
    over, timeout_s more for the producer to expire it) and none of them appears after the
    broker is back on the same port."""
    broker = EmbeddedBroker(tmp_path / "logs")
    restarted: EmbeddedBroker | None = None
    publisher: Publisher | None = None
    consumer: AIOKafkaConsumer | None = None
    topic = "pub-down"
    try:
        bootstrap = await asyncio.to_thread(broker.start)
        await ensure_topics(bootstrap, (TopicSpec(topic),), partitions=4)
        publisher = Publisher(bootstrap, 1.0)
        await publisher.start()
        first = records("before", keys=20, per_key=2)
        assert await publisher.publish(topic, first) == [None] * len(first)

        broker.stop()
        lost = records("lost", keys=20, per_key=2)
        started = time.monotonic()
        # Two calls, so that the second waits behind the first one's batches.
        results = await asyncio.gather(*(publisher.publish(topic, lost) for _ in range(2)))
        assert time.monotonic() - started < 2 * 1.0 + 1 + 1
        assert all(r is not None for rs in results for r in rs)

        restarted = EmbeddedBroker(tmp_path / "logs", port=broker.port)
        await asyncio.to_thread(restarted.start)
        await ensure_topics(bootstrap, (TopicSpec(topic),), partitions=4)
        later = records("after", keys=20, per_key=2)
        deadline = time.monotonic() + 30
        while any(await publisher.publish(topic, later)):
            assert time.monotonic() < deadline, "publisher did not recover"
            await asyncio.sleep(0.5)
        consumer = AIOKafkaConsumer(
            topic, bootstrap_servers=bootstrap, auto_offset_reset="earliest"
        )
        await consumer.start()
        got = await read_all(consumer, len(later), settle_s=2.0)
        assert not any(v.startswith(b"lost") for _, _, v in got)
        assert {v for _, _, v in got} >= {v for _, v in later}
    finally:
        if consumer is not None:
            await consumer.stop()
        if publisher is not None:
            await publisher.stop()
        broker.stop()
        if restarted is not None:
            restarted.stop()
