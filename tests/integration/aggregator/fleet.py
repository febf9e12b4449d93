"""Test data and Kafka helpers for the aggregator integration tests (no fixtures here)."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Callable
from datetime import date, datetime, timedelta
from datetime import time as dtime
from pathlib import Path
from typing import Any

import httpx
import orjson
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition

from schemas.config import AuctionConfig, AuctionParameters
from schemas.market_day import mtu_count, zone
from schemas.network import ChargingPoint, Node, Vehicle
from services.aggregator.settings import Settings
from services.devstack.children import free_port

N_VEHICLES = 60


def config(
    area: str = "PL",
    days: list[date] | None = None,
    tz: str = "Europe/Warsaw",
    timeout_s: float = 1800.0,
    node_kw: float = 60.0,
    vehicles: int = N_VEHICLES,
) -> AuctionConfig:
    """A small network: two nodes, 12 points, 60 vehicles; a forecast with an evening peak."""
    forecast = {}
    for d in days or []:
        n = mtu_count(d, tz, 60)
        forecast[d] = [60.0 + 10.0 * (i % 7) + (80.0 if 17 <= i <= 20 else 0.0) for i in range(n)]
    return AuctionConfig(
        market_area=area,
        timezone=tz,
        nodes=[
            Node(id=f"{area}-N1", capacity_kw=node_kw),
            Node(id=f"{area}-N2", capacity_kw=400.0),
        ],
        charging_points=[
            ChargingPoint(id=f"{area}-P{i:02d}", node_id=f"{area}-N{1 + i % 2}", max_power_kw=22.0)
            for i in range(12)
        ],
        vehicles=[
            Vehicle(id=f"V{i:03d}", battery_kwh=60.0, max_power_kw=11.0) for i in range(vehicles)
        ],
        price_forecast=forecast,
        parameters=AuctionParameters(market_result_timeout_s=timeout_s),
    )


def plan(
    i: int,
    day: date,
    area: str = "PL",
    rev: int = 0,
    tz: str = "Europe/Warsaw",
    plan_id: uuid.UUID | None = None,
    price: float = 400.0,
    **over: Any,
) -> dict[str, Any]:
    """Vehicle i plugs in at point i % 12 from (i % 6 + 4) h to 9 h later, local time."""
    z = zone(tz)
    start = datetime.combine(day, dtime(i % 6 + 4), tzinfo=z)
    end = start + timedelta(hours=9)
    doc: dict[str, Any] = {
        "event_type": "PlanSubmitted",
        "event_id": str(uuid.uuid4()),
        "schema_version": 1,
        "occurred_at": "2026-01-01T00:00:00+00:00",
        "plan_id": str(plan_id or uuid.UUID(int=i + 1000 * (day.toordinal() % 1000))),
        "revision": rev,
        "vehicle_id": f"V{i:03d}",
        "market_area": area,
        "delivery_day": day.isoformat(),
        "initial_soc_kwh": 10.0,
        "stops": [
            {
                "charging_point_id": f"{area}-P{i % 12:02d}",
                "arrival": start.isoformat(),
                "departure": end.isoformat(),
                "trip_kwh_after": 5.0,
            }
        ],
        "bid": [
            {"energy_kwh": 8.0 + i % 5, "price_eur_mwh": price},
            {"energy_kwh": 10.0, "price_eur_mwh": 120.0 + i % 4 * 10},
        ],
    }
    doc.update(over)
    return doc


def cancel(doc: dict[str, Any], rev: int | None = None) -> dict[str, Any]:
    return {
        "event_type": "PlanCancelled",
        "event_id": str(uuid.uuid4()),
        "schema_version": 1,
        "occurred_at": "2026-01-01T00:00:00+00:00",
        "plan_id": doc["plan_id"],
        "revision": doc["revision"] if rev is None else rev,
        "vehicle_id": doc["vehicle_id"],
        "market_area": doc["market_area"],
        "delivery_day": doc["delivery_day"],
    }


def settings(bootstrap: str, prefix: str, **over: Any) -> Settings:
    base: dict[str, Any] = {
        "kafka_bootstrap": bootstrap,
        "aggregator_topic_prefix": prefix,
        "topic_partitions": 2,
        "aggregator_session_timeout_ms": 1000,
        "aggregator_heartbeat_ms": 200,
        "aggregator_port": None,
        "aggregator_tick_s": 0.1,
        "aggregator_closure_wait_s": 10.0,
    }
    base.update(over)
    return Settings(**base)


async def send_all(
    producer: AIOKafkaProducer, topic: str, items: list[tuple[bytes | None, bytes]]
) -> None:
    futures = [await producer.send(topic, value=v, key=k) for k, v in items]
    await asyncio.gather(*futures)


def plan_records(docs: list[dict[str, Any]]) -> list[tuple[bytes | None, bytes]]:
    return [(d["vehicle_id"].encode(), orjson.dumps(d)) for d in docs]


async def read_until(
    bootstrap: str,
    topic: str,
    done: Callable[[list[dict[str, Any]]], bool],
    wait_s: float = 30.0,
    decode: Callable[[bytes], Any] = orjson.loads,
) -> list[Any]:
    """Read a topic from the beginning (JSON values) until done(values) or the timeout."""
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False)
    await consumer.start()
    out: list[Any] = []
    try:
        parts = consumer.partitions_for_topic(topic)
        while not parts:
            await consumer.topics()
            parts = consumer.partitions_for_topic(topic)
        tps = [TopicPartition(topic, p) for p in parts]
        consumer.assign(tps)
        await consumer.seek_to_beginning(*tps)
        deadline = time.monotonic() + wait_s
        while not done(out):
            if time.monotonic() > deadline:
                raise TimeoutError(f"{topic}: condition not met after {wait_s} s; got {len(out)}")
            batch = await consumer.getmany(timeout_ms=200)
            for records in batch.values():
                out += [decode(r.value) for r in records if r.value is not None]
        return out
    finally:
        await consumer.stop()


async def count_records(bootstrap: str, topic: str) -> int:
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap)
    await consumer.start()
    try:
        await consumer.topics()
        parts = consumer.partitions_for_topic(topic) or set()
        tps = [TopicPartition(topic, p) for p in parts]
        end = await consumer.end_offsets(tps) if tps else {}
        return sum(end.values())
    finally:
        await consumer.stop()


def engine_result(
    cfg: AuctionConfig,
    docs: list[dict[str, Any]],
    day: date,
    phase: int,
    prices: list[float] | None = None,
    awarded: list[float] | None = None,
):  # type: ignore[no-untyped-def]
    """The auction engine run directly on the plans (what `chargeflow auction clear` does)."""
    from auction.clear import clear
    from schemas.auction import AuctionInstance
    from schemas.events import PlanSubmitted
    from services.aggregator import clearing

    plans = sorted((PlanSubmitted.model_validate(d) for d in docs), key=lambda p: str(p.plan_id))
    inst = AuctionInstance(
        market_area=cfg.market_area,
        delivery_day=day,
        timezone=cfg.timezone,
        mtu_minutes=60,
        prices_eur_mwh=prices or cfg.forecast_for(day) or [],
        awarded_mwh=awarded,
        nodes=cfg.nodes,
        charging_points=cfg.charging_points,
        vehicles=[v for v in cfg.vehicles if v.id in {p.vehicle_id for p in plans}],
        plans=[clearing.body(p) for p in plans],
    )
    return clear(inst, phase, clearing.params_of(cfg))


def market_service(bootstrap: str, prefix: str, clock: Any) -> Any:
    from services.market.service import MarketService
    from services.market.settings import Settings as MarketSettings

    return MarketService(
        MarketSettings(
            kafka_bootstrap=bootstrap,
            market_topic_prefix=prefix,
            market_port=None,
            market_session_timeout_ms=1000,
            market_heartbeat_ms=200,
        ),
        clock,
    )


class WorkerProcess:
    def __init__(self, bootstrap: str, prefix: str, log: Path) -> None:
        self.port = free_port()
        self.env = {
            **os.environ,
            "CHARGEFLOW_KAFKA_BOOTSTRAP": bootstrap,
            "CHARGEFLOW_AGGREGATOR_TOPIC_PREFIX": prefix,
            "CHARGEFLOW_TOPIC_PARTITIONS": "2",
            "CHARGEFLOW_AGGREGATOR_SESSION_TIMEOUT_MS": "1000",
            "CHARGEFLOW_AGGREGATOR_HEARTBEAT_MS": "200",
            "CHARGEFLOW_AGGREGATOR_TICK_S": "0.1",
            "CHARGEFLOW_AGGREGATOR_PORT": str(self.port),
            "CHARGEFLOW_CLOCK_SPEED": "0",
        }
        self.log = log
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self, at: datetime) -> None:
        env = {**self.env, "CHARGEFLOW_CLOCK_START": at.isoformat()}
        with open(self.log, "ab") as out:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "services.aggregator"],
                env=env,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    async def ready(self, wait_s: float = 30.0) -> None:
        async with httpx.AsyncClient() as client:
            for _ in range(int(wait_s / 0.1)):
                assert self.proc is not None and self.proc.poll() is None, self.log.read_text()
                with contextlib.suppress(httpx.HTTPError):
                    if (
                        await client.get(f"http://127.0.0.1:{self.port}/readyz")
                    ).status_code == 200:
                        return
                await asyncio.sleep(0.1)
        raise TimeoutError("worker not ready")

    def kill(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(10)

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None


async def committed(bootstrap: str, group: str, topic: str) -> dict[int, int | None]:
    """The group's committed offset per partition of ``topic``."""
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, group_id=group)
    await consumer.start()
    try:
        await consumer.topics()
        parts = consumer.partitions_for_topic(topic) or set()
        return {p: await consumer.committed(TopicPartition(topic, p)) for p in sorted(parts)}
    finally:
        await consumer.stop()


async def end_offsets(bootstrap: str, topic: str) -> dict[int, int]:
    """The true end offset per partition (Tansu's ListOffsets answers low: offsets.py)."""
    from services.aggregator.offsets import true_end_offsets

    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False)
    await consumer.start()
    try:
        await consumer.topics()
        tps = [TopicPartition(topic, p) for p in sorted(consumer.partitions_for_topic(topic) or ())]
        consumer.assign(tps)
        return {tp.partition: end for tp, end in (await true_end_offsets(consumer, tps)).items()}
    finally:
        await consumer.stop()
