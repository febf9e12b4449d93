"""Benchmark of the aggregator worker on the embedded (Tansu) broker.

    .venv/bin/python bench/aggregator.py                 # 100 000 plans, 3 ingest rounds
    .venv/bin/python bench/aggregator.py --plans 20000   # smaller

Measures, in one run on the same broker and the same topics:
1. ingest: plans/s from `charging-plans` into the worker's state table (intake: parse +
   validate + re-key; owner: state + changelog; committed), against a raw aiokafka
   consumer that only reads the same records (baseline), as a ratio of medians;
2. gate closure -> every decision published (acknowledged), for all plans of the day:
   marker, phase 1 (validate again + solve + bid), simulated market, phase 2 + decisions.
Plans come from bench/auction_gen.py (a realistic city district; seeded). The worker and
the market adapter run in this process (one event loop, solves in a thread); the clock is
fixed and moved past the gate closure. A script, not a test: it prints figures.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import platform
import statistics
import sys
import time
import uuid
from datetime import timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "bench")]

import orjson  # noqa: E402
from aiokafka import AIOKafkaConsumer, TopicPartition  # noqa: E402

from schemas.config import AuctionConfig  # noqa: E402
from services.aggregator import metrics  # noqa: E402
from services.aggregator.settings import Settings  # noqa: E402
from services.aggregator.topics import OWN_TOPICS, Names  # noqa: E402
from services.aggregator.worker import Worker  # noqa: E402
from services.common.clock import Clock  # noqa: E402
from services.common.kafka import ensure_topics, make_producer  # noqa: E402
from services.devstack.embedded import EmbeddedBroker  # noqa: E402
from services.market.service import MarketService  # noqa: E402
from services.market.settings import Settings as MarketSettings  # noqa: E402

BIG = 64 * 1024 * 1024  # the config of a 100 000-vehicle fleet is ~15 MB of JSON


def build(n: int) -> tuple[AuctionConfig, list[bytes], list[str]]:
    from auction_gen import DAY, generate

    inst = generate(n)
    config = AuctionConfig.model_validate(
        {
            "market_area": inst.market_area,
            "timezone": inst.timezone,
            "nodes": [x.model_dump() for x in inst.nodes],
            "charging_points": [x.model_dump() for x in inst.charging_points],
            "vehicles": [x.model_dump() for x in inst.vehicles],
            "price_forecast": {DAY.isoformat(): inst.prices_eur_mwh},
            "parameters": {"market_result_timeout_s": 3600},
        }
    )
    from schemas.context import ValidationContext
    from schemas.events import PlanSubmitted
    from schemas.validation import validate_plan

    ctx = ValidationContext.from_config(config)
    values, keys = [], []
    for p in inst.plans:
        doc = p.model_dump(mode="json")
        # The generator bids for more than some stops can deliver; the shared validator
        # rejects that, so shrink such bids until the plan is valid (as a driver would).
        for _ in range(6):
            event = PlanSubmitted.model_validate(
                {**doc, "market_area": inst.market_area, "delivery_day": DAY.isoformat()}
            )
            if not validate_plan(event, ctx):
                break
            for step in doc["bid"]:
                step["energy_kwh"] = round(step["energy_kwh"] / 2, 3)
        doc.update(
            event_type="PlanSubmitted",
            event_id=str(uuid.uuid4()),
            schema_version=1,
            occurred_at="2026-11-24T08:00:00+01:00",
            revision=0,
            market_area=inst.market_area,
            delivery_day=DAY.isoformat(),
        )
        values.append(orjson.dumps(doc))
        keys.append(p.vehicle_id)
    return config, values, keys


async def publish(
    bootstrap: str, names: Names, config: AuctionConfig, values: list[bytes], keys: list[str]
) -> None:
    producer = make_producer(
        bootstrap, linger_ms=20, max_batch_size=1024 * 1024, max_request_size=BIG
    )
    await producer.start()
    try:
        await producer.send_and_wait(
            names.config, config.model_dump_json().encode(), key=config.market_area.encode()
        )
        futures = [
            await producer.send(names.plans, v, key=k.encode())
            for v, k in zip(values, keys, strict=True)
        ]
        await asyncio.gather(*futures)
    finally:
        await producer.stop()


async def raw_consume(bootstrap: str, topic: str, n: int) -> float:
    """Baseline: plans/s a bare aiokafka consumer reads (no parsing at all)."""
    consumer = AIOKafkaConsumer(
        bootstrap_servers=bootstrap,
        enable_auto_commit=False,
        max_partition_fetch_bytes=8 * 1024 * 1024,
    )
    await consumer.start()
    try:
        await consumer.topics()
        tps = [TopicPartition(topic, p) for p in consumer.partitions_for_topic(topic) or ()]
        consumer.assign(tps)
        await consumer.seek_to_beginning(*tps)
        got, t0 = 0, time.perf_counter()
        while got < n:
            batch = await consumer.getmany(timeout_ms=500, max_records=10_000)
            got += sum(len(r) for r in batch.values())
        return n / (time.perf_counter() - t0)
    finally:
        await consumer.stop()


def settings(bootstrap: str, prefix: str) -> Settings:
    return Settings(
        kafka_bootstrap=bootstrap,
        aggregator_topic_prefix=prefix,
        topic_partitions=4,
        aggregator_port=None,
        aggregator_session_timeout_ms=6000,
        aggregator_heartbeat_ms=1000,
        aggregator_tick_s=0.05,
    )


async def one_round(
    bootstrap: str, config: AuctionConfig, values: list[bytes], keys: list[str], closure: bool
) -> dict[str, Any]:
    from auction_gen import DAY

    prefix = f"b{uuid.uuid4().hex[:6]}-"
    names = Names(prefix)
    await ensure_topics(bootstrap, OWN_TOPICS, 4, prefix=prefix)
    await publish(bootstrap, names, config, values, keys)
    n = len(values)
    raw = await raw_consume(bootstrap, names.plans, n)

    gate = config.gate_closure_for(DAY)
    clock = Clock.fixed(gate - timedelta(hours=2))
    worker = Worker(settings(bootstrap, prefix), clock)
    # The fleet's config is one big record: let the config reader fetch it whole.
    worker.configs.max_fetch_bytes = BIG
    task = asyncio.create_task(worker.run())
    out: dict[str, Any] = {"raw_per_s": raw}
    try:
        await worker.owner.recovered.wait()
        first = None
        invalid0 = (
            metrics.REGISTRY.get_sample_value(
                "chargeflow_plans_invalid_total", {"service": "aggregator"}
            )
            or 0.0
        )
        while True:
            invalid = (
                metrics.REGISTRY.get_sample_value(
                    "chargeflow_plans_invalid_total", {"service": "aggregator"}
                )
                or 0.0
            ) - invalid0
            stored = sum(worker.owner.table.live_count(p) for p in worker.owner.assigned)
            if first is None and stored:
                first = time.perf_counter()
            if stored + invalid >= n:
                break
            await asyncio.sleep(0.05)
        t1 = time.perf_counter()
        # From the intake's first record (group joins before that are start-up, not rate).
        t0 = worker.intake.first_record_at or t1
        out.update(
            ingest_per_s=n / (t1 - t0), stored=stored, invalid=int(invalid), ingest_s=t1 - t0
        )
        if closure:
            market = MarketService(
                MarketSettings(
                    kafka_bootstrap=bootstrap, market_topic_prefix=prefix, market_port=None
                ),
                clock,
            )
            mtask = asyncio.create_task(market.run())
            await market.ready.wait()
            done0 = (
                metrics.REGISTRY.get_sample_value(
                    "chargeflow_gate_closure_to_decisions_seconds_count"
                )
                or 0.0
            )
            t2 = time.perf_counter()
            clock.set(gate + timedelta(seconds=1))
            name = "chargeflow_gate_closure_to_decisions_seconds_count"
            while True:  # phase 2 observes this histogram once all decisions are queued
                if (metrics.REGISTRY.get_sample_value(name) or 0.0) > done0:
                    break
                await asyncio.sleep(0.05)
            await worker.owner.flush()
            await worker.producer.flush()
            out["closure_to_decisions_s"] = time.perf_counter() - t2
            out["phase_s"] = {
                ph: metrics.REGISTRY.get_sample_value(
                    "chargeflow_auction_clearing_duration_seconds_sum", {"phase": ph}
                )
                for ph in ("1", "2")
            }
            mtask.cancel()
    finally:
        task.cancel()
        try:
            await task
        except (asyncio.CancelledError, Exception):
            pass
    return out


async def main(n: int, rounds: int) -> None:
    logging.basicConfig(level=logging.ERROR)
    t = time.perf_counter()
    config, values, keys = build(n)
    print(
        f"generated {n} plans ({sum(map(len, values)) / n:.0f} B each) and a config of "
        f"{len(config.model_dump_json()) / 1e6:.1f} MB in {time.perf_counter() - t:.1f} s"
    )
    broker = EmbeddedBroker(ROOT / ".chargeflow" / "bench-logs")
    bootstrap = broker.start()
    try:
        results = []
        for r in range(rounds):
            res = await one_round(bootstrap, config, values, keys, closure=r == rounds - 1)
            results.append(res)
            print(
                f"round {r + 1}: raw {res['raw_per_s']:,.0f}/s, aggregator "
                f"{res['ingest_per_s']:,.0f}/s ({res['stored']} stored, {res['invalid']} "
                f"to the DLQ) in {res['ingest_s']:.1f} s"
            )
        raw = statistics.median(x["raw_per_s"] for x in results)
        agg = statistics.median(x["ingest_per_s"] for x in results)
        last = results[-1]
        print()
        print(
            f"setup: {platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, "
            f"Python {platform.python_version()}, Tansu (memory) embedded, 4 partitions, "
            f"one worker; {n} plans for one (area, day); {rounds} rounds, medians"
        )
        print(
            f"ingest into state: {agg:,.0f} plans/s; raw aiokafka consumer: {raw:,.0f} "
            f"plans/s; ratio {agg / raw:.2f} (target >= 10 000 plans/s)"
        )
        print(
            f"gate closure -> all {last['stored']} decisions published: "
            f"{last['closure_to_decisions_s']:.1f} s (target <= 60 s); clearing phase 1 "
            f"{last['phase_s']['1']:.1f} s, phase 2 {last['phase_s']['2']:.1f} s"
        )
    finally:
        broker.stop()


if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    ap.add_argument("--plans", type=int, default=100_000)
    ap.add_argument("--rounds", type=int, default=3)
    args = ap.parse_args()
    asyncio.run(main(args.plans, args.rounds))
