"""The embedded broker speaks enough Kafka for us: produce acks=all, consume, validate."""

from __future__ import annotations

import asyncio
import json
import uuid
from datetime import date

import pytest

from schemas.events import PlanSubmitted
from schemas.parsing import parse_plan_event

pytestmark = pytest.mark.integration


def _plan() -> dict[str, object]:
    return {
        "plan_id": str(uuid.uuid4()),
        "revision": 1,
        "vehicle_id": "V001",
        "market_area": "PL",
        "delivery_day": "2026-11-26",
        "initial_soc_kwh": 12.0,
        "stops": [
            {
                "charging_point_id": "P-WORK-01",
                "arrival": "2026-11-26T08:00:00+01:00",
                "departure": "2026-11-26T16:30:00+01:00",
                "trip_kwh_after": 6.0,
            }
        ],
        "bid": [{"energy_kwh": 10.0, "price_eur_mwh": 400.0}],
    }


async def test_plan_roundtrip_through_broker_is_lossless(topic_factory, producer, consumer_factory):
    topic = await topic_factory("charging-plans", partitions=3)
    sent = PlanSubmitted.model_validate({**_plan(), "source": "direct"})
    await producer.send_and_wait(topic, sent.model_dump_json().encode(), key=b"V001")
    consumer = await consumer_factory(topic)
    record = await asyncio.wait_for(consumer.getone(), timeout=20)
    received, errors = parse_plan_event(record.value)
    assert errors == []
    assert record.key == b"V001"
    assert received == sent
    assert isinstance(received, PlanSubmitted)
    assert received.delivery_day == date(2026, 11, 26)


async def test_invalid_event_is_reported_with_field_paths(
    topic_factory, producer, consumer_factory
):
    topic = await topic_factory("charging-plans")
    bad = {**_plan(), "event_type": "PlanSubmitted", "schema_version": 2}
    bad["stops"] = [{**bad["stops"][0], "arrival": "2026-11-26T08:00:00"}]  # naive
    await producer.send_and_wait(topic, json.dumps(bad).encode(), key=b"V001")
    consumer = await consumer_factory(topic)
    record = await asyncio.wait_for(consumer.getone(), timeout=20)
    event, errors = parse_plan_event(record.value)
    assert event is None
    locs = {e.loc for e in errors}
    assert "schema_version" in locs
    assert "stops[0].arrival" in locs


async def test_committed_offsets_survive_a_new_consumer(topic_factory, producer, consumer_factory):
    topic = await topic_factory("offsets")
    for i in range(5):
        await producer.send_and_wait(topic, json.dumps({"i": i}).encode())
    group = f"g-{uuid.uuid4().hex[:6]}"
    first = await consumer_factory(topic, group_id=group)
    batch = await first.getmany(timeout_ms=10_000, max_records=3)
    seen = [json.loads(r.value)["i"] for records in batch.values() for r in records]
    assert seen == [0, 1, 2]
    await first.commit()
    await first.stop()
    second = await consumer_factory(topic, group_id=group)
    record = await asyncio.wait_for(second.getone(), timeout=20)
    assert json.loads(record.value)["i"] == 3
