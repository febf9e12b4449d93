"""Restore checkpoints: where a partition's restore may start reading its changelog.

The embedded Tansu broker (0.6.0, memory storage) does not compact a compacted topic and
does not implement DeleteRecords (measured, docs/aggregator.md): its changelog keeps every
record ever written, tombstones included, so a restore from the beginning reads all of
history and its time grows for ever. So the owner checkpoints a partition itself: once the
records written since the last checkpoint clearly outnumber the live ones, it writes a
checkpoint marker (key :data:`CHECKPOINT_KEY`), then every live entry again (what
compaction would have kept), and once all of that is acknowledged it stores the marker's
offset as the partition's checkpoint. Every record before the marker is superseded by the
copy after it, so a restore starts at the marker and reads at most the live entries plus
what was written since (amortised: the copy costs one write per live entry, and happens
only after at least as many other writes).

The checkpoint is the committed offset of the changelog partition in a consumer group of
its own (``<group>-changelog``): the broker keeps it, nothing else has to. Without one (a
new partition, or Apache Kafka expired the empty group's offsets after
``offsets.retention.minutes``) the restore starts at the beginning: slower, never wrong.
On Apache Kafka compaction works as well; the two do not interfere (the copy rewrites the
same values under the same keys).
"""

from __future__ import annotations

import logging

from aiokafka import AIOKafkaConsumer, TopicPartition

from services.common.kafka import make_consumer
from services.common.kafka_access import Broker

log = logging.getLogger(__name__)

CHECKPOINT_KEY = b"~checkpoint"  # not an {area}/{day}/... key: the restore skips it


async def read_checkpoints(
    bootstrap: Broker, group: str, changelog: str, partitions: list[int]
) -> dict[int, int]:
    """partition -> offset its restore may start at (absent: from the beginning)."""
    consumer = make_consumer(bootstrap, group_id=group, enable_auto_commit=False)
    await consumer.start()
    try:
        out = {}
        for p in partitions:
            offset = await consumer.committed(TopicPartition(changelog, p))
            if offset is not None and offset > 0:
                out[p] = offset
        return out
    finally:
        await consumer.stop()


class CheckpointWriter:
    """Stores checkpoints: commits in the checkpoint group, never fetching anything."""

    def __init__(self, bootstrap: Broker, group: str, changelog: str) -> None:
        self.bootstrap = bootstrap
        self.group = group
        self.changelog = changelog
        self.consumer: AIOKafkaConsumer | None = None

    async def start(self) -> None:
        self.consumer = make_consumer(self.bootstrap, group_id=self.group, enable_auto_commit=False)
        await self.consumer.start()

    async def stop(self) -> None:
        if self.consumer is not None:
            await self.consumer.stop()

    async def store(self, partition: int, offset: int) -> None:
        assert self.consumer is not None, "start() first"
        tp = TopicPartition(self.changelog, partition)
        # A commit needs the partition assigned; paused at once (same tick), nothing is read.
        self.consumer.assign([tp])
        self.consumer.pause(tp)
        await self.consumer.commit({tp: offset})
        log.info("changelog checkpoint of partition %d at offset %d", partition, offset)
