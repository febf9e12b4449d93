"""How many plan records per second can a Python producer get into the embedded broker?

The ceiling for the ingest gateway's batch path: no HTTP, no parsing, no validation, only
aiokafka (acks=all, no idempotence: services.common.kafka.make_producer) against the
embedded Tansu broker (memory storage), with PlanSubmitted values encoded as the gateway
encodes them. Several concurrent "requests" of --chunk records each, like the batch load of
bench/ingest.py (8 clients x 500 plans):

- ``send``: ``await producer.send()`` per record, then wait for every future (what
  services/ingest/publisher.py did);
- ``send_batch``: records grouped per partition (murmur2 of the key, as aiokafka's
  DefaultPartitioner), one ``create_batch()`` per partition and request, ``append`` each
  record, ``send_batch``, wait for the batch futures;
- ``publisher``: services.ingest.publisher.Publisher.publish (its batch path: like
  send_batch, but the concurrent requests' records of one partition share one batch per
  broker round), with the gateway's settings (256 kB batches, 5 s timeout).

For each mode: records/s (median of --repeat runs of --seconds) and the CPU seconds the
Python process and the broker process used per record.

    .venv/bin/python bench/produce_ceiling.py [--seconds 5] [--repeat 3] [--chunk 500]
        [--concurrency 8] [--partitions 4]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import tempfile
import time
import uuid
from collections import defaultdict
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path

import psutil
import uvloop
from aiokafka import AIOKafkaProducer
from aiokafka.partitioner import DefaultPartitioner

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))  # bench/ingest.py: the same plans

from ingest import plan_template

from schemas.parsing import parse_plan
from services.common.kafka import TopicSpec, ensure_topics, make_producer
from services.devstack.embedded import EmbeddedBroker
from services.ingest.outcomes import encoder
from services.ingest.publisher import Publisher, partition_for

TOPIC = "ceiling-plans"
Record = tuple[bytes, bytes]


def plan_records(n: int) -> list[Record]:
    """n (key, PlanSubmitted value) pairs: bench/ingest.py's plans (2 stops, 2 bid steps),
    over 2 000 vehicles."""
    encode = encoder(datetime(2026, 11, 25, 8, tzinfo=UTC))
    out = []
    for i in range(n):
        raw = plan_template(i, f"V{i % 2000 + 1:05d}").replace(
            b"@@PID@@", str(uuid.uuid4()).encode()
        )
        plan, errors = parse_plan(raw)
        assert plan is not None, errors
        out.append((plan.vehicle_id.encode(), encode(plan)))
    return out


async def mode_send(producer: AIOKafkaProducer, records: list[Record]) -> None:
    futures = [await producer.send(TOPIC, value, key=key) for key, value in records]
    await asyncio.gather(*futures)


def make_mode_send_batch(partitions: dict[bytes, int]) -> Callable[..., Awaitable[None]]:
    # One lock per partition: aiokafka's add_batch lets concurrent callers of one partition
    # race for the single queue slot and shortens each loser's timeout by the *cumulative*
    # time waited, so without the lock 8 concurrent requests got KafkaTimeoutError 0.4 s
    # into the run (timeout 30 s). The lock queues them fairly instead.
    locks: dict[int, asyncio.Lock] = defaultdict(asyncio.Lock)

    async def mode_send_batch(producer: AIOKafkaProducer, records: list[Record]) -> None:
        by_partition: dict[int, list[Record]] = defaultdict(list)
        for rec in records:
            by_partition[partitions[rec[0]]].append(rec)
        futures = []
        for p, recs in by_partition.items():
            batch = producer.create_batch()
            for key, value in recs:
                if batch.append(key=key, value=value, timestamp=None) is None:
                    raise RuntimeError("batch full; raise max_batch_size")
            async with locks[p]:
                futures.append(await producer.send_batch(batch, TOPIC, partition=p))
        await asyncio.gather(*futures)

    return mode_send_batch


async def publisher_mode(producer: AIOKafkaProducer, records: list[Record]) -> None:
    publisher = PUBLISHERS[producer]
    results = await publisher.publish(TOPIC, records)
    assert not any(results), results[:3]


PUBLISHERS: dict[AIOKafkaProducer, Publisher] = {}


def cpu_of(proc: psutil.Process) -> float:
    t = proc.cpu_times()
    return t.user + t.system


async def measure(
    bootstrap: str,
    name: str,
    fn_factory: Callable[[AIOKafkaProducer], Callable[..., Awaitable[None]]],
    records: list[Record],
    args: argparse.Namespace,
    broker: psutil.Process,
) -> None:
    publisher = Publisher(bootstrap, 5.0) if name == "publisher" else None
    producer = (
        publisher.producer
        if publisher
        else make_producer(
            bootstrap, request_timeout_ms=30_000, max_batch_size=4 * 1024 * 1024, linger_ms=1
        )
    )
    await producer.start()
    if publisher:
        PUBLISHERS[producer] = publisher
    me = psutil.Process()
    try:
        fn = fn_factory(producer)
        cursor = [0]

        def chunk() -> list[Record]:
            i = cursor[0] = (cursor[0] + args.chunk) % (len(records) - args.chunk)
            return records[i : i + args.chunk]

        async def run(seconds: float) -> tuple[float, float, float]:
            count = [0]
            stop_at = time.monotonic() + seconds

            async def client() -> None:
                while time.monotonic() < stop_at:
                    await fn(producer, chunk())
                    count[0] += args.chunk

            c0, b0, t0 = cpu_of(me), cpu_of(broker), time.monotonic()
            await asyncio.gather(*(client() for _ in range(args.concurrency)))
            wall = time.monotonic() - t0
            n = count[0]
            return n / wall, (cpu_of(me) - c0) / n * 1e6, (cpu_of(broker) - b0) / n * 1e6

        await run(1.0)  # warm-up
        runs = [await run(args.seconds) for _ in range(args.repeat)]
    finally:
        await (publisher.stop() if publisher else producer.stop())
    rate = statistics.median(r[0] for r in runs)
    py = statistics.median(r[1] for r in runs)
    br = statistics.median(r[2] for r in runs)
    print(
        f"{name:18} records/s {rate:8.0f} {[round(r[0]) for r in runs]!s:>26}  "
        f"CPU per record: python {py:5.1f} µs, broker {br:5.1f} µs  "
        f"(cores: python {py * rate / 1e6:.2f}, broker {br * rate / 1e6:.2f})"
    )


async def main_async(args: argparse.Namespace, bootstrap: str, broker_pid: int) -> None:
    await ensure_topics(bootstrap, (TopicSpec(TOPIC),), partitions=args.partitions)
    records = plan_records(20_000)
    sizes = [len(v) for _, v in records]
    parts = {k: partition_for(k, range(args.partitions)) for k, _ in records}
    # Same partition as the producer's own partitioner, for every key:
    dp = DefaultPartitioner()
    every = list(range(args.partitions))
    assert all(dp(k, every, every) == p for k, p in parts.items())
    spread = [sum(1 for k, _ in records if parts[k] == p) for p in every]
    print(
        f"setup: {os.cpu_count()} CPUs (shared); Tansu broker pid {broker_pid} (memory storage); "
        f"topic {TOPIC} with {args.partitions} partitions (records per partition {spread}); "
        f"acks=all, no idempotence, linger 1 ms; values {min(sizes)}-{max(sizes)} B "
        f"(PlanSubmitted as the gateway encodes it); {args.concurrency} concurrent requests "
        f"x {args.chunk} records; {args.repeat} runs x {args.seconds:g} s"
    )
    print(f"load average (1/5/15 min) before: {os.getloadavg()}")
    broker = psutil.Process(broker_pid)
    modes: list[tuple[str, Callable[[AIOKafkaProducer], Callable[..., Awaitable[None]]]]] = [
        ("send", lambda _p: mode_send),
        ("send_batch", lambda _p: make_mode_send_batch(parts)),
        ("publisher", lambda _p: publisher_mode),
    ]
    for name, factory in modes:
        if args.mode and name != args.mode:
            continue
        await measure(bootstrap, name, factory, records, args, broker)
    print(f"load average (1/5/15 min) after: {os.getloadavg()}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--seconds", type=float, default=5.0)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--chunk", type=int, default=500)
    ap.add_argument("--concurrency", type=int, default=8)
    ap.add_argument("--partitions", type=int, default=4)
    ap.add_argument("--mode", choices=["send", "send_batch", "publisher"])
    args = ap.parse_args()
    uvloop.install()
    with tempfile.TemporaryDirectory() as tmp:
        broker = EmbeddedBroker(Path(tmp))
        bootstrap = broker.start()
        try:
            assert broker.pid is not None
            asyncio.run(main_async(args, bootstrap, broker.pid))
        finally:
            broker.stop()


if __name__ == "__main__":
    main()
