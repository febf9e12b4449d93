"""End offsets that are right on Tansu.

Measured: Tansu answers ListOffsets(latest) with the *base offset of the last record batch
+ 1*, not the offset after its last record; with batches of many records that is too low.
So the true end is found by fetching from ``end - 1``: the broker returns that whole last
batch, and its last record's offset + 1 is the end. On Apache Kafka both agree.
"""

from __future__ import annotations

from aiokafka import AIOKafkaConsumer, TopicPartition


async def true_end_offsets(
    consumer: AIOKafkaConsumer, tps: list[TopicPartition]
) -> dict[TopicPartition, int]:
    """End offsets of ``tps``; the consumer must have them assigned. Moves its positions."""
    reported = await consumer.end_offsets(tps)
    out: dict[TopicPartition, int] = {}
    for tp in tps:
        end = reported[tp]
        if end <= 0:
            out[tp] = 0
            continue
        consumer.seek(tp, end - 1)
        last = end - 1
        # One fetch returns the whole last batch (and anything appended since).
        batch = await consumer.getmany(tp, timeout_ms=1000)
        for record in batch.get(tp, []):
            last = max(last, record.offset)
        out[tp] = last + 1
    return out
