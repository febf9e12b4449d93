"""`CHARGEFLOW_DECISIONS_WORKERS=2`: two processes on one port, each a full replica."""

from __future__ import annotations

import os
import signal
import subprocess
import sys

import httpx
import psutil
import pytest

from services.devstack.children import free_port
from tests.integration.decisions.conftest import eventually
from tests.unit.decisions.factories import decision

pytestmark = pytest.mark.integration

PLANS = 300


async def test_two_worker_processes_serve_and_apply_every_decision_once(
    kafka_bootstrap, database_url, pool, producer, topics
):
    events = [decision(f"V{i % 20 + 1:03d}") for i in range(PLANS)]
    for e in events:
        await producer.send(topics.decisions, e.model_dump_json().encode(),
                            key=e.vehicle_id.encode())  # fmt: skip
    await producer.flush()
    port = free_port()
    env = {
        **os.environ,
        "CHARGEFLOW_KAFKA_BOOTSTRAP": kafka_bootstrap,
        "CHARGEFLOW_DATABASE_URL": database_url,
        "CHARGEFLOW_DECISIONS_TOPIC_PREFIX": topics.prefix,
        "CHARGEFLOW_DECISIONS_CONSUMER": topics.prefix,
        "CHARGEFLOW_DECISIONS_PORT": str(port),
        "CHARGEFLOW_DECISIONS_WORKERS": "2",
        "CHARGEFLOW_DECISIONS_BATCH_MAX": "20",
        "CHARGEFLOW_DECISIONS_SESSION_TIMEOUT_MS": "1000",
        "CHARGEFLOW_DECISIONS_HEARTBEAT_MS": "200",
        "CHARGEFLOW_LOG_LEVEL": "WARNING",
    }
    proc = subprocess.Popen([sys.executable, "-m", "services.decisions"], env=env)  # noqa: ASYNC220
    try:

        async def consumed() -> bool:
            n = await pool.fetchval(
                "SELECT coalesce(sum(next_offset), 0) FROM consumed_offsets WHERE consumer = $1",
                topics.prefix,
            )
            return int(n) == PLANS

        await eventually(consumed, within=60)
        rows = await pool.fetchval(
            "SELECT count(*) FROM schedule_decisions WHERE plan_id = ANY($1)",
            [e.plan_id for e in events],
        )
        assert rows == PLANS
        workers = [
            c for c in psutil.Process(proc.pid).children() if "spawn_main" in " ".join(c.cmdline())
        ]
        assert len(workers) == 2
        for _ in range(10):  # a new connection each time: either worker may answer
            async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as http:
                assert (await http.get("/healthz")).status_code == 200
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
