"""SIGKILL the aggregator worker process between plan intake and gate closure, restart it:
no plan lost, none doubled, and the same result as an uninterrupted run."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime, time
from pathlib import Path
from typing import Any

import pytest

from schemas.market import MarketResult
from schemas.market_day import zone
from services.aggregator.topics import Names
from services.common.clock import Clock
from services.market.service import MarketService
from services.market.settings import Settings as MarketSettings
from tests.integration.aggregator.fleet import (
    WorkerProcess,
    cancel,
    config,
    engine_result,
    plan,
    plan_records,
    read_until,
    send_all,
)

pytestmark = pytest.mark.integration

DAY = date(2026, 11, 26)
TZ = zone("Europe/Warsaw")
BEFORE = datetime.combine(date(2026, 11, 25), time(10), tzinfo=TZ)
AFTER = datetime.combine(date(2026, 11, 25), time(12, 0, 1), tzinfo=TZ)


@pytest.fixture
def worker(kafka_bootstrap: str, prefix: str, tmp_path: Path) -> Iterator[WorkerProcess]:
    w = WorkerProcess(kafka_bootstrap, prefix, tmp_path / "worker.log")
    try:
        yield w
    finally:
        w.kill()
        if w.log.exists():  # shown by pytest only when the test failed
            print(w.log.read_text()[-20000:])


def phase2(values: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [v for v in values if v.get("phase") == 2]


async def test_killed_worker_loses_and_doubles_nothing(
    kafka_bootstrap, prefix, producer, tasks, worker
):
    n = Names(prefix)
    cfg = config(days=[DAY])
    await send_all(producer, n.config, [(b"PL", cfg.model_dump_json().encode())])
    first = [plan(i, DAY) for i in range(30)]
    await send_all(producer, n.plans, plan_records(first))

    worker.start(BEFORE)
    await worker.ready()
    # Wait until the first plans are in the worker's state (its changelog), then more
    # arrive: revisions, a cancellation, new plans; the worker is killed right away.
    await read_until(kafka_bootstrap, n.changelog, lambda v: len(v) >= 30, 30, bytes)
    revised = [plan(i, DAY, rev=1, price=900.0) for i in range(5)]
    cancelled = [cancel(first[5]), cancel(first[6])]
    more = [plan(i, DAY) for i in range(30, 45)]
    await send_all(producer, n.plans, plan_records(revised + cancelled + more))
    worker.kill()

    # Restarted after the gate closure: recover, close the day, clear both phases.
    market = MarketService(
        MarketSettings(
            kafka_bootstrap=kafka_bootstrap,
            market_topic_prefix=prefix,
            market_port=None,
            market_session_timeout_ms=1000,
            market_heartbeat_ms=200,
        ),
        Clock.fixed(AFTER),
    )
    tasks(market.run())
    worker.start(AFTER)
    live = {d["plan_id"]: d for d in first + more} | {d["plan_id"]: d for d in revised}
    for c in cancelled:
        live.pop(c["plan_id"])
    decisions = await read_until(
        kafka_bootstrap, n.decisions, lambda v: {d["plan_id"] for d in v} >= set(live), 60
    )
    # Exactly the live plans, each with one decision content (redeliveries are identical).
    assert {d["plan_id"] for d in decisions} == set(live)
    by_plan: dict[str, dict[str, Any]] = {}
    for d in decisions:
        assert by_plan.setdefault(d["plan_id"], d) == d
    assert {d["plan_id"]: d["revision"] for d in decisions} == {
        k: v["revision"] for k, v in live.items()
    }
    # Same result as an uninterrupted run: the engine on exactly the live plans.
    markets = await read_until(kafka_bootstrap, n.market, lambda v: len(v) >= 1)
    mres = MarketResult.model_validate(markets[0])
    want = engine_result(cfg, list(live.values()), DAY, 2, mres.prices_eur_mwh, mres.awarded_mwh)
    got = {d["plan_id"]: d["accepted_kwh"] for d in by_plan.values()}
    assert got == {str(p.plan_id): p.accepted_kwh for p in want.plans}
    results = await read_until(kafka_bootstrap, n.results, lambda v: len(phase2(v)) >= 1)
    assert {r["run_id"] for r in phase2(results)} == {mres.run_id}
    assert phase2(results)[0]["welfare_eur"] == want.welfare_eur
