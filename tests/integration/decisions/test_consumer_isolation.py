"""No single record stops the decisions consumer (issue 10, item 2), on the real broker and
PostgreSQL: every poison record found in the consumer's paths (parsing, building rows, the
database or its driver refusing a value, the gate-closure metric after the commit) is
placed between honest records; the honest ones are stored, each poison one is on the DLQ
of its topic with its reason, counted, and the consumer is still running.
"""

from __future__ import annotations

import asyncio
import base64
import json
import uuid
from collections.abc import AsyncIterator, Callable
from typing import Any

import orjson
import pytest
from prometheus_client import REGISTRY

from schemas.events import PlanSubmitted
from schemas.plan import BidStep, Stop
from services.common import registry
from services.common.dlq import dead_letter_id, dlq_topic
from services.decisions import store
from services.decisions.deadletters import DeadLetterFailure
from tests.integration.decisions.conftest import Topics, eventually
from tests.unit.decisions.factories import DAY, cleared, decision, mtus

pytestmark = pytest.mark.integration

FAR = "9999-12-31T23:00:00-05:00"  # valid ISO 8601 with an offset; in UTC it is year 10000


def _patched(model: Any, **fields: Any) -> bytes:
    body = json.loads(model.model_dump_json())
    body.update(fields)
    return json.dumps(body).encode()  # json.dumps writes NaN and Infinity as JSON literals


def _plan(**fields: Any) -> bytes:
    stop = Stop(charging_point_id="P-HOME-01", arrival=mtus()[1], departure=mtus()[6])
    plan = PlanSubmitted(plan_id=uuid.uuid4(), revision=1, vehicle_id="V003", market_area="PL",
                         delivery_day=DAY, stops=[stop],
                         bid=[BidStep(energy_kwh=10, price_eur_mwh=300)])  # fmt: skip
    return _patched(plan, **fields)


def _decision(**fields: Any) -> bytes:
    return _patched(decision(), **fields)


def _run(**fields: Any) -> bytes:
    return _patched(cleared(area=f"T{uuid.uuid4().hex[:6]}"), **fields)


# A value the checks when parsing know nothing about but the database refuses (a constraint
# the `refusing_database` fixture adds): found when written, isolated under savepoints.
REFUSED_VEHICLE = "V-REFUSED-BY-THE-DATABASE"

# name -> (topic kind, value, fragments of which the dead letter's reasons contain one).
# The fragments name the field: whether `services.common.usable` or the schema's own bounds
# refuse the value when it is parsed, the field is the same.
POISON: dict[str, tuple[str, Callable[[], bytes | None], tuple[str, ...]]] = {
    "invalid JSON": ("decisions", lambda: b"{not json", ("invalid JSON",)),
    "empty value": ("decisions", lambda: None, ("empty record value",)),
    "a 1000-character unknown field": (
        "decisions",
        lambda: _decision(**{"x" * 1000: 1}),
        ("x" * 256 + ": unknown field",),
    ),
    "NaN": (
        "decisions",
        lambda: _decision(cost_eur=float("nan")),
        ("cost_eur",),
    ),
    "1e400": (
        "decisions",
        lambda: _decision(requested_kwh=1.5).replace(b"1.5", b"1e400"),
        ("requested_kwh",),
    ),
    "revision beyond int4": (
        "decisions",
        lambda: _decision(revision=2**31),
        ("revision",),
    ),
    "revision beyond int64": (
        "decisions",
        lambda: _decision(revision=10**30),
        ("revision",),
    ),
    "NUL in vehicle_id": (
        "decisions",
        lambda: _decision(vehicle_id="V\u0000"),
        ("vehicle_id",),
    ),
    "time past year 9999 in UTC": (
        "decisions",
        lambda: _decision(occurred_at=FAR),
        ("occurred_at",),
    ),
    "allocation past year 9999": (
        "decisions",
        lambda: _decision(
            allocations=[{"charging_point_id": "P-HOME-01", "mtu_start": FAR, "energy_kwh": 1.0}],
            accepted_kwh=1.0,
        ),
        ("allocations[0].mtu_start",),
    ),
    "run: plans_total beyond int4": (
        "results",
        lambda: _run(plans_total=2**31),
        ("plans_total",),
    ),
    "run: NaN welfare": ("results", lambda: _run(welfare_eur=float("nan")), ("welfare_eur",)),
    "run: NUL in run_id": (
        "results",
        lambda: _run(run_id="r\u0000"),
        ("run_id",),
    ),
    "run: MTU past year 9999": (
        "results",
        lambda: _run(mtu_starts=[FAR], prices_eur_mwh=[90.0], nodes=[]),
        ("mtu_starts[0]",),
    ),
    "plan: revision beyond int4": (
        "plans",
        lambda: _plan(revision=2**31),
        ("revision",),
    ),
    "plan: infinite trip": (
        "plans",
        lambda: _plan().replace(b'"trip_kwh_after": 0.0', b'"trip_kwh_after": 1e400'),
        ("trip_kwh_after",),
    ),
    "plan: bid summing to infinity": (
        "plans",
        lambda: _plan(
            bid=[
                {"energy_kwh": 1e308, "price_eur_mwh": 300},
                {"energy_kwh": 1e308, "price_eur_mwh": 200},
            ]
        ),
        ("bid",),  # too large for the schema, or its sum overflows when the row is built
    ),
    "plan: refused by a database constraint": (
        "plans",
        lambda: _plan(vehicle_id=REFUSED_VEHICLE),
        ("rejected by the database", "violates check constraint"),
    ),
    "plan: NUL in a stop's point": (
        "plans",
        lambda: _plan().replace(b'"P-HOME-01"', b'"P\\u0000"'),
        ("stops[0].charging_point_id",),
    ),
}


def _match(reasons: list[dict[str, str]], fragment: str) -> bool:
    """`fragment` is part of the reasons written as "loc: reason; ..." (or "reason")."""
    text = "; ".join(f"{r['loc']}: {r['reason']}" if r["loc"] else r["reason"] for r in reasons)
    return fragment in text


async def _read(consumer_factory: Any, topic: str, n: int, within: float = 30) -> list[dict]:
    """The first n records of a topic (from the beginning), decoded."""
    consumer = await consumer_factory(topic)
    found: list[dict] = []
    deadline = asyncio.get_running_loop().time() + within
    while len(found) < n:
        assert asyncio.get_running_loop().time() < deadline, f"{len(found)}/{n} on {topic}"
        for records in (await consumer.getmany(timeout_ms=200)).values():
            found += [orjson.loads(r.value) for r in records]
    return found


async def _consumed(pool: Any, name: str) -> int:
    value = await pool.fetchval(
        "SELECT coalesce(sum(next_offset), 0) FROM consumed_offsets WHERE consumer = $1", name
    )
    return int(value)


def _dlq_count(topic: str) -> float:
    value = REGISTRY.get_sample_value(
        "chargeflow_dlq_events_total", {"service": "decisions", "topic": topic}
    )
    assert value is not None, f"chargeflow_dlq_events_total has no series for {topic}"
    return value


@pytest.fixture
async def refusing_database(pool: Any) -> AsyncIterator[None]:
    name = f"test_refuse_{uuid.uuid4().hex[:8]}"
    await pool.execute(
        f"ALTER TABLE plans ADD CONSTRAINT {name} CHECK (vehicle_id <> '{REFUSED_VEHICLE}') "
        "NOT VALID"
    )
    yield
    await pool.execute(f"ALTER TABLE plans DROP CONSTRAINT {name}")


async def test_each_poison_record_goes_to_the_dlq_of_its_topic_and_the_honest_ones_are_stored(
    pool, producer, topics, refusing_database, start_consumer, consumer_factory
):
    topic_of = {"decisions": topics.decisions, "results": topics.results, "plans": topics.plans}
    honest = [decision(f"V{i:03d}") for i in range(1, 9)]
    honest.append(decision(area="NOWHERE"))  # an area nobody registered: stored all the same
    runs = [cleared(area=f"T{uuid.uuid4().hex[:6]}") for _ in range(3)]
    sent: dict[bytes | None, str] = {}
    honest_iter = iter(honest)
    for name, (kind, make, _) in POISON.items():
        value = make()
        sent[value] = name
        await producer.send(topic_of[kind], value, key=name.encode())
        good = next(honest_iter, None)  # interleaved: honest, poison, honest, ...
        if good is not None:
            await producer.send(topics.decisions, good.model_dump_json().encode(), key=b"V")
    for good in honest_iter:
        await producer.send(topics.decisions, good.model_dump_json().encode(), key=b"V")
    for run in runs:
        await producer.send(topics.results, run.model_dump_json().encode(), key=b"A/D")
    plan = _plan()
    await producer.send(topics.plans, plan, key=b"V003")
    await producer.flush()
    total = len(POISON) + len(honest) + len(runs) + 1

    _, task = await start_consumer()
    for topic in topic_of.values():  # initialised series, before any dead letter
        _dlq_count(topic)
    await eventually(lambda: _consumed_is(pool, topics.prefix, total), within=40)

    assert not task.done(), task.exception() if task.done() else None
    letters = []
    for kind, topic in topic_of.items():
        n = sum(1 for k, _, _ in POISON.values() if k == kind)
        found = await _read(consumer_factory, dlq_topic(topic), n)
        assert all(d["topic"] == topic for d in found)
        assert _dlq_count(topic) == n  # a fresh topic: counted from zero
        letters += found
    by_name = {sent[base64.b64decode(d["value_b64"]) or None]: d for d in letters}
    assert set(by_name) == set(POISON)
    for name, (_, _, fragments) in POISON.items():
        letter = by_name[name]
        assert any(_match(letter["reasons"], f) for f in fragments), (name, letter["reasons"])
        assert base64.b64decode(letter["key_b64"]) == name.encode()
        assert letter["event_id"] == str(
            dead_letter_id(letter["topic"], letter["partition"], letter["offset"])
        )
    stored = await pool.fetch(
        "SELECT plan_id FROM schedule_decisions WHERE plan_id = ANY($1)",
        [d.plan_id for d in honest],
    )
    assert len(stored) == len(honest)
    n_runs = await pool.fetchval(
        "SELECT count(*) FROM auction_runs WHERE market_area = ANY($1)",
        [r.market_area for r in runs],
    )
    assert n_runs == len(runs)
    plan_id = uuid.UUID(json.loads(plan)["plan_id"])
    assert await pool.fetchval("SELECT count(*) FROM plans WHERE plan_id = $1", plan_id) == 1
    refused = await pool.fetchval(
        "SELECT count(*) FROM consume_errors WHERE consumer = $1", topics.prefix
    )
    assert refused == len(POISON)


async def test_a_day_without_a_day_before_does_not_stop_the_consumer(
    pool, producer, topics, start_consumer, consumer_factory
):
    """A phase-2 decision for 0001-01-01 in a known area: the gate-closure metric, taken
    after the commit, computed D-1 and raised OverflowError, stopping the consumer. Now the
    metric skips it (or, where the schema bounds the day, the record is refused when
    parsed); either way the consumer goes on with the next record."""
    area = f"GC{uuid.uuid4().hex[:6]}"
    async with pool.acquire() as conn:
        await registry.upsert_market_area(conn, registry.MarketArea(id=area))
    try:
        odd = _decision(market_area=area, delivery_day="0001-01-01")  # JSON: no model check
        after = decision(area=area)
        await producer.send(topics.decisions, odd, key=b"V")  # before the honest one
        await producer.send(topics.decisions, after.model_dump_json().encode(), key=b"V")
        await producer.flush()
        _, task = await start_consumer()
        await eventually(lambda: _consumed_is(pool, topics.prefix, 2))
        await asyncio.sleep(0.5)
        assert not task.done(), task.exception() if task.done() else None
        stored = await pool.fetchval(
            "SELECT count(*) FROM schedule_decisions WHERE market_area = $1", area
        )
        refused = await pool.fetchval(
            "SELECT count(*) FROM consume_errors WHERE consumer = $1", topics.prefix
        )
        assert (stored, refused) in ((2, 0), (1, 1))  # stored, or refused when parsed
    finally:
        await pool.execute("DELETE FROM schedule_decisions WHERE market_area = $1", area)
        await pool.execute("DELETE FROM market_areas WHERE id = $1", area)


async def _consumed_is(pool: Any, name: str, expected: int) -> bool:
    return await _consumed(pool, name) == expected


class Crash(Exception):
    pass


async def test_a_crash_between_dead_letters_and_commit_loses_none_and_the_restart_survives(
    pool, producer, topics: Topics, refusing_database, start_consumer, consumer_factory
):
    """Crash-loop test: a poison record on each consumed topic. The first consumer dies
    right after its first dead letters were acknowledged, before that batch's offsets were
    stored; the new consumer reads those poison records again, does not die on them, and
    writes the same dead letters (same event ids) once more: at-least-once, none lost."""
    poison = {
        topics.decisions: _decision(revision=2**31),  # refused when parsed
        topics.results: _run(welfare_eur=float("inf")),  # refused when parsed
        topics.plans: _plan(vehicle_id=REFUSED_VEHICLE),  # refused when written
    }
    for topic, value in poison.items():
        await producer.send(topic, value, key=b"poison")
    good = decision("V007")
    await producer.send(topics.decisions, good.model_dump_json().encode(), key=b"V007")
    await producer.flush()
    in_flight: list[str] = []  # topics of the dead letters whose batch never committed
    positions: list[tuple[str, int, int]] = []

    async def crash(bad) -> None:
        in_flight.extend(b.topic for b in bad)
        positions.extend((b.topic, b.partition, b.offset) for b in bad)
        raise Crash("killed before the batch's offsets were committed")

    _, first = await start_consumer(after_dead_letters=crash)
    with pytest.raises(DeadLetterFailure) as failed:
        await asyncio.wait_for(first, timeout=30)
    assert isinstance(failed.value.__cause__, Crash)
    assert in_flight
    stored = await store.load_offsets(pool, topics.prefix)
    for topic, partition, offset in positions:  # the failed batch moved no offset past them
        assert stored.get((topic, partition), 0) <= offset
    for topic in set(in_flight):  # acknowledged before the crash
        [letter] = await _read(consumer_factory, dlq_topic(topic), 1)
        assert base64.b64decode(letter["value_b64"]) == poison[topic]

    _, second = await start_consumer()
    await eventually(lambda: _consumed_is(pool, topics.prefix, len(poison) + 1), within=30)
    await asyncio.sleep(0.5)  # a consumer that would die on the record again has done so
    assert not second.done(), second.exception() if second.done() else None
    for topic, value in poison.items():
        copies = 1 + in_flight.count(topic)
        letters = await _read(consumer_factory, dlq_topic(topic), copies)
        assert len(letters) == copies
        assert {base64.b64decode(d["value_b64"]) for d in letters} == {value}
        assert len({d["event_id"] for d in letters}) == 1  # the same dead letter again
    refused = await pool.fetchval(
        "SELECT count(*) FROM consume_errors WHERE consumer = $1", topics.prefix
    )
    assert refused == len(poison)
    stored = await pool.fetchval(
        "SELECT count(*) FROM schedule_decisions WHERE plan_id = $1", good.plan_id
    )
    assert stored == 1
