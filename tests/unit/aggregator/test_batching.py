"""Batched produce: records land where producer.send would put them; metrics per take."""

from __future__ import annotations

import asyncio
from typing import Any

from aiokafka import AIOKafkaProducer
from aiokafka.partitioner import DefaultPartitioner

from services.aggregator import metrics as m
from services.aggregator.batching import Batches


class _Producer(AIOKafkaProducer):
    """A real producer's batch builder, never connected: sends complete at once."""

    def __init__(self) -> None:
        super().__init__(bootstrap_servers="127.0.0.1:9")
        self.sent_to: list[tuple[str, int, int]] = []

    async def partitions_for(self, topic: str) -> set[int]:
        return {0, 1, 2, 3}

    async def send_batch(self, batch: Any, topic: str, *, partition: int) -> Any:
        self.sent_to.append((topic, partition, batch.record_count()))
        done: asyncio.Future[object] = asyncio.get_running_loop().create_future()
        done.set_result(None)
        return done


async def test_records_land_on_the_default_partitioners_partition_and_are_counted() -> None:
    producer = _Producer()
    batches = Batches(producer)
    keys = [f"PL/2026-11-{d:02d}".encode() for d in range(1, 9)]
    before = m.REGISTRY.get_sample_value(
        "chargeflow_events_published_total", {"service": m.SERVICE, "topic": "t"}
    )
    for _ in range(3):  # the second and third time from the remembered placement
        for key in keys:
            await batches.add("t", key, b"v")
    await batches.flush()
    expected: dict[int, int] = {}
    for key in keys:
        p = int(DefaultPartitioner()(key, [0, 1, 2, 3], [0, 1, 2, 3]))
        expected[p] = expected.get(p, 0) + 3
    assert {p: n for _, p, n in producer.sent_to} == expected
    after = m.REGISTRY.get_sample_value(
        "chargeflow_events_published_total", {"service": m.SERVICE, "topic": "t"}
    )
    assert (after or 0) - (before or 0) == 3 * len(keys)
