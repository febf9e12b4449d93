"""The original system's own measurement, on chargeflow: `wrk` with 10 threads for 30 s on
the decisions endpoint at 10, 100 and 300 connections (the original reached 17 requests/s).

    apt-get install wrk            # Debian's package; not needed by any test
    .venv/bin/python bench/legacy_wrk.py [--connections 10,100,300] [--duration 30]
        [--vehicles 300] [--days 30] [--background 100000] [--cache-ttl 5,0] [--workers 1]

Both endpoints in one run, one after the other at each connection count: the original
API's `GET /charging-schedules-decisions/next_day/?electric_vehicle=ID` (`Authorization:
Token ...`) and chargeflow's own `GET /charging-schedules-decisions/` (the next delivery
day by default, `Bearer`). Each of `--vehicles` users owns one vehicle with a numeric id and
a token; a Lua script spreads wrk's requests over them. Every vehicle has a decision (24
MTUs at two points) on each of the last `--days` days up to the next delivery day, and its
plan (with stops) for the next day; `--background` decisions of other vehicles fill those
days. They are written by the service's own write path (store.write: COPY, upsert,
offsets). The service runs in its own process (`python -m services.decisions`, consumer
off) on the embedded stack (or CHARGEFLOW_DATABASE_URL), with its request limits off
(per-token rate, per-address rate, in flight): this measures throughput, as the original's
figure did. `--cache-ttl 0` sends every request to PostgreSQL.

Prints requests/s and latency percentiles (wrk --latency) per endpoint and connection count
as a Markdown table, and wrk's error counts (non-2xx answers, socket errors).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import asyncpg

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from schemas.events import PlanSubmitted
from schemas.market_day import mtu_starts, zone
from schemas.network import Vehicle
from schemas.plan import BidStep, Stop
from services.common import migrate, registry
from services.decisions import store
from services.decisions.days import next_delivery_day
from services.decisions.records import Kind, Record
from services.devstack.children import free_port
from services.devstack.embedded import EmbeddedStack
from tests.unit.decisions.factories import decision

TZ = "Europe/Warsaw"
ENERGIES = {**{("HOME", i): 1.5 for i in range(0, 7)}, **{("WORK", i): 2.0 for i in range(9, 16)},
            **{("HOME", i): 1.0 for i in range(19, 24)}}  # fmt: skip
ENDPOINTS = {
    "original `next_day/?electric_vehicle=ID`": ("/charging-schedules-decisions/next_day/"
                                                  "?electric_vehicle=", "Token"),
    "chargeflow `GET /charging-schedules-decisions/`": ("/charging-schedules-decisions/", "Bearer"),
}  # fmt: skip


@dataclass(frozen=True)
class Result:
    rps: float
    p50: float
    p75: float
    p90: float
    p99: float
    requests: int
    errors: str


async def seed(pool: asyncpg.Pool, vehicles: int, days: int, background: int) -> list[tuple]:
    """Users with one numeric vehicle and a token each, their decisions of the last `days`
    days up to the next day and its plan; background decisions. (token, vehicle) pairs."""
    next_day = next_delivery_day(datetime.now(UTC), [zone(TZ)])
    dates = [next_day - timedelta(days=i) for i in range(days)]
    tag = uuid.uuid4().hex[:6]
    pairs, records = [], []

    def add(kind: Kind, payload: bytes) -> None:
        records.append((kind, Record("bench-seed", 0, len(records), payload)))

    async with pool.acquire() as conn:
        await registry.upsert_market_area(conn, registry.MarketArea(id="PL", timezone=TZ))
        base = 10**8 + int(tag, 16) % 10**8
        for n in range(vehicles):
            name, vehicle = f"wrk-{tag}-{n}", str(base + n)
            await registry.ensure_user(conn, name, "vehicle")
            pairs.append(((await registry.create_token(conn, name))[1], vehicle))
            await registry.upsert_vehicle(
                conn, Vehicle(id=vehicle, battery_kwh=60, max_power_kw=11), name
            )
            for day in dates:
                d = decision(vehicle, day=day, energies=ENERGIES)
                add("decisions", d.model_dump_json().encode())
                if day == next_day:
                    add("plans", _plan(d.plan_id, vehicle, day).model_dump_json().encode())
        for n in range(background):
            d = decision(f"BG-{tag}-{n % 5000}", day=dates[n % days], energies=ENERGIES)
            add("decisions", d.model_dump_json().encode())
        await store.prepare(conn)
        for i in range(0, len(records), 10_000):
            await store.write(conn, f"bench-wrk-{tag}", records[i : i + 10_000])
    return pairs


def _plan(plan_id: uuid.UUID, vehicle: str, day: date) -> PlanSubmitted:
    h, m = mtu_starts(day, TZ, 60), timedelta(minutes=1)
    stops = [("HOME", h[0], h[7] + 20 * m), ("WORK", h[8] + 40 * m, h[17]),
             ("HOME", h[18] + 30 * m, h[23] + 59 * m)]  # fmt: skip
    return PlanSubmitted(
        plan_id=plan_id, revision=1, vehicle_id=vehicle, market_area="PL", delivery_day=day,
        bid=[BidStep(energy_kwh=40, price_eur_mwh=300)],
        stops=[Stop(charging_point_id=p, arrival=a, departure=d) for p, a, d in stops],
    )  # fmt: skip


def lua(pairs: list[tuple], path: str, scheme: str, vehicle_in_path: bool) -> str:
    """A wrk script: each request with the next (token, vehicle), threads apart."""
    rows = ",\n".join(f'  {{"{t}", "{v}"}}' for t, v in pairs)
    suffix = "p[2]" if vehicle_in_path else '""'
    return f"""
local pairs = {{
{rows}
}}
local n = 0
local counter = 0
function setup(thread)
  counter = counter + 1
  thread:set("offset", counter * 7919)
end
function init(args)
  n = offset or 0
end
function request()
  n = n + 1
  local p = pairs[(n % #pairs) + 1]
  return wrk.format("GET", "{path}" .. {suffix}, {{["Authorization"] = "{scheme} " .. p[1]}})
end
"""


_UNITS = {"us": 1e-3, "ms": 1.0, "s": 1000.0, "m": 60_000.0}


def _ms(text: str) -> float:
    value, unit = re.fullmatch(r"([\d.]+)(us|ms|s|m)", text).groups()  # type: ignore[union-attr]
    return float(value) * _UNITS[unit]


def parse(output: str) -> Result:
    pct = {int(p): _ms(v) for p, v in re.findall(r"^\s*(\d+)%\s+([\d.]+[a-z]+)\s*$", output, re.M)}
    if len(pct) < 4:
        raise ValueError(f"no latency distribution in wrk's output:\n{output}")
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))  # type: ignore[union-attr]
    requests = int(re.search(r"(\d+) requests in", output).group(1))  # type: ignore[union-attr]
    errors = []
    if m := re.search(r"Non-2xx or 3xx responses: (\d+)", output):
        errors.append(f"{m.group(1)} non-2xx")
    if m := re.search(r"Socket errors: (.*)", output):
        errors.append("socket " + m.group(1))
    return Result(rps, pct[50], pct[75], pct[90], pct[99], requests, "; ".join(errors) or "0")


def run_wrk(url: str, script: Path, threads: int, connections: int, seconds: int) -> Result:
    command = ["wrk", f"-t{threads}", f"-c{connections}", f"-d{seconds}s", "--latency",
               "--timeout", "10s", "-s", str(script), url]  # fmt: skip
    done = subprocess.run(command, capture_output=True, text=True, check=True)
    return parse(done.stdout)


def serve(database_url: str, cache_ttl: str, workers: int) -> tuple[subprocess.Popen, str]:
    port = free_port()
    env = {**os.environ, "CHARGEFLOW_DATABASE_URL": database_url,
           "CHARGEFLOW_DECISIONS_PORT": str(port), "CHARGEFLOW_DECISIONS_CONSUME": "false",
           "CHARGEFLOW_LOG_LEVEL": "WARNING", "CHARGEFLOW_DECISIONS_CACHE_TTL_S": cache_ttl,
           "CHARGEFLOW_DECISIONS_WORKERS": str(workers),
           # throughput, not the overload limits: every limit off
           "CHARGEFLOW_DECISIONS_MAX_IN_FLIGHT": "100000",
           "CHARGEFLOW_DECISIONS_RATE_LIMIT_PER_S": "0",
           "CHARGEFLOW_DECISIONS_ADDRESS_RATE_LIMIT_PER_S": "0",
           "CHARGEFLOW_DECISIONS_DB_ACQUIRE_TIMEOUT_S": "60"}  # fmt: skip
    proc = subprocess.Popen([sys.executable, "-m", "services.decisions"], env=env)
    base = f"http://127.0.0.1:{port}"
    for _ in range(300):
        try:
            with urllib.request.urlopen(f"{base}/healthz", timeout=1) as r:
                if r.status == 200:
                    return proc, base
        except OSError:
            pass
        time.sleep(0.1)
    proc.terminate()
    raise RuntimeError("the decisions service did not start")


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--connections", default="10,100,300")
    parser.add_argument("--threads", type=int, default=10)
    parser.add_argument("--duration", type=int, default=30)
    parser.add_argument("--vehicles", type=int, default=300)
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--background", type=int, default=100_000)
    parser.add_argument("--cache-ttl", default="5,0", help="response cache TTLs to measure")
    parser.add_argument("--workers", type=int, default=1)
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        sys.exit("wrk is not installed: apt-get install wrk")
    with tempfile.TemporaryDirectory() as state:
        stack = EmbeddedStack(Path(state), os.environ.get("CHARGEFLOW_KAFKA_BOOTSTRAP"),
                              os.environ.get("CHARGEFLOW_DATABASE_URL"))  # fmt: skip
        infra = stack.start()
        try:
            migrate.upgrade(infra.database_url)
            async with asyncpg.create_pool(infra.database_url, min_size=1, max_size=2) as pool:
                t0 = time.perf_counter()
                pairs = await seed(pool, args.vehicles, args.days, args.background)
                total = await pool.fetchval("SELECT count(*) FROM schedule_decisions")
            print(f"seeded {total:,} decisions ({args.vehicles} vehicles x {args.days} days + "
                  f"{args.background:,} others) in {time.perf_counter() - t0:.0f} s; "
                  f"{os.cpu_count()} cores")  # fmt: skip
            await asyncio.to_thread(measure, infra.database_url, pairs, args)
        finally:
            stack.stop()


def measure(database_url: str, pairs: list[tuple], args: argparse.Namespace) -> None:
    print("| cache TTL | endpoint | connections | req/s | p50 ms | p75 ms | p90 ms | p99 ms "
          "| requests | errors | load avg |")  # fmt: skip
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    with tempfile.TemporaryDirectory() as scripts:
        for ttl in args.cache_ttl.split(","):
            proc, base = serve(database_url, ttl, args.workers)
            try:
                for label, (path, scheme) in ENDPOINTS.items():
                    script = Path(scripts) / f"{scheme}.lua"
                    script.write_text(lua(pairs, path, scheme, vehicle_in_path=scheme == "Token"))
                    run_wrk(base, script, 2, 2, 2)  # warm-up: connections, token cache
                    for c in map(int, args.connections.split(",")):
                        r = run_wrk(base, script, min(args.threads, c), c, args.duration)
                        print(f"| {ttl} s | {label} | {c} | {r.rps:,.0f} | {r.p50:.1f} | "
                              f"{r.p75:.1f} | {r.p90:.1f} | {r.p99:.1f} | {r.requests:,} | "
                              f"{r.errors} | {os.getloadavg()[0]:.1f} |", flush=True)  # fmt: skip
            finally:
                proc.terminate()
                proc.wait(timeout=15)


if __name__ == "__main__":
    asyncio.run(main())
