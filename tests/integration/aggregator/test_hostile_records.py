"""Hostile records straight onto the topics (issue 10): each ends in the DLQ of the topic it
was read from, with its reason; the aggregator stays alive; and the honest plans behind
them clear exactly as the engine clears them alone."""

from __future__ import annotations

import base64
from datetime import date, datetime, time
from typing import Any

import orjson
import pytest

from schemas.market import MarketResult
from schemas.market_day import zone
from services.aggregator import metrics, topics
from services.aggregator.topics import Names
from services.aggregator.worker import Worker
from services.common.clock import Clock
from tests.integration.aggregator.fleet import (
    config,
    engine_result,
    market_service,
    plan,
    plan_records,
    read_until,
    send_all,
    settings,
)

pytestmark = pytest.mark.integration

DAY = date(2026, 11, 26)
TZ = zone("Europe/Warsaw")
BEFORE = datetime.combine(date(2026, 11, 25), time(10), tzinfo=TZ)
AFTER = datetime.combine(date(2026, 11, 25), time(12, 0, 1), tzinfo=TZ)
KEY = b"PL/2026-11-26"


def with_trip(doc: dict[str, Any], literal: bytes) -> bytes:
    """The plan's JSON with its first trip written as `literal` (no JSON encoder writes it)."""
    doc = {**doc, "stops": [{**doc["stops"][0], "trip_kwh_after": 7.25}]}
    raw = orjson.dumps(doc)
    assert raw.count(b'"trip_kwh_after":7.25') == 1
    return raw.replace(b'"trip_kwh_after":7.25', b'"trip_kwh_after":' + literal)


def by_value(letters: list[dict[str, Any]]) -> dict[bytes, dict[str, Any]]:
    return {base64.b64decode(d["value_b64"]): d for d in letters}


def dlq_count(topic: str) -> float | None:
    return metrics.REGISTRY.get_sample_value(
        "chargeflow_dlq_events_total", {"service": "aggregator", "topic": topic}
    )


def final(values: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [v for v in values if v.get("phase") == 2]


async def test_hostile_records_go_to_their_dlq_and_the_day_clears_as_without_them(
    kafka_bootstrap, prefix, producer, tasks
):
    n = Names(prefix)
    cfg = config(days=[DAY])
    await send_all(producer, n.config, [(b"PL", cfg.model_dump_json().encode())])
    big = orjson.dumps({**plan(30, DAY), "padding": "x" * (900 * 1024)})
    plans_topic = {
        "last day": orjson.dumps(plan(21, date(9999, 12, 31))),
        "first day": orjson.dumps(plan(22, date(1, 1, 1))),
        "Infinity": with_trip(plan(23, DAY), b"Infinity"),
        "1e400": with_trip(plan(24, DAY), b"1e400"),
        "garbage": b"\x00\xff\xfe garbage \x80",
        "empty": b"",
        "wrong type": orjson.dumps({"event_type": "MarketResult", "market_area": "PL"}),
        "900 KiB": big,
    }
    unknown_day = MarketResult(
        market_area="PL",
        delivery_day=date(2026, 12, 20),
        run_id="PL/2026-12-20/nope",
        status="rejected",
    )
    market_topic = {
        "garbage": b"\x00 not a market result",
        "wrong type": orjson.dumps(plan(25, DAY)),
        "empty": b"",
        "900 KiB": b'{"event_type": "MarketResult", "reason": "' + b"y" * (900 * 1024) + b'"}',
    }
    commands_topic = {"garbage": b"{{{", "wrong type": orjson.dumps(plan(26, DAY))}
    await send_all(producer, n.plans, [(b"V999", v) for v in plans_topic.values()])
    await send_all(
        producer,
        n.market,
        [(KEY, v) for v in market_topic.values()]
        + [(b"PL/2026-12-20", unknown_day.model_dump_json().encode())],
    )
    await send_all(producer, n.commands, [(KEY, v) for v in commands_topic.values()])
    honest = [plan(i, DAY) for i in range(20)]
    await send_all(producer, n.plans, plan_records(honest))

    clock = Clock.fixed(BEFORE)
    worker = tasks(Worker(settings(kafka_bootstrap, prefix), clock).run())
    tasks(market_service(kafka_bootstrap, prefix, clock).run())

    # Every hostile record is in the DLQ of the topic it was read from, with a reason.
    plan_letters = by_value(
        await read_until(kafka_bootstrap, n.dlq, lambda v: len(v) >= len(plans_topic), 60)
    )
    assert set(plan_letters) == {v[: 256 * 1024] for v in plans_topic.values()}
    for name, value in plans_topic.items():
        letter = plan_letters[value[: 256 * 1024]]
        assert letter["topic"] == n.plans and letter["reasons"], name
        assert letter["value_size"] == len(value), name
    for name in ("Infinity", "1e400"):
        reasons = plan_letters[plans_topic[name]]["reasons"]
        assert any(r["loc"].startswith("stops[0].trip_kwh_after") for r in reasons), reasons
    assert plan_letters[big[: 256 * 1024]]["value_truncated"] is True
    assert plan_letters[b""]["reasons"][0]["reason"].startswith("empty record value")
    # Days at the ends of the calendar are outside the schema's day range (2000..2999): the
    # dead letter names the field (no decision: no event can carry such a day).
    for name in ("last day", "first day"):
        reasons = plan_letters[plans_topic[name]]["reasons"]
        assert any(r["loc"] == "delivery_day" for r in reasons), reasons

    market_dlq = f"{n.market}.dlq"
    market_letters = by_value(
        await read_until(kafka_bootstrap, market_dlq, lambda v: len(v) >= len(market_topic))
    )
    assert set(market_letters) == {v[: 256 * 1024] for v in market_topic.values()}
    assert all(d["topic"] == n.market and d["reasons"] for d in market_letters.values())
    command_letters = by_value(
        await read_until(kafka_bootstrap, f"{n.commands}.dlq", lambda v: len(v) >= 2)
    )
    assert set(command_letters) == set(commands_topic.values())
    # The market result for a day nobody bid for passes the intake (it is readable) and is
    # refused by the owner of the day, which reads it from the by-day topic.
    (owner_letter,) = await read_until(kafka_bootstrap, f"{n.by_day}.dlq", lambda v: len(v) >= 1)
    assert (
        owner_letter["topic"] == n.by_day
        and owner_letter["key_b64"] == base64.b64encode(b"PL/2026-12-20").decode()
    )
    assert "no bid was sent for PL/2026-12-20" in owner_letter["reasons"][0]["reason"]
    assert dlq_count(n.plans) == len(plans_topic)
    assert dlq_count(n.market) == len(market_topic)
    assert dlq_count(n.commands) == len(commands_topic)
    assert dlq_count(n.by_day) == 1

    # The honest day then clears as the engine clears the honest plans alone.
    clock.set(AFTER)
    results = await read_until(kafka_bootstrap, n.results, lambda v: len(final(v)) >= 1, 60)
    decisions = await read_until(
        kafka_bootstrap,
        n.decisions,
        lambda v: {d["plan_id"] for d in v} >= {h["plan_id"] for h in honest},
    )
    assert not worker.done()
    phase1 = next(r for r in results if r["phase"] == 1)
    assert phase1["welfare_eur"] == engine_result(cfg, honest, DAY, 1).welfare_eur
    assert phase1["plans_total"] == len(honest)
    raw_market = await read_until(
        kafka_bootstrap,
        n.market,
        lambda v: any(m.get("run_id") == phase1["run_id"] for m in v),
        decode=lambda b: orjson.loads(b) if b.startswith(b"{") else {},
    )
    mres = MarketResult.model_validate(
        next(m for m in raw_market if m.get("run_id") == phase1["run_id"])
    )
    want = engine_result(cfg, honest, DAY, 2, mres.prices_eur_mwh, mres.awarded_mwh)
    assert final(results)[0]["welfare_eur"] == want.welfare_eur
    got = {d["plan_id"]: d["accepted_kwh"] for d in decisions if d["run_id"] == phase1["run_id"]}
    assert got == {str(p.plan_id): p.accepted_kwh for p in want.plans}


async def test_a_plan_that_breaks_the_engine_is_rejected_and_the_others_clear_as_without_it(
    kafka_bootstrap, prefix, producer, tasks
):
    """Plans written straight to the by-day topic, never checked by the intake, with the
    intake's "validated with this config" header forged: one the engine's instance check
    refuses, one its solver failed on (numbers too large: now out of the schema's bounds, so
    refused when the day is prepared). Before, either rejected every plan of the day."""
    n = Names(prefix)
    cfg = config(days=[DAY])
    await send_all(producer, n.config, [(b"PL", cfg.model_dump_json().encode())])
    honest = [plan(i, DAY) for i in range(24)]
    await send_all(producer, n.plans, plan_records(honest))
    breaks_solver = plan(50, DAY)
    breaks_solver["bid"][0]["energy_kwh"] = 1e20
    unknown_point = plan(51, DAY)
    unknown_point["stops"][0]["charging_point_id"] = "PL-P-NOWHERE"
    headers = [("k", topics.KIND_PLAN), ("cfg", str(cfg.event_id).encode())]
    for doc in (breaks_solver, unknown_point):
        await producer.send_and_wait(n.by_day, orjson.dumps(doc), key=KEY, headers=headers)

    clock = Clock.fixed(BEFORE)
    worker = tasks(Worker(settings(kafka_bootstrap, prefix), clock).run())
    tasks(market_service(kafka_bootstrap, prefix, clock).run())
    await read_until(kafka_bootstrap, n.changelog, lambda v: len(v) >= 26, 30, bytes)
    clock.set(AFTER)

    everyone = {d["plan_id"] for d in [*honest, breaks_solver, unknown_point]}
    decisions = await read_until(
        kafka_bootstrap, n.decisions, lambda v: {d["plan_id"] for d in v} >= everyone, 60
    )
    results = await read_until(kafka_bootstrap, n.results, lambda v: len(final(v)) >= 1)
    assert not worker.done()
    by_plan = {d["plan_id"]: d for d in decisions}
    solver = by_plan[breaks_solver["plan_id"]]
    assert solver["status"] == "rejected"
    assert solver["reasons"][0]["loc"] == "bid[0].energy_kwh"
    assert "10000" in solver["reasons"][0]["reason"]
    point = by_plan[unknown_point["plan_id"]]
    assert point["status"] == "rejected"
    assert point["reasons"][0]["loc"] == "stops[0].charging_point_id"
    assert "unknown charging point" in point["reasons"][0]["reason"]

    phase1 = next(r for r in results if r["phase"] == 1)
    assert phase1["welfare_eur"] == engine_result(cfg, honest, DAY, 1).welfare_eur
    assert phase1["plans_total"] == len(honest) + 2
    raw_market = await read_until(kafka_bootstrap, n.market, lambda v: len(v) >= 1)
    mres = MarketResult.model_validate(raw_market[0])
    want = engine_result(cfg, honest, DAY, 2, mres.prices_eur_mwh, mres.awarded_mwh)
    assert final(results)[0]["welfare_eur"] == want.welfare_eur
    got = {
        pid: d["accepted_kwh"]
        for pid, d in by_plan.items()
        if pid not in {solver["plan_id"], point["plan_id"]}
    }
    assert got == {str(p.plan_id): p.accepted_kwh for p in want.plans}
    assert all(d["status"] == "accepted" for d in decisions if d["plan_id"] in got)
    culprits = metrics.REGISTRY.get_sample_value(
        "chargeflow_auction_culprits_total", {"market_area": "PL", "phase": "1"}
    )
    assert culprits is not None and culprits >= 1  # the unknown point (the huge bid: bounds)
