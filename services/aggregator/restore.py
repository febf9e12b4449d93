"""Changelog recovery: rebuild the state of newly assigned partitions from the changelog.

Each partition is read from its checkpoint (checkpoint.py; the beginning when it has
none) to the end found at that moment; tombstones drop their keys as they are read, so
memory ends up holding only the live state whatever the broker kept.
"""

from __future__ import annotations

import logging
import time

from aiokafka import TopicPartition

from services.aggregator import metrics as m
from services.aggregator.checkpoint import CHECKPOINT_KEY
from services.aggregator.offsets import true_end_offsets
from services.aggregator.state import Table
from services.common.kafka import make_consumer
from services.common.kafka_access import Broker

log = logging.getLogger(__name__)


async def restore(
    bootstrap: Broker,
    changelog: str,
    partitions: list[int],
    table: Table,
    start: dict[int, int] | None = None,
) -> dict[int, int]:
    """Read the changelog partitions from ``start`` (partition -> offset; the beginning when
    absent) to their current end; return the records read per partition."""
    if not partitions:
        return {}
    start = start or {}
    t0 = time.perf_counter()
    consumer = make_consumer(
        bootstrap,
        enable_auto_commit=False,
        max_partition_fetch_bytes=16 * 1024 * 1024,
    )
    await consumer.start()
    counts = dict.fromkeys(partitions, 0)
    try:
        tps = [TopicPartition(changelog, p) for p in partitions]
        consumer.assign(tps)
        end = await true_end_offsets(consumer, tps)
        for tp in tps:
            if tp.partition in start:
                consumer.seek(tp, start[tp.partition])
            else:
                await consumer.seek_to_beginning(tp)
        for p in partitions:
            table.drop(p)  # rebuilt from scratch: the changelog is the truth
        remaining = {tp for tp in tps if end[tp] > start.get(tp.partition, 0)}
        while remaining:
            batch = await consumer.getmany(*remaining, timeout_ms=500, max_records=50_000)
            for tp, records in batch.items():
                for r in records:
                    if r.offset < end[tp] and r.key is not None:
                        counts[tp.partition] += 1
                        if r.key != CHECKPOINT_KEY:
                            table.restore(tp.partition, r.key, r.value)
            for tp in list(remaining):
                if await consumer.position(tp) >= end[tp]:
                    remaining.discard(tp)
    finally:
        await consumer.stop()
    for p, n in counts.items():
        m.RESTORED_RECORDS.labels(str(p)).set(n)
    log.info(
        "restored %d changelog records for partitions %s (from offsets %s) in %.2f s",
        sum(counts.values()),
        partitions,
        {p: start.get(p, 0) for p in partitions},
        time.perf_counter() - t0,
    )
    return counts
