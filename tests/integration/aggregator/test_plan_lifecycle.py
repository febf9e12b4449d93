"""Revisions, cancellations, duplicates, late plans, bad input to the DLQ, duplicate markers
and market results, the fallback without a market, what-if runs and a missing config."""

from __future__ import annotations

import asyncio
import base64
import uuid
from datetime import date, datetime, time, timedelta

import orjson
import pytest

from schemas.events import GateClosureMarker, WhatIfRequested
from schemas.market_day import zone
from services.aggregator import metrics, topics
from services.aggregator.topics import Names
from services.aggregator.worker import Worker
from services.common.clock import Clock
from tests.integration.aggregator.fleet import (
    cancel,
    config,
    count_records,
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


def final(values):  # type: ignore[no-untyped-def]
    return [v for v in values if v.get("phase") == 2]


async def test_revisions_cancellations_late_and_duplicates(
    kafka_bootstrap, prefix, producer, tasks
):
    n = Names(prefix)
    await send_all(producer, n.config, [(b"PL", config(days=[DAY]).model_dump_json().encode())])
    base = [plan(i, DAY) for i in range(6)]
    events = (
        base
        + [plan(0, DAY, rev=2, price=900.0)]  # revision 2 replaces 0
        + [plan(0, DAY, rev=1, price=200.0)]  # an older revision arriving late: ignored
        + [base[1], base[1]]  # redelivered duplicates
        + [cancel(base[2])]  # cancelled
        + [cancel(base[3], rev=0), plan(3, DAY, rev=1)]  # cancelled, then a new revision
    )
    await send_all(producer, n.plans, plan_records(events))
    clock = Clock.fixed(BEFORE)
    tasks(Worker(settings(kafka_bootstrap, prefix), clock).run())
    tasks(market_service(kafka_bootstrap, prefix, clock).run())
    clock.set(AFTER)

    want = {d["plan_id"] for d in base} - {base[2]["plan_id"]}
    decisions = await read_until(kafka_bootstrap, n.decisions, lambda v: len(v) >= 5, 60)
    assert {d["plan_id"] for d in decisions} == want
    revs = {d["plan_id"]: d["revision"] for d in decisions}
    assert revs[base[0]["plan_id"]] == 2 and revs[base[3]["plan_id"]] == 1
    assert len(decisions) == 5  # one per plan: duplicates and stale revisions add nothing

    # After closure: a new plan is rejected gate_closed (it reaches the vehicle).
    late = plan(7, DAY)
    await send_all(producer, n.plans, plan_records([late]))
    decisions = await read_until(kafka_bootstrap, n.decisions, lambda v: len(v) >= 6)
    rejected = [d for d in decisions if d["plan_id"] == late["plan_id"]]
    assert rejected[0]["status"] == "rejected"
    assert rejected[0]["reasons"][0]["reason"].startswith("gate_closed")

    # A duplicate marker and a replayed market result change nothing.
    results_before = await count_records(kafka_bootstrap, n.results)
    bids_before = await count_records(kafka_bootstrap, n.bids)
    marker = GateClosureMarker(
        market_area="PL",
        delivery_day=DAY,
        gate_closure=datetime.combine(DAY - timedelta(days=1), time(12), tzinfo=TZ),
    )
    key = b"PL/2026-11-26"
    market = await read_until(kafka_bootstrap, n.market, lambda v: len(v) >= 1)
    await producer.send_and_wait(
        n.by_day, marker.model_dump_json().encode(), key=key, headers=[("k", topics.KIND_MARKER)]
    )
    await producer.send_and_wait(n.market, orjson.dumps(market[0]), key=key)
    await asyncio.sleep(2.0)
    assert await count_records(kafka_bootstrap, n.results) == results_before
    assert await count_records(kafka_bootstrap, n.bids) == bids_before
    decisions = await read_until(kafka_bootstrap, n.decisions, lambda v: len(v) >= 6)
    assert len(decisions) == 6


async def test_bad_input_goes_to_the_dlq_and_the_stream_goes_on(
    kafka_bootstrap, prefix, producer, tasks
):
    n = Names(prefix)
    await send_all(producer, n.config, [(b"PL", config(days=[DAY]).model_dump_json().encode())])
    good = plan(1, DAY)
    wrong_version = plan(2, DAY, schema_version=2)
    unknown_vehicle = plan(3, DAY, vehicle_id="V-NOBODY")
    missing = plan(4, DAY)
    del missing["stops"]
    bad = [
        (b"V9", b"\x00\xffnot json at all"),
        (b"V2", orjson.dumps(wrong_version)),
        (b"V-NOBODY", orjson.dumps(unknown_vehicle)),
        (b"V4", orjson.dumps(missing)),
        (None, b"[1, 2, 3]"),
    ]
    await send_all(producer, n.plans, bad + plan_records([good]))
    clock = Clock.fixed(BEFORE)
    tasks(Worker(settings(kafka_bootstrap, prefix), clock).run())

    dlq = await read_until(kafka_bootstrap, n.dlq, lambda v: len(v) >= 5, 30)
    by_value = {base64.b64decode(d["value_b64"]): d for d in dlq}
    assert set(by_value) == {v for _, v in bad}
    garbage = by_value[b"\x00\xffnot json at all"]
    assert garbage["key_b64"] == base64.b64encode(b"V9").decode()
    assert "invalid JSON" in garbage["reasons"][0]["reason"]
    version = by_value[orjson.dumps(wrong_version)]
    assert version["reasons"][0]["loc"] == "schema_version"
    assert version["plan_id"] == wrong_version["plan_id"]
    vehicle = by_value[orjson.dumps(unknown_vehicle)]
    assert any(r["loc"] == "vehicle_id" for r in vehicle["reasons"])
    assert any(r["loc"] == "stops" for r in by_value[orjson.dumps(missing)]["reasons"])
    assert by_value[b"[1, 2, 3]"]["key_b64"] is None
    # The identifiable invalid plan's vehicle hears it through schedule-decisions too.
    decisions = await read_until(kafka_bootstrap, n.decisions, lambda v: len(v) >= 1)
    assert decisions[0]["plan_id"] == unknown_vehicle["plan_id"]
    assert decisions[0]["status"] == "rejected"

    # The good plan behind the bad ones made it into the state (its changelog entry).
    changelog = await read_until(
        kafka_bootstrap, n.changelog, lambda v: any(b'"live":true' in c for c in v), 30, bytes
    )
    stored = [orjson.loads(c.partition(b"\n")[2]) for c in changelog if b'"live":true' in c]
    assert [p["plan_id"] for p in stored] == [good["plan_id"]]


async def test_fallback_what_if_and_missing_config(kafka_bootstrap, prefix, producer, tasks):
    n = Names(prefix)
    docs = [plan(i, DAY) for i in range(8)]
    await send_all(producer, n.plans, plan_records(docs))
    clock = Clock.fixed(AFTER)  # already closed, but there is no auction-config yet
    tasks(Worker(settings(kafka_bootstrap, prefix), clock).run())
    # No market adapter runs: phase 2 must fall back to the forecast after the timeout.
    # (Polled: joining the groups takes a few seconds, longer on a loaded machine.)
    refused = None
    for _ in range(80):
        refused = metrics.REGISTRY.get_sample_value(
            "chargeflow_auction_refused_total", {"market_area": "PL", "reason": "no_config"}
        )
        if refused:
            break
        await asyncio.sleep(0.25)
    assert refused and refused >= 1
    assert await count_records(kafka_bootstrap, n.bids) == 0
    assert (
        metrics.REGISTRY.get_sample_value(
            "chargeflow_aggregator_config_missing", {"market_area": "PL"}
        )
        == 1
    )

    cfg = config(days=[DAY], timeout_s=600)
    await send_all(producer, n.config, [(b"PL", cfg.model_dump_json().encode())])
    results = await read_until(kafka_bootstrap, n.results, lambda v: len(v) >= 1, 30)
    assert results[0]["phase"] == 1
    # What-if on the closed day: an answer on auction-results, no state change.
    ask = WhatIfRequested(
        request_id=f"wi-{uuid.uuid4()}",
        market_area="PL",
        delivery_day=DAY,
        requested_by="operator",
        node_capacity_kw={"PL-N1": 1.0},
    )
    await producer.send_and_wait(n.commands, ask.model_dump_json().encode(), key=b"PL/2026-11-26")
    results = await read_until(
        kafka_bootstrap, n.results, lambda v: any(r["what_if"] for r in v), 30
    )
    answer = next(r for r in results if r["what_if"])
    assert answer["run_id"] == ask.request_id
    assert answer["total_accepted_kwh"] < results[0]["total_accepted_kwh"]

    clock.advance(timedelta(seconds=601))
    results = await read_until(kafka_bootstrap, n.results, lambda v: len(final(v)) >= 1, 30)
    summary = final(results)[0]
    assert summary["fallback"] is True and summary["run_id"] == results[0]["run_id"]
    assert summary["prices_eur_mwh"] == cfg.forecast_for(DAY)
    decisions = await read_until(kafka_bootstrap, n.decisions, lambda v: len(v) >= 8)
    assert {d["plan_id"] for d in decisions} == {d["plan_id"] for d in docs}
