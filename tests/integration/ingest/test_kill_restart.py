"""SIGKILL the gateway process mid-load, restart it, let clients retry: nothing is lost.

Every plan answered 202 before the kill is on the topic; after the restart every plan is
resubmitted (same plan_id + revision, as a client would) and accepted; the topic then holds
every plan, and the only duplicates are same plan_id+revision records (deduped downstream).
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time

import httpx
import pytest

from services.devstack.children import free_port
from tests.integration.ingest.conftest import auth, plan
from tests.integration.ingest.helpers import read_events

pytestmark = pytest.mark.integration


def _start(env: dict[str, str]) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "services.ingest"],
        env=env,
        start_new_session=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


async def _ready(client: httpx.AsyncClient, proc: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        assert proc.poll() is None, "gateway exited"
        try:
            if (await client.get("/readyz")).status_code == 200:
                return
        except httpx.TransportError:
            pass
        await asyncio.sleep(0.2)
    raise TimeoutError("gateway not ready")


async def test_sigkill_mid_load_then_retries_lose_nothing(
    kafka_bootstrap, database_url, topic_factory, tokens, consumer_factory
):
    topic = await topic_factory("plans-kill", 2)
    port = free_port()
    env = os.environ | {
        "CHARGEFLOW_KAFKA_BOOTSTRAP": kafka_bootstrap,
        "CHARGEFLOW_DATABASE_URL": database_url,
        "CHARGEFLOW_PLANS_TOPIC": topic,
        "CHARGEFLOW_INGEST_PORT": str(port),
        "CHARGEFLOW_RATE_LIMIT_PER_S": "0",
        "CHARGEFLOW_CLOCK_SPEED": "0",
        "CHARGEFLOW_CLOCK_START": "2026-11-25T08:00:00+00:00",
        "CHARGEFLOW_LOG_LEVEL": "WARNING",
    }
    plans = [plan(f"V{i % 20 + 1:03d}", initial_soc_kwh=1.0) for i in range(300)]
    headers = auth(tokens["operator"])
    acked: set[str] = set()
    enough = asyncio.Event()
    procs = [_start(env)]
    try:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=10) as client:
            await _ready(client, procs[0])

            async def submit(body: dict) -> None:
                try:
                    response = await client.post("/charging-schedules/", json=body, headers=headers)
                except httpx.TransportError:
                    return  # the gateway died under this request: the client will retry
                if response.status_code == 202:
                    acked.add(body["plan_id"])
                    if len(acked) >= 60:
                        enough.set()

            async def killer() -> None:
                await enough.wait()
                procs[0].send_signal(signal.SIGKILL)

            await asyncio.gather(killer(), *(submit(p) for p in plans))
            procs[0].wait(10)
            assert 60 <= len(acked) < len(plans), "the kill should land mid-load"

            procs.append(_start(env))
            await _ready(client, procs[1])
            for body in plans:  # clients retry everything not confirmed (and some confirmed)
                response = await client.post("/charging-schedules/", json=body, headers=headers)
                assert response.status_code == 202, response.text

        consumer = await consumer_factory(topic)
        events = await read_events(consumer, len(plans), settle_s=1.0, timeout_s=30)
        seen = {(str(e.plan_id), e.revision) for _, e in events}
        assert seen == {(p["plan_id"], 1) for p in plans}  # none lost, nothing else
        assert {p for p, _ in seen} >= acked
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.kill()
            proc.wait(10)
