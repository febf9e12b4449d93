"""Broker down mid-test: never 202 for an unstored plan, and it does not appear later.

Uses its own embedded broker (the shared one stays up for the other tests).
"""

from __future__ import annotations

import asyncio
import time

import pytest
from aiokafka import AIOKafkaConsumer

from services.common.kafka import TopicSpec, ensure_topics
from services.devstack.embedded import EmbeddedBroker
from tests.integration.ingest.conftest import auth, plan
from tests.integration.ingest.helpers import read_events

pytestmark = pytest.mark.integration
URL = "/charging-schedules/"
TOPIC = "charging-plans"


async def test_broker_down_gets_503_and_the_plan_never_appears(make_gateway, tokens, tmp_path):
    broker = EmbeddedBroker(tmp_path / "logs")
    restarted: EmbeddedBroker | None = None
    consumer: AIOKafkaConsumer | None = None
    try:
        bootstrap = await asyncio.to_thread(broker.start)
        client, _ = await make_gateway(
            kafka_bootstrap=bootstrap, plans_topic=TOPIC, publish_timeout_s=1.5
        )
        headers = auth(tokens["fleet-demo"])
        assert (await client.post(URL, json=plan("V002"), headers=headers)).status_code == 202

        broker.stop()
        lost = plan("V003")
        started = time.monotonic()
        response = await client.post(URL, json=lost, headers=headers)
        assert response.status_code == 503, response.text
        assert time.monotonic() - started < 8  # publish timeout 1.5 s, ack wait bound 4 s
        assert response.headers["content-type"] == "application/problem+json"
        assert int(response.headers["retry-after"]) >= 1
        assert (await client.get("/readyz")).status_code == 503

        # Same port, empty memory storage: anything still queued in the producer would land.
        restarted = EmbeddedBroker(tmp_path / "logs", port=broker.port)
        await asyncio.to_thread(restarted.start)
        await ensure_topics(bootstrap, (TopicSpec(TOPIC),), partitions=4)
        later = plan("V004")
        deadline = time.monotonic() + 30
        while (await client.post(URL, json=later, headers=headers)).status_code != 202:
            assert time.monotonic() < deadline, "gateway did not recover"
            await asyncio.sleep(0.5)

        consumer = AIOKafkaConsumer(
            TOPIC, bootstrap_servers=bootstrap, auto_offset_reset="earliest"
        )
        await consumer.start()
        events = await read_events(consumer, 1, settle_s=2.0)
        assert [str(e.plan_id) for _, e in events] == [later["plan_id"]]
        # Nothing was recorded for the 503 plan, so its retry is accepted normally.
        assert (await client.post(URL, json=lost, headers=headers)).status_code == 202
    finally:
        if consumer is not None:
            await consumer.stop()
        for b in (restarted, broker):
            if b is not None:
                b.stop()
