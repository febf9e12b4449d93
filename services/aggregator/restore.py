"""Changelog recovery: rebuild the state of newly assigned partitions from the changelog."""

from __future__ import annotations

import logging
import time

from aiokafka import TopicPartition

from services.aggregator.offsets import true_end_offsets
from services.aggregator.state import Table
from services.common.kafka import make_consumer
from services.common.kafka_access import Broker

log = logging.getLogger(__name__)


async def restore(bootstrap: Broker, changelog: str, partitions: list[int], table: Table) -> int:
    """Read the changelog partitions from the beginning to their current end; return count."""
    if not partitions:
        return 0
    t0 = time.perf_counter()
    consumer = make_consumer(
        bootstrap,
        enable_auto_commit=False,
        max_partition_fetch_bytes=16 * 1024 * 1024,
    )
    await consumer.start()
    count = 0
    try:
        tps = [TopicPartition(changelog, p) for p in partitions]
        consumer.assign(tps)
        end = await true_end_offsets(consumer, tps)
        await consumer.seek_to_beginning(*tps)
        for p in partitions:
            table.drop(p)  # rebuilt from scratch: the changelog is the truth
        remaining = {tp for tp in tps if end[tp] > 0}
        while remaining:
            batch = await consumer.getmany(*remaining, timeout_ms=500, max_records=50_000)
            for tp, records in batch.items():
                for r in records:
                    if r.offset < end[tp] and r.key is not None:
                        table.restore(tp.partition, r.key, r.value)
                        count += 1
            for tp in list(remaining):
                if await consumer.position(tp) >= end[tp]:
                    remaining.discard(tp)
    finally:
        await consumer.stop()
    log.info(
        "restored %d changelog records for partitions %s in %.2f s",
        count,
        partitions,
        time.perf_counter() - t0,
    )
    return count
