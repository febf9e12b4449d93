"""Benchmark the ingest gateway on the embedded stack (Tansu broker + PostgreSQL).

Starts the stack, seeds the example network, starts the gateway (`python -m services.ingest`,
uvicorn + uvloop + httptools, rate limit off, clock frozen before gate closure) in a
subprocess and drives it with a keep-alive HTTP load generator (a minimal
asyncio HTTP/1.1 client on uvloop, one process):

- single-plan POST /charging-schedules/ with --clients concurrent clients, each plan new;
- POST /charging-schedules/batch with --batch plans per request (--batch-clients clients);
- the same two loads against POST /_bench/noop on the same server (same middleware, no
  work): the baseline. The ratio gateway/no-op is the figure that travels across machines.

Each scenario: 2 s warm-up, then --repeat runs of --seconds; plans/s is the median of the
runs, p50/p99 latency are over all requests of all runs. --profile samples the gateway with
py-spy during one extra single-plan run and prints where its time goes.

    .venv/bin/python bench/ingest.py [--seconds 8] [--repeat 3] [--clients 64] [--profile]
        [--workers 2] [--against DIR] [--against-env NAME=VALUE]

--against DIR (a source tree, e.g. `git archive REV | tar -x -C DIR`) and/or --against-env
start a second gateway on the same stack and compare the two in alternating runs (plans/s,
gateway CPU per plan, p99), so that both see the same load from other tenants.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import asyncpg
import orjson
import psutil
import uvloop

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from services.common import migrate, registry
from services.devstack import seed
from services.devstack.children import free_port
from services.devstack.embedded import EmbeddedStack

DAY = "2026-11-26"
CLOCK = "2026-11-25T08:00:00+00:00"  # 09:00 Warsaw: DAY open until 12:00 local


def plan_template(i: int, vehicle_id: str | None = None) -> bytes:
    """Plan i's JSON (2 stops, 2 bid steps) with "@@PID@@" where its plan_id goes."""
    body = {
        "plan_id": "@@PID@@",
        "revision": 1,
        "vehicle_id": vehicle_id or f"V{i % 20 + 1:03d}",
        "market_area": "PL",
        "delivery_day": DAY,
        "initial_soc_kwh": 8.0,
        "stops": [
            {
                "charging_point_id": f"P-HOME-{i % 20 + 1:02d}",
                "arrival": f"{DAY}T00:00:00+01:00",
                "departure": f"{DAY}T07:00:00+01:00",
                "trip_kwh_after": 6.0,
            },
            {
                "charging_point_id": f"P-WORK-{i % 10 + 1:02d}",
                "arrival": f"{DAY}T08:00:00+01:00",
                "departure": f"{DAY}T16:30:00+01:00",
                "trip_kwh_after": 6.0,
            },
        ],
        "bid": [
            {"energy_kwh": 10.0, "price_eur_mwh": 400.0},
            {"energy_kwh": 12.0, "price_eur_mwh": 150.0},
        ],
    }
    return orjson.dumps(body)


TEMPLATES = [plan_template(i) for i in range(20)]


def one_plan() -> bytes:
    t = TEMPLATES[uuid.uuid4().int % 20]
    return t.replace(b"@@PID@@", str(uuid.uuid4()).encode())


def batch_body(n: int) -> bytes:
    return b'{"plans":[' + b",".join(one_plan() for _ in range(n)) + b"]}"


@dataclass
class Run:
    plans_per_s: float
    latencies: list[float]
    statuses: Counter[object]


class Connection(asyncio.Protocol):
    """A minimal keep-alive HTTP/1.1 client connection (one request in flight).

    aiohttp's client costs about as much CPU per request as the server under test, and on
    2 cores the load generator competes with the gateway; this one costs a fraction."""

    def __init__(self) -> None:
        self.buffer = bytearray()
        self.waiter: asyncio.Future[tuple[int, bytes]] | None = None
        self.transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]  # uvloop's is no subclass

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        end = self.buffer.find(b"\r\n\r\n")
        if end < 0 or self.waiter is None:
            return
        head = bytes(self.buffer[:end]).lower()
        at = head.find(b"content-length:")
        stop = head.find(b"\r\n", at)
        length = int(head[at + 15 : stop if stop >= 0 else None]) if at >= 0 else 0
        if len(self.buffer) < end + 4 + length:
            return
        body = bytes(self.buffer[end + 4 : end + 4 + length])
        del self.buffer[: end + 4 + length]
        self.waiter.set_result((int(head[9:12]), body))

    def connection_lost(self, exc: Exception | None) -> None:
        if self.waiter is not None and not self.waiter.done():
            self.waiter.set_exception(ConnectionError("server closed the connection"))

    async def request(self, data: bytes) -> tuple[int, bytes]:
        assert self.transport is not None
        self.waiter = asyncio.get_running_loop().create_future()
        self.transport.write(data)
        return await self.waiter


def http_post(path: str, token: str, body: bytes) -> bytes:
    head = (
        f"POST {path} HTTP/1.1\r\nHost: ingest\r\nAuthorization: Bearer {token}\r\n"
        f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
    )
    return head.encode() + body


async def drive(
    conns: list[Connection], path: str, token: str, seconds: float, per_request: int
) -> Run:
    latencies: list[float] = []
    statuses: Counter[object] = Counter()
    accepted = [0]
    stop_at = time.monotonic() + seconds

    async def client(conn: Connection) -> None:
        while time.monotonic() < stop_at:
            body = one_plan() if per_request == 1 else batch_body(per_request)
            data = http_post(path, token, body)
            t0 = time.perf_counter()
            status, answer = await conn.request(data)
            latencies.append(time.perf_counter() - t0)
            statuses[status] += 1
            if status == 202:  # a single plan, or the no-op endpoint (took the whole body)
                accepted[0] += per_request
            elif status == 200:  # a batch: count what was stored, not what was sent
                n = orjson.loads(answer)["accepted"]
                accepted[0] += n
                statuses["items not stored"] += per_request - n

    started = time.monotonic()
    await asyncio.gather(*(client(c) for c in conns))
    elapsed = time.monotonic() - started
    return Run(accepted[0] / elapsed, latencies, statuses)


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000


async def scenario(
    base: str, path: str, token: str, clients: int, per_request: int, seconds: float, repeat: int
) -> dict[str, object]:
    host, port = base.removeprefix("http://").split(":")
    loop = asyncio.get_running_loop()
    conns = []
    for _ in range(clients):
        _, conn = await loop.create_connection(Connection, host, int(port))
        conns.append(conn)
    try:
        await drive(conns, path, token, 2.0, per_request)  # warm-up
        runs = [await drive(conns, path, token, seconds, per_request) for _ in range(repeat)]
    finally:
        for conn in conns:
            if conn.transport is not None:
                conn.transport.close()
    latencies = [x for r in runs for x in r.latencies]
    statuses: Counter[object] = sum((r.statuses for r in runs), Counter())
    return {
        "plans_per_s": statistics.median(r.plans_per_s for r in runs),
        "runs": [round(r.plans_per_s) for r in runs],
        "p50_ms": pct(latencies, 0.50),
        "p99_ms": pct(latencies, 0.99),
        "requests": len(latencies),
        "statuses": dict(statuses),
    }


async def prepare_db(url: str) -> str:
    conn = await asyncpg.connect(url)
    try:
        await seed.apply(conn, seed.load())
        _, token = await registry.create_token(conn, "operator", "bench")
        return token
    finally:
        await conn.close()


def wait_ready(base: str, server: subprocess.Popen[bytes], timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError("gateway exited at start-up")
        try:
            with urllib.request.urlopen(base + "/readyz", timeout=2) as r:
                if r.status == 200:
                    return
        except OSError:
            time.sleep(0.2)
    raise TimeoutError("gateway not ready")


BUCKETS = [  # innermost match wins: where the gateway process spends its time
    ("kafka client (aiokafka)", "aiokafka"),
    ("database (asyncpg)", "asyncpg"),
    ("plan validation (schemas/)", "(schemas/"),
    ("pydantic parsing/serializing", "pydantic"),
    ("prometheus metrics", "prometheus_client"),
    ("ingest gateway code", "services/ingest"),
    ("FastAPI/Starlette routing, middleware", "starlette"),
    ("FastAPI", "fastapi"),
    ("uvicorn/httptools HTTP", "uvicorn"),
    ("asyncio event loop", "asyncio"),
]


def summarize_profile(raw: Path) -> list[str]:
    buckets: Counter[str] = Counter()
    leaves: Counter[str] = Counter()
    total = 0
    for line in raw.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        if not count.isdigit():
            continue
        n = int(count)
        total += n
        frames = stack.split(";")
        leaves[frames[-1]] += n
        for frame in reversed(frames):
            hit = next((name for name, key in BUCKETS if key in frame), None)
            if hit:
                buckets[hit] += n
                break
        else:
            buckets["other (idle, interpreter)"] += n
    lines = [f"  {100 * n / total:5.1f}%  {name}" for name, n in buckets.most_common()]
    lines.append("  top self-time frames:")
    lines += [f"  {100 * n / total:5.1f}%  {f[:110]}" for f, n in leaves.most_common(12)]
    return lines


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--seconds", type=float, default=8.0)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--clients", type=int, default=64)
    ap.add_argument("--batch", type=int, default=500)
    ap.add_argument("--batch-clients", type=int, default=8)
    ap.add_argument("--workers", type=int, default=1)
    ap.add_argument("--profile", action="store_true")
    ap.add_argument("--only", choices=["single", "batch"], default=None)
    ap.add_argument(
        "--against",
        metavar="DIR",
        help="also start the gateway from another source tree (e.g. `git archive REV | tar -x "
        "-C DIR`) and compare the two in alternating runs",
    )
    ap.add_argument(
        "--against-env",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="environment of the second gateway (this tree unless --against): compare settings",
    )
    args = ap.parse_args()
    uvloop.install()
    with tempfile.TemporaryDirectory() as tmp:
        stack = EmbeddedStack(Path(tmp))
        with stack as infra:
            serve_and_run(args, stack, infra, tmp)


def start_gateway(env: dict[str, str], port: int, src: str | None) -> subprocess.Popen[bytes]:
    """`python -m services.ingest` from this checkout, or from the tree at ``src``."""
    env = env | {"CHARGEFLOW_INGEST_PORT": str(port)}
    if src:
        env["PYTHONPATH"] = src
    return subprocess.Popen(
        [sys.executable, "-m", "services.ingest"], env=env, cwd=src, start_new_session=True
    )


def stop(server: subprocess.Popen[bytes]) -> None:
    server.terminate()
    try:
        server.wait(10)
    except subprocess.TimeoutExpired:
        server.kill()
        server.wait()


def serve_and_run(args: argparse.Namespace, stack: EmbeddedStack, infra: Any, tmp: str) -> None:
    migrate.upgrade(infra.database_url)
    token = asyncio.run(prepare_db(infra.database_url))
    env = os.environ | {
        "CHARGEFLOW_KAFKA_BOOTSTRAP": infra.kafka_bootstrap,
        "CHARGEFLOW_DATABASE_URL": infra.database_url,
        "CHARGEFLOW_INGEST_WORKERS": str(args.workers),
        "CHARGEFLOW_RATE_LIMIT_PER_S": "0",
        # the benchmark measures throughput, not the limits: all of them off (one token and
        # one address send everything)
        "CHARGEFLOW_RATE_LIMIT_PLANS_PER_S": "0",
        "CHARGEFLOW_RATE_LIMIT_BYTES_PER_S": "0",
        "CHARGEFLOW_ADDRESS_RATE_LIMIT_PER_S": "0",
        "CHARGEFLOW_BENCH_NOOP_ROUTE": "1",
        "CHARGEFLOW_CLOCK_SPEED": "0",
        "CHARGEFLOW_CLOCK_START": CLOCK,
        "CHARGEFLOW_LOG_LEVEL": "WARNING",
        "CHARGEFLOW_STATE_DIR": tmp,
    }
    port = free_port()
    server = start_gateway(env, port, None)
    servers = [server]
    base = f"http://127.0.0.1:{port}"
    try:
        wait_ready(base, server)
        pids = {
            "gateway": server.pid,
            "broker": stack.broker.pid if stack.broker else None,
            "postgres": stack.postgres.pid if stack.postgres else None,
            "load generator": os.getpid(),
        }
        if args.against or args.against_env:
            other_port = free_port()
            extra = dict(item.split("=", 1) for item in args.against_env)
            other_token = token
            if args.against:
                # The other tree gets a database of its own, migrated and seeded by its own
                # code: its registry queries may not know this tree's newer columns.
                url, other_token = other_database(infra.database_url, args.against)
                extra["CHARGEFLOW_DATABASE_URL"] = url
            other = start_gateway(env | extra, other_port, args.against)
            servers.append(other)
            wait_ready(f"http://127.0.0.1:{other_port}", other)
            against(
                args,
                {
                    "this tree": (base, pids, token),
                    "other": (
                        f"http://127.0.0.1:{other_port}",
                        pids | {"gateway": other.pid},
                        other_token,
                    ),
                },
            )
        else:
            run(args, base, token, server.pid, pids)
    finally:
        for s in servers:
            stop(s)


_PREPARE_OTHER = """
import asyncio, sys
import asyncpg
from services.common import migrate, registry
from services.devstack import seed

async def main(url):
    conn = await asyncpg.connect(url)
    try:
        await seed.apply(conn, seed.load())
        print(( await registry.create_token(conn, "operator", "bench"))[1])
    finally:
        await conn.close()

migrate.upgrade(sys.argv[1])
asyncio.run(main(sys.argv[1]))
"""


def other_database(url: str, src: str) -> tuple[str, str]:
    """A second database on the same server for the tree at ``src``: (its URL, a token)."""

    async def create() -> None:
        conn = await asyncpg.connect(url)
        try:
            await conn.execute("CREATE DATABASE chargeflow_against")
        finally:
            await conn.close()

    asyncio.run(create())
    other = url.rsplit("/", 1)[0] + "/chargeflow_against"
    env = os.environ | {"PYTHONPATH": src}
    out = subprocess.run(
        [sys.executable, "-c", _PREPARE_OTHER, other],
        env=env,
        cwd=src,
        check=True,
        capture_output=True,
        text=True,
    )
    return other, out.stdout.strip().splitlines()[-1]


def against(
    args: argparse.Namespace, targets: dict[str, tuple[str, dict[str, int | None], str]]
) -> None:
    """Two gateways (this tree and --against DIR) on the same stack, runs alternating, so
    that both see the same machine load: plans/s and gateway CPU per plan, medians."""
    print(
        f"A/B: this tree vs other = {args.against or 'this tree'} {args.against_env}; "
        f"{args.workers} worker(s) each; "
        f"{args.repeat} alternating runs x {args.seconds:g} s (each after a 2 s warm-up)"
    )
    print(f"load average (1/5/15 min) before the runs: {os.getloadavg()}")
    for label, path, clients, per in (
        ("single", "/charging-schedules/", args.clients, 1),
        (f"batch{args.batch}", "/charging-schedules/batch", args.batch_clients, args.batch),
    ):
        if args.only and not label.startswith(args.only):
            continue
        rows: dict[str, list[tuple[float, float, float]]] = {name: [] for name in targets}
        for _ in range(args.repeat):
            for name, (base, pids, token) in targets.items():
                r, _cores, us = measured_raw(
                    pids, scenario(base, path, token, clients, per, args.seconds, 1)
                )
                rows[name].append((float(r["plans_per_s"]), us, float(r["p99_ms"])))  # type: ignore[arg-type]
        for name, values in rows.items():
            rate = statistics.median(v[0] for v in values)
            cpu = statistics.median(v[1] for v in values)
            p99 = statistics.median(v[2] for v in values)
            runs = [round(v[0]) for v in values]
            print(
                f"{label:10} {name:10} plans/s {rate:7.0f} {runs!s:>24}  "
                f"gateway CPU/plan {cpu:5.0f} µs  p99 {p99:6.1f} ms"
            )
    print(f"load average (1/5/15 min) after the runs: {os.getloadavg()}")


def cpu_seconds(pids: dict[str, int | None]) -> dict[str, float]:
    """CPU time (user+system) of each process and its children (uvicorn workers, backends)."""
    out: dict[str, float] = {}
    for name, pid in pids.items():
        total = 0.0
        if pid is not None:
            root = psutil.Process(pid)
            procs = [root] + (root.children(recursive=True) if name != "load generator" else [])
            for proc in procs:
                with contextlib.suppress(psutil.Error):
                    times = proc.cpu_times()
                    total += times.user + times.system
        out[name] = total
    return out


def measured_raw(
    pids: dict[str, int | None], coro: Any
) -> tuple[dict[str, object], dict[str, float], float]:
    """Run a scenario; the CPU cores each process group used meanwhile (incl. warm-up) and
    the gateway's CPU time per stored plan in µs (the figure that depends least on how much
    CPU other tenants of the machine leave us)."""
    before, t0 = cpu_seconds(pids), time.monotonic()
    result = asyncio.run(coro)
    after, wall = cpu_seconds(pids), time.monotonic() - t0
    used = {k: (after[k] - before[k]) / wall for k in pids}
    per_plan = used["gateway"] / float(result["plans_per_s"]) * 1e6  # type: ignore[arg-type]
    return result, used, per_plan


def measured(pids: dict[str, int | None], coro: Any) -> tuple[dict[str, object], str]:
    result, used, per_plan = measured_raw(pids, coro)
    cores = ", ".join(f"{k} {v:.2f}" for k, v in used.items())
    return result, f"{cores}; gateway CPU per plan {per_plan:.0f} µs"


def run(
    args: argparse.Namespace, base: str, token: str, pid: int, pids: dict[str, int | None]
) -> None:
    print(
        f"setup: {os.cpu_count()} CPUs shared by load generator, gateway ({args.workers} "
        f"worker(s)), Tansu broker and PostgreSQL; plans of 2 stops + 2 bid steps "
        f"(~{len(one_plan())} B); acks=all; {args.repeat} runs x {args.seconds:g} s"
    )
    print(f"load average (1/5/15 min) before the runs: {os.getloadavg()}")
    rows = []
    cpu_rows: list[str] = []
    for label, clients, per in (
        ("single", args.clients, 1),
        (f"batch{args.batch}", args.batch_clients, args.batch),
    ):
        if args.only and not label.startswith(args.only):
            continue
        path = "/charging-schedules/" if per == 1 else "/charging-schedules/batch"
        gw, cores = measured(
            pids, scenario(base, path, token, clients, per, args.seconds, args.repeat)
        )
        noop, noop_cores = measured(
            pids, scenario(base, "/_bench/noop", token, clients, per, args.seconds, args.repeat)
        )
        rows.append((label, clients, gw, noop))
        cpu_rows.append(f"{label:10} CPU cores used (incl. warm-up): {cores}")
        cpu_rows.append(f"{label:10} no-op run, same figures: {noop_cores}")
    print(
        f"{'load':10} {'clients':>7} {'endpoint':9} {'plans/s':>9} {'runs':>24} "
        f"{'p50 ms':>8} {'p99 ms':>8}  statuses"
    )
    for label, clients, gw, noop in rows:
        for name, r in (("gateway", gw), ("no-op", noop)):
            print(
                f"{label:10} {clients:7} {name:9} {r['plans_per_s']:9.0f} "
                f"{r['runs']!s:>24} {r['p50_ms']:8.1f} {r['p99_ms']:8.1f}  {r['statuses']}"
            )
        ratio = float(gw["plans_per_s"]) / float(noop["plans_per_s"])  # type: ignore[arg-type]
        print(f"{label:10} ratio gateway/no-op = {ratio:.2f}")
    print("\n".join(cpu_rows))
    print(f"load average (1/5/15 min) after the runs: {os.getloadavg()}")
    if args.profile:
        profile(base, token, pid, args)


def profile(base: str, token: str, pid: int, args: argparse.Namespace) -> None:
    """Sample the gateway's GIL-holding thread (on-CPU Python) under each load."""
    seconds = int(args.seconds)
    spy_bin = str(Path(sys.executable).parent / "py-spy")
    for label, path, clients, per in (
        ("single-plan", "/charging-schedules/", args.clients, 1),
        (f"batch{args.batch}", "/charging-schedules/batch", args.batch_clients, args.batch),
    ):
        out = Path(tempfile.mkdtemp()) / "ingest.raw"
        cmd = [spy_bin, "record", "-p", str(pid), "-d", str(seconds), "-r", "250"]
        cmd += ["-f", "raw", "-o", str(out), "--nonblocking", "--gil"]
        spy = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        asyncio.run(scenario(base, path, token, clients, per, seconds, 1))
        spy.wait(30)
        print(f"profile of the gateway under {label} load (py-spy --gil, {seconds} s, raw: {out}):")
        print("\n".join(summarize_profile(out)) if out.exists() else "  (no py-spy output)")


if __name__ == "__main__":
    main()
