"""Direct producers on the real broker: a plan read from ``charging-plans.direct.U`` is used
only for U's own vehicles; a forged one goes to that topic's DLQ and nobody else hears of it
(DESIGN §4 Access, docs/aggregator.md "Direct producers")."""

from __future__ import annotations

import asyncio
import base64
import time as clock_time
import uuid
from datetime import date, datetime, time

import orjson
import pytest
from aiokafka.admin import AIOKafkaAdminClient

from schemas.market_day import zone
from services.aggregator.direct import direct_topic
from services.aggregator.topics import Names
from services.aggregator.worker import Worker
from services.common.clock import Clock
from services.common.dlq import dlq_topic
from services.common.kafka import TopicSpec, ensure_topics
from tests.integration.aggregator.fleet import (
    cancel,
    config,
    market_service,
    plan,
    read_until,
    send_all,
    settings,
)

pytestmark = pytest.mark.integration

DAY = date(2026, 11, 26)
TZ = zone("Europe/Warsaw")
BEFORE = datetime.combine(date(2026, 11, 25), time(10), tzinfo=TZ)
AFTER = datetime.combine(date(2026, 11, 25), time(12, 0, 1), tzinfo=TZ)


async def wait_for_topic(bootstrap: str, topic: str, wait_s: float = 30.0) -> None:
    """Until ``topic`` exists (read_until cannot wait for a topic created after it starts)."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        deadline = clock_time.monotonic() + wait_s
        while topic not in await admin.list_topics():
            assert clock_time.monotonic() < deadline, f"{topic} was not created in {wait_s} s"
            await asyncio.sleep(0.2)
    finally:
        await admin.close()


async def test_forged_plan_goes_to_the_dlq_and_the_owners_plan_clears(
    kafka_bootstrap, prefix, producer, tasks
):
    n = Names(prefix)
    cfg = config(days=[DAY])
    # V001 is the fleet's, V050 is mallory's own.
    owners = {v.id: "fleet-a" for v in cfg.vehicles} | {"V050": "mallory"}
    cfg = cfg.model_copy(update={"vehicle_owners": owners})
    fleet_topic, mallory_topic = direct_topic(n.plans, "fleet-a"), direct_topic(n.plans, "mallory")
    await ensure_topics(kafka_bootstrap, (TopicSpec(fleet_topic), TopicSpec(mallory_topic)), 2)
    await send_all(producer, n.config, [(b"PL", cfg.model_dump_json().encode())])

    victims = plan(1, DAY)
    forged = orjson.dumps(victims)
    forged_cancel = orjson.dumps(cancel(victims, rev=1))
    own = plan(50, DAY)
    await send_all(producer, mallory_topic, [(b"V001", forged), (b"V001", forged_cancel)])
    await send_all(producer, mallory_topic, [(b"V050", orjson.dumps(own))])
    await send_all(producer, fleet_topic, [(b"V001", forged)])  # the very same bytes

    clock = Clock.fixed(BEFORE)
    tasks(Worker(settings(kafka_bootstrap, prefix), clock).run())
    tasks(market_service(kafka_bootstrap, prefix, clock).run())

    # The aggregator creates the producer's dead-letter topic on its first refusal.
    await wait_for_topic(kafka_bootstrap, dlq_topic(mallory_topic))
    letters = await read_until(kafka_bootstrap, dlq_topic(mallory_topic), lambda v: len(v) >= 2)
    assert {base64.b64decode(d["value_b64"]) for d in letters} == {forged, forged_cancel}
    for letter in letters:
        assert letter["topic"] == mallory_topic
        assert letter["vehicle_id"] == "V001"
        assert letter["reasons"][0] == {
            "loc": "vehicle_id",
            "reason": "vehicle 'V001' is not registered to 'mallory'",
        }

    clock.set(AFTER)
    decisions = await read_until(
        kafka_bootstrap, n.decisions, lambda v: len([d for d in v if d["phase"] == 2]) >= 2, 60
    )
    by_plan = {}
    for d in decisions:
        by_plan.setdefault(d["plan_id"], []).append(d)
    # The fleet's plan cleared (the forged cancellation did not withdraw it), and its
    # vehicle got exactly its own decision: nothing about mallory's forgery.
    fleet_decisions = by_plan[victims["plan_id"]]
    assert [d["status"] for d in fleet_decisions] == ["accepted"]
    assert fleet_decisions[0]["accepted_kwh"] > 0
    # Mallory's plan for her own vehicle is an ordinary plan.
    assert [d["status"] for d in by_plan[own["plan_id"]]] == ["accepted"]
    assert set(by_plan) == {victims["plan_id"], own["plan_id"]}


async def test_someone_elses_plan_id_cannot_take_their_plan_over(
    kafka_bootstrap, prefix, producer, tasks
):
    """Mallory learnt the fleet's plan_id and sends a higher revision of it for her own
    vehicle, and a cancellation of it, from her own topic: both are refused by the owner of
    the day (the plan_id is taken), the fleet's plan clears untouched."""
    n = Names(prefix)
    cfg = config(days=[DAY])
    owners = {v.id: "fleet-a" for v in cfg.vehicles} | {"V050": "mallory"}
    cfg = cfg.model_copy(update={"vehicle_owners": owners})
    mallory_topic = direct_topic(n.plans, "mallory")
    await ensure_topics(kafka_bootstrap, (TopicSpec(mallory_topic),), 2)
    await send_all(producer, n.config, [(b"PL", cfg.model_dump_json().encode())])
    victims = plan(1, DAY)  # V001, the fleet's, through ingest (charging-plans)
    await send_all(producer, n.plans, [(b"V001", orjson.dumps(victims))])
    takeover = plan(50, DAY, rev=5, plan_id=uuid.UUID(victims["plan_id"]))  # V050, hers
    takeover_cancel = cancel(takeover, rev=6)

    clock = Clock.fixed(BEFORE)
    tasks(Worker(settings(kafka_bootstrap, prefix), clock).run())
    tasks(market_service(kafka_bootstrap, prefix, clock).run())
    await read_until(kafka_bootstrap, n.changelog, lambda v: len(v) >= 1, 30, bytes)
    await send_all(
        producer,
        mallory_topic,
        [(b"V050", orjson.dumps(takeover)), (b"V050", orjson.dumps(takeover_cancel))],
    )
    letters = await read_until(kafka_bootstrap, f"{n.by_day}.dlq", lambda v: len(v) >= 2, 60)
    assert [r["reasons"][0]["loc"] for r in letters] == ["plan_id", "plan_id"]
    assert all("taken by another vehicle" in r["reasons"][0]["reason"] for r in letters)
    assert all("V001" not in r["reasons"][0]["reason"] for r in letters)

    clock.set(AFTER)
    decisions = await read_until(
        kafka_bootstrap, n.decisions, lambda v: any(d["phase"] == 2 for d in v), 60
    )
    final = [d for d in decisions if d["phase"] == 2]
    assert [(d["plan_id"], d["vehicle_id"], d["status"]) for d in final] == [
        (victims["plan_id"], "V001", "accepted")
    ]
