"""Decisions service benchmark: persistence throughput and GET latency, each vs a baseline.

    .venv/bin/python bench/decisions.py [--decisions 50000] [--rounds 3] [--clients 200]

1. Decisions persisted per second FROM THE TOPIC (consumer: fetch, parse, COPY → staging →
   upsert, offsets in the same transaction) vs the same consumer whose write is a plain
   `executemany` of per-row upserts (same semantics, same transaction). Also the write path
   alone (no Kafka) for both. Fresh topic and fresh plan ids per round; medians of rounds.
2. GET /charging-schedules-decisions/ under N concurrent closed-loop clients (each its own
   vehicle user and token) vs the trivial /healthz on the same server; the service runs in
   its own process (`python -m services.decisions`, consumer off), the load generator
   (aiohttp) in this one — both share this machine's cores.

Infrastructure: the embedded broker and PostgreSQL, or CHARGEFLOW_KAFKA_BOOTSTRAP /
CHARGEFLOW_DATABASE_URL when set.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import aiohttp
import asyncpg

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from schemas.network import Vehicle
from services.common import migrate, registry
from services.common.kafka import TopicSpec, ensure_topics, make_producer
from services.decisions import consumer as consumer_module
from services.decisions import store
from services.decisions.consumer import ConsumerConfig, DecisionsConsumer
from services.decisions.records import Batch, Kind, Record, add
from services.decisions.settings import Settings
from services.devstack.children import free_port
from services.devstack.embedded import EmbeddedStack
from tests.unit.decisions.factories import decision

BATCH = Settings.model_fields["decisions_batch_max"].default  # the service's default
ALLOCS = {("P-HOME-01", 1): 7.0, ("P-HOME-01", 2): 7.0, ("P-HOME-01", 3): 3.0,
          ("P-WORK-01", 9): 4.0}  # fmt: skip

# ---------------------------------------------------------------- baseline writer


async def executemany_write(
    conn: asyncpg.Connection,
    consumer: str,
    records: list[tuple[Kind, Record]],
    parsed: Any = None,
    before_commit: Any = None,
) -> tuple[Batch, store.Written]:
    """Same semantics as store.write for decisions, with plain per-row executemany."""
    async with conn.transaction():
        batch = Batch()
        for kind, record in records:
            add(batch, kind, record)
        rows = list(batch.decisions.values())
        await conn.executemany(
            "INSERT INTO schedule_decisions AS d (plan_id, revision, vehicle_id, market_area, "
            "delivery_day, run_id, phase, status, reasons, requested_kwh, accepted_kwh, coverage, "
            "cost_eur, event_id, occurred_at, allocations) VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,"
            "$10,$11,$12,$13,$14,$15,$16) ON CONFLICT (plan_id) DO UPDATE SET revision = "
            "EXCLUDED.revision, accepted_kwh = EXCLUDED.accepted_kwh, allocations = "
            "EXCLUDED.allocations WHERE (EXCLUDED.revision, EXCLUDED.phase, "
            "EXCLUDED.occurred_at, EXCLUDED.event_id) > (d.revision, d.phase, d.occurred_at, "
            "d.event_id)",
            rows,
        )
        if before_commit is not None:  # the consumer's dead letters
            await before_commit(batch)
        await conn.executemany(
            store.UPSERT_OFFSET, [(consumer, t, p, o) for (t, p), o in batch.offsets.items()]
        )
    return batch, store.Written(len(rows), 0, 0, 0)


# ---------------------------------------------------------------- 1. persistence


async def produce(bootstrap: str, n: int) -> str:
    topic = f"bench-decisions-{uuid.uuid4().hex[:8]}"
    await ensure_topics(bootstrap, (TopicSpec(topic),), partitions=4)
    producer = make_producer(bootstrap, linger_ms=20, max_batch_size=1024 * 1024)
    await producer.start()
    try:
        futures = []
        for i in range(n):
            d = decision(f"V{i % 500:03d}", energies=ALLOCS)
            futures.append(await producer.send(topic, d.model_dump_json().encode(),
                                               key=d.vehicle_id.encode()))  # fmt: skip
        await asyncio.gather(*futures)
    finally:
        await producer.stop()
    return topic


async def consume_rate(pool: asyncpg.Pool, bootstrap: str, topic: str, n: int) -> float:
    name = f"bench-{uuid.uuid4().hex[:8]}"
    config = ConsumerConfig(bootstrap, {topic: "decisions"}, name, batch_max=BATCH, wait_ms=100,
                            session_timeout_ms=1000, heartbeat_ms=200)  # fmt: skip
    done = asyncio.Event()
    seen = 0

    async def count(batch: Batch, written: store.Written) -> None:
        nonlocal seen
        seen += sum(batch.consumed.values())
        if seen >= n:
            done.set()

    consumer = DecisionsConsumer(pool, config, after_write=count)
    task = asyncio.create_task(consumer.run())
    await consumer.assigned.wait()  # group join (about a session timeout on Tansu) excluded
    t0 = time.perf_counter()
    await done.wait()
    elapsed = time.perf_counter() - t0
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)
    return n / elapsed


async def write_only_rate(
    pool: asyncpg.Pool, n: int, writer: Callable[..., Awaitable[Any]]
) -> float:
    payloads = [decision(f"V{i % 500:03d}", energies=ALLOCS).model_dump_json().encode()
                for i in range(n)]  # fmt: skip
    records: list[tuple[Kind, Record]] = [
        ("decisions", Record("w", 0, i, v)) for i, v in enumerate(payloads)
    ]
    name = f"bench-w-{uuid.uuid4().hex[:8]}"
    async with pool.acquire() as conn:
        await store.prepare(conn)
        t0 = time.perf_counter()
        for i in range(0, n, BATCH):
            await writer(conn, name, records[i : i + BATCH])
        return n / (time.perf_counter() - t0)


async def bench_persistence(pool: asyncpg.Pool, bootstrap: str, n: int, rounds: int) -> None:
    copy_write = store.write
    results: dict[str, list[float]] = {k: [] for k in ("copy", "execmany", "copy_w", "exec_w")}
    for r in range(rounds):
        for label, writer in (("copy", copy_write), ("execmany", executemany_write)):
            topic = await produce(bootstrap, n)
            store.write = writer  # type: ignore[assignment]
            try:
                results[label].append(await consume_rate(pool, bootstrap, topic, n))
            finally:
                store.write = copy_write  # type: ignore[assignment]
        results["copy_w"].append(await write_only_rate(pool, n, copy_write))
        results["exec_w"].append(await write_only_rate(pool, n, executemany_write))
        print(f"  round {r + 1}: " + ", ".join(f"{k} {v[-1]:,.0f}/s" for k, v in results.items())
              + f"  (load average {os.getloadavg()[0]:.1f})")  # fmt: skip
    med = {k: statistics.median(v) for k, v in results.items()}
    print(f"decisions persisted from the topic ({n} decisions x {len(ALLOCS)} allocations, "
          f"4 partitions, batches <= {BATCH}, median of {rounds}):")  # fmt: skip
    print(f"  COPY + upsert consumer : {med['copy']:>10,.0f} decisions/s")
    print(f"  executemany consumer   : {med['execmany']:>10,.0f} decisions/s  (baseline)")
    print(f"  ratio                  : {med['copy'] / med['execmany']:>10.1f} x")
    print(f"write path alone (no Kafka, batches of {BATCH}):")
    print(f"  COPY + upsert          : {med['copy_w']:>10,.0f} decisions/s")
    print(f"  executemany            : {med['exec_w']:>10,.0f} decisions/s  (baseline)")
    print(f"  ratio                  : {med['copy_w'] / med['exec_w']:>10.1f} x")


# ---------------------------------------------------------------- 2. GET latency


async def seed_users(pool: asyncpg.Pool, clients: int) -> list[str]:
    """One vehicle user per client, each with a token and two decisions of 24 MTUs."""
    tag = uuid.uuid4().hex[:6]
    tokens = []
    energies = {("P-HOME-01", i): 1.5 for i in range(24)}
    records: list[tuple[Kind, Record]] = []
    async with pool.acquire() as conn:
        await registry.upsert_market_area(conn, registry.MarketArea(id="PL"))
        for c in range(clients):
            name = f"bench-{tag}-{c}"
            await registry.ensure_user(conn, name, "vehicle")
            tokens.append((await registry.create_token(conn, name))[1])
            vid = f"BV-{tag}-{c}"
            vehicle = Vehicle(id=vid, battery_kwh=60, max_power_kw=11)
            await registry.upsert_vehicle(conn, vehicle, name)
            for _ in range(2):
                value = decision(vid, energies=energies).model_dump_json().encode()
                records.append(("decisions", Record("seed", 0, len(records), value)))
        await store.prepare(conn)
        await store.write(conn, f"bench-seed-{tag}", records)
    return tokens


async def load(
    base: str,
    path: str,
    tokens: list[str],
    seconds: float,
    etag: bool = False,
    interval: float = 0.0,
) -> dict[str, float]:
    """Closed loop (interval 0: each client sends as soon as it has its answer), or paced:
    each client polls every `interval` seconds from a random phase (vehicles polling)."""
    latencies: list[float] = []
    errors = 0
    stop = time.perf_counter() + seconds
    connector = aiohttp.TCPConnector(limit=0)
    async with aiohttp.ClientSession(base, connector=connector) as http:

        async def client(token: str) -> None:
            nonlocal errors
            headers = {"Authorization": f"Bearer {token}"}
            if interval:
                await asyncio.sleep(random.uniform(0, interval))
            while time.perf_counter() < stop:
                t0 = time.perf_counter()
                async with http.get(path, headers=headers) as r:
                    await r.read()
                    if r.status not in (200, 304):
                        errors += 1
                    if etag and "ETag" in r.headers:
                        headers["If-None-Match"] = r.headers["ETag"]
                latencies.append(time.perf_counter() - t0)
                if interval:
                    await asyncio.sleep(max(0.0, interval - (time.perf_counter() - t0)))

        t_start = time.perf_counter()
        await asyncio.gather(*(client(t) for t in tokens))
        wall = time.perf_counter() - t_start
    latencies.sort()
    q = statistics.quantiles(latencies, n=100)
    return {"p50": q[49] * 1000, "p99": q[98] * 1000, "rps": len(latencies) / wall,
            "errors": errors}  # fmt: skip


async def bench_http(
    database_url: str,
    pool: asyncpg.Pool,
    clients: int,
    seconds: float,
    cache_ttl: str,
    workers: int = 1,
) -> None:
    tokens = await seed_users(pool, clients)
    on_day = await pool.fetchval(
        "SELECT count(*) FROM schedule_decisions WHERE delivery_day = '2026-11-26'"
    )
    port = free_port()
    env = {**os.environ, "CHARGEFLOW_DATABASE_URL": database_url,
           "CHARGEFLOW_DECISIONS_PORT": str(port), "CHARGEFLOW_DECISIONS_CONSUME": "false",
           "CHARGEFLOW_LOG_LEVEL": "WARNING", "CHARGEFLOW_DECISIONS_CACHE_TTL_S": cache_ttl,
           "CHARGEFLOW_DECISIONS_POOL_SIZE": "20",
           "CHARGEFLOW_DECISIONS_WORKERS": str(workers),
           # throughput and latency, not the overload limits: every limit off
           "CHARGEFLOW_DECISIONS_MAX_IN_FLIGHT": "100000",
           "CHARGEFLOW_DECISIONS_RATE_LIMIT_PER_S": "0",
           "CHARGEFLOW_DECISIONS_ADDRESS_RATE_LIMIT_PER_S": "0",
           "CHARGEFLOW_DECISIONS_DB_ACQUIRE_TIMEOUT_S": "60"}  # fmt: skip
    # The server runs in its own process; starting it blocks only for the fork.
    proc = subprocess.Popen([sys.executable, "-m", "services.decisions"], env=env)  # noqa: ASYNC220
    base = f"http://127.0.0.1:{port}"
    try:
        async with aiohttp.ClientSession(base) as http:
            for _ in range(200):
                try:
                    async with http.get("/healthz") as r:
                        if r.status == 200:
                            break
                except aiohttp.ClientError:
                    pass
                await asyncio.sleep(0.1)
        day = "/charging-schedules-decisions/?delivery_day=2026-11-26"
        await load(base, day, tokens, 2)  # warm-up: token cache, connections
        poll = 1.0
        results = {
            "healthz (baseline)": await load(base, "/healthz", tokens, seconds),
            "GET decisions": await load(base, day, tokens, seconds),
            "GET decisions, If-None-Match": await load(base, day, tokens, seconds, etag=True),
            f"paced {poll:g} s: healthz (base)": await load(
                base, "/healthz", tokens, seconds, interval=poll
            ),
            f"paced {poll:g} s: GET decisions": await load(
                base, day, tokens, seconds, interval=poll
            ),
            f"paced {poll:g} s: If-None-Match": await load(
                base, day, tokens, seconds, etag=True, interval=poll
            ),
        }
    finally:
        proc.terminate()
        proc.wait(timeout=15)
    print(f"GET, server with {workers} worker process(es), load average "
          f"{' '.join(f'{x:.1f}' for x in os.getloadavg())} at the end:")  # fmt: skip
    print(f"GET by {clients} concurrent clients (closed loop; 'paced': each polls every "
          f"{poll:g} s), {seconds:.0f} s each, response cache TTL {cache_ttl} s (0 = every "
          f"request hits PostgreSQL), {on_day:,} decisions on the day, 2 per client:")  # fmt: skip
    for label, r in results.items():
        base = f"paced {poll:g} s: healthz (base)" if "paced" in label else "healthz (baseline)"
        base_p99 = results[base]["p99"]
        ratio = r["p99"] / base_p99
        print(f"  {label:<30} p50 {r['p50']:7.1f} ms  p99 {r['p99']:7.1f} ms  "
              f"{r['rps']:7.0f} req/s  errors {r['errors']:.0f}  p99/base {ratio:.2f}")  # fmt: skip


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--decisions", type=int, default=50_000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--clients", type=int, default=200)
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--skip-persistence", action="store_true")
    parser.add_argument("--skip-http", action="store_true")
    parser.add_argument("--workers", default="1", help="server worker processes, e.g. 1,2")
    parser.add_argument("--cache-ttl", default="5,0", help="response cache TTLs to measure")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as state:
        stack = EmbeddedStack(Path(state), os.environ.get("CHARGEFLOW_KAFKA_BOOTSTRAP"),
                              os.environ.get("CHARGEFLOW_DATABASE_URL"))  # fmt: skip
        infra = stack.start()
        try:
            migrate.upgrade(infra.database_url)
            print(f"setup: {os.cpu_count()} cores, broker {infra.kafka_bootstrap} "
                  f"({'embedded Tansu' if infra.embedded_broker else 'external'}), PostgreSQL "
                  f"{'embedded' if infra.embedded_postgres else 'external'}")  # fmt: skip
            async with asyncpg.create_pool(infra.database_url, min_size=2, max_size=4) as pool:
                if not args.skip_persistence:
                    await bench_persistence(
                        pool, infra.kafka_bootstrap, args.decisions, args.rounds
                    )
                if not args.skip_http:
                    for workers in map(int, args.workers.split(",")):
                        for ttl in args.cache_ttl.split(","):
                            await bench_http(infra.database_url, pool, args.clients,
                                             args.seconds, ttl, workers)  # fmt: skip
        finally:
            stack.stop()


if __name__ == "__main__":
    _ = consumer_module  # the consumer module looks up store.write at call time
    asyncio.run(main())
