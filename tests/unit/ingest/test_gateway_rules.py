"""Pure parts of the gateway: event encoding, revision verdicts, gate closure, limits, locks."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, date, datetime, time

import orjson
import pytest

from schemas.events import PlanSubmitted
from schemas.parsing import parse_plan_event
from schemas.plan import ChargingPlan
from services.common.registry import MarketArea
from services.ingest.fastparse import parse_batch
from services.ingest.outcomes import (
    encode_many,
    encode_submitted,
    event_ids,
    late_errors,
    revision_verdict,
)
from services.ingest.revisions import PlanLocks, Recorded

PLAN = ChargingPlan.model_validate(
    {
        "plan_id": str(uuid.uuid4()),
        "revision": 2,
        "vehicle_id": "V001",
        "market_area": "PL",
        "delivery_day": "2026-03-29",
        "initial_soc_kwh": 5.0,
        "stops": [
            {
                "charging_point_id": "P1",
                "arrival": "2026-03-29T01:00:00+01:00",
                "departure": "2026-03-29T05:00:00+02:00",
                "trip_kwh_after": 1.5,
            }
        ],
        "bid": [{"energy_kwh": 10.0, "price_eur_mwh": 400.0}],
    }
)
NOW = datetime(2026, 3, 28, 10, 0, tzinfo=UTC)


def _recorded(
    revision: int, cancelled: bool = False, vehicle: str = "V001", day: date = PLAN.delivery_day
) -> Recorded:
    return Recorded(PLAN.plan_id, vehicle, "PL", day, revision, cancelled)


def test_encoded_event_is_a_valid_plan_submitted_with_the_same_plan():
    event, errors = parse_plan_event(encode_submitted(PLAN, NOW))
    assert errors == [] and isinstance(event, PlanSubmitted)
    assert event.to_plan() == PLAN
    assert event.occurred_at == NOW and event.source == "ingest"
    assert event.stops[0].departure.utcoffset().total_seconds() == 7200  # offsets kept (DST)


@pytest.mark.parametrize(
    ("recorded", "status", "loc"),
    [
        (None, None, None),
        (_recorded(1), None, None),
        (_recorded(2), 202, None),
        (_recorded(3), 409, "revision"),
        (_recorded(2, cancelled=True), 409, "revision"),
        (_recorded(1, cancelled=True), None, None),
        (_recorded(1, vehicle="V002"), 409, "vehicle_id"),
        (_recorded(1, day=date(2026, 3, 30)), 409, "delivery_day"),
    ],
)
def test_revision_verdicts(recorded, status, loc):
    verdict = revision_verdict(PLAN, recorded)
    if status is None:
        assert verdict is None  # publish it
    else:
        assert verdict is not None and verdict.status == status
        assert [e.loc for e in verdict.errors] == ([loc] if loc else [])


def test_gate_closure_uses_the_area_timezone_and_local_time():
    area = MarketArea("PL", "Europe/Warsaw", 60, time(12, 0))
    day = date(2026, 3, 29)  # gate closure 2026-03-28T12:00+01:00 = 11:00 UTC
    assert late_errors(area, day, datetime(2026, 3, 28, 10, 59, 59, tzinfo=UTC)) == []
    [error] = late_errors(area, day, datetime(2026, 3, 28, 11, 0, tzinfo=UTC))
    assert error.reason == "gate closure for 2026-03-29 passed at 2026-03-28T12:00:00+01:00"
    helsinki = MarketArea("FI", "Europe/Helsinki", 60, time(12, 0))
    assert late_errors(helsinki, day, datetime(2026, 3, 28, 10, 30, tzinfo=UTC)) != []


async def test_plan_locks_serialize_the_same_plan_only():
    locks = PlanLocks()
    a, b = uuid.uuid4(), uuid.uuid4()
    order: list[str] = []

    async def hold(name: str, ids: list[uuid.UUID], pause: float) -> None:
        async with locks.hold(ids):
            order.append(f"{name}+")
            await asyncio.sleep(pause)
            order.append(f"{name}-")

    await asyncio.gather(hold("x", [a], 0.05), hold("y", [a, b], 0.0), hold("z", [b], 0.0))
    assert order.index("x-") < order.index("y+")  # y waits for x (same plan a)
    assert order.index("z+") < order.index("x-")  # z (plan b) does not wait for x


def test_event_ids_are_distinct_version_4_uuids_as_text():
    ids = event_ids(2000)
    assert len(set(ids)) == 2000
    for text in ids:
        u = uuid.UUID(text.decode())
        assert (u.version, u.variant, str(u).encode()) == (4, uuid.RFC_4122, text)


def test_encoded_events_of_fast_parsed_plans_carry_the_same_plan():
    [fast] = parse_batch(orjson.dumps({"plans": [PLAN.model_dump(mode="json")]}))
    values = encode_many([fast, PLAN], NOW)
    events = [parse_plan_event(v)[0] for v in values]
    assert all(isinstance(e, PlanSubmitted) and e.to_plan() == PLAN for e in events)
    assert events[0].event_id != events[1].event_id
    assert values[0][values[0].index(b'"plan_id"') :] == values[1][values[1].index(b'"plan_id"') :]
