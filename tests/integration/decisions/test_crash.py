"""SIGKILL the running service mid-stream: after a restart every decision is there once."""

from __future__ import annotations

import asyncio
import os
import re
import signal
import subprocess
import sys
import uuid

import httpx
import pytest

from services.devstack.children import free_port
from tests.integration.decisions.conftest import eventually
from tests.unit.decisions.factories import decision

pytestmark = pytest.mark.integration

PLANS = 600


def _spawn(
    kafka_bootstrap: str, database_url: str, prefix: str, port: int
) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "CHARGEFLOW_KAFKA_BOOTSTRAP": kafka_bootstrap,
        "CHARGEFLOW_DATABASE_URL": database_url,
        "CHARGEFLOW_DECISIONS_TOPIC_PREFIX": prefix,
        "CHARGEFLOW_DECISIONS_CONSUMER": prefix,
        "CHARGEFLOW_DECISIONS_PORT": str(port),
        "CHARGEFLOW_DECISIONS_BATCH_MAX": "25",  # many small transactions to kill in between
        "CHARGEFLOW_DECISIONS_SESSION_TIMEOUT_MS": "1000",
        "CHARGEFLOW_DECISIONS_HEARTBEAT_MS": "200",
        "CHARGEFLOW_LOG_LEVEL": "WARNING",
    }
    return subprocess.Popen([sys.executable, "-m", "services.decisions"], env=env)


async def _committed(pool, prefix: str) -> int:
    value = await pool.fetchval(
        "SELECT coalesce(sum(next_offset), 0) FROM consumed_offsets WHERE consumer = $1", prefix
    )
    return int(value)


async def test_sigkill_between_batches_loses_and_doubles_nothing(
    kafka_bootstrap, database_url, pool, producer, topics
):
    plans = [uuid.uuid4() for _ in range(PLANS)]
    events = [decision(f"V{i % 20 + 1:03d}", plan_id=p, revision=1) for i, p in enumerate(plans)]
    events += [decision(f"V{i % 20 + 1:03d}", plan_id=p, revision=2,
                        energies={("P-HWY-01", 5): 2.0}) for i, p in enumerate(plans)]  # fmt: skip
    for e in events:
        await producer.send(
            topics.decisions, e.model_dump_json().encode(), key=e.vehicle_id.encode()
        )
    await producer.flush()
    total = len(events)

    port = free_port()
    first = _spawn(kafka_bootstrap, database_url, topics.prefix, port)
    try:
        deadline = asyncio.get_running_loop().time() + 60
        while await _committed(pool, topics.prefix) == 0:
            assert asyncio.get_running_loop().time() < deadline, "first process consumed nothing"
            await asyncio.sleep(0.005)
        first.send_signal(signal.SIGKILL)
        first.wait(timeout=10)
    finally:
        if first.poll() is None:
            first.kill()
            first.wait()
    at_kill = await _committed(pool, topics.prefix)
    assert 0 < at_kill < total, "kill the process mid-stream (make the test data bigger)"

    second = _spawn(kafka_bootstrap, database_url, topics.prefix, port)
    try:

        async def done() -> bool:
            return await _committed(pool, topics.prefix) == total

        await eventually(done, within=60)
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as http:
            metrics = (await http.get("/metrics")).text
    finally:
        second.send_signal(signal.SIGTERM)
        try:
            second.wait(timeout=15)
        except subprocess.TimeoutExpired:
            second.kill()
            second.wait()

    rows = await pool.fetch(
        "SELECT d.plan_id, d.revision, count(a.*) AS n FROM schedule_decisions d "
        "LEFT JOIN decision_allocations a USING (plan_id) WHERE d.plan_id = ANY($1) "
        "GROUP BY d.plan_id, d.revision",
        plans,
    )
    assert len(rows) == PLANS
    assert {(r["revision"], r["n"]) for r in rows} == {(2, 1)}
    # The restarted process applied exactly what the killed one had not committed.
    topic = re.escape(topics.decisions)
    pattern = rf'chargeflow_events_consumed_total{{service="decisions",topic="{topic}"}} (\S+)'
    match = re.search(pattern, metrics)
    assert match is not None, metrics[:2000]
    assert float(match.group(1)) == total - at_kill
