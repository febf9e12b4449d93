"""Plans published directly -> gate closure -> aggregate bid -> market -> one decision per plan,
consistent with the auction engine run on the same inputs."""

from __future__ import annotations

from datetime import date, datetime, time
from typing import Any

import orjson
import pytest

from auction.clear import clear
from schemas.auction import AuctionInstance
from schemas.events import PlanSubmitted
from schemas.market import AggregateBid, MarketResult
from schemas.market_day import zone
from services.aggregator import clearing
from services.aggregator.topics import Names
from services.aggregator.worker import Worker
from services.common.clock import Clock
from tests.integration.aggregator.fleet import (
    config,
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


def phase2(values: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [v for v in values if v["phase"] == 2]


async def test_plans_to_decisions_match_the_engine(kafka_bootstrap, prefix, producer, tasks):
    n = Names(prefix)
    cfg = config(days=[DAY])
    clock = Clock.fixed(datetime.combine(date(2026, 11, 25), time(10), tzinfo=TZ))
    await send_all(producer, n.config, [(b"PL", cfg.model_dump_json().encode())])
    docs = [plan(i, DAY) for i in range(40)]
    await send_all(producer, n.plans, plan_records(docs))

    tasks(Worker(settings(kafka_bootstrap, prefix), clock).run())
    tasks(market_service(kafka_bootstrap, prefix, clock).run())
    # Gate closure passes at once: the leader must still wait for the intake to forward
    # every plan published before it, so all 40 are cleared.
    clock.set(datetime.combine(date(2026, 11, 25), time(12, 0, 1), tzinfo=TZ))

    decisions = await read_until(kafka_bootstrap, n.decisions, lambda v: len(v) >= 40, 60)
    assert len(decisions) == 40
    assert {d["plan_id"] for d in decisions} == {d["plan_id"] for d in docs}
    results = await read_until(kafka_bootstrap, n.results, lambda v: len(phase2(v)) >= 1)
    bids = await read_until(kafka_bootstrap, n.bids, lambda v: len(v) >= 1)
    markets = await read_until(kafka_bootstrap, n.market, lambda v: len(v) >= 1)
    bid, mres = AggregateBid.model_validate(bids[0]), MarketResult.model_validate(markets[0])
    assert mres.status == "cleared" and mres.run_id == bid.run_id
    summary = phase2(results)[0]
    assert summary["run_id"] == bid.run_id and summary["fallback"] is False

    # The same inputs through the engine directly (what `chargeflow auction clear` does).
    plans = sorted((PlanSubmitted.model_validate(d) for d in docs), key=lambda p: str(p.plan_id))
    inst = AuctionInstance(
        market_area="PL",
        delivery_day=DAY,
        timezone=cfg.timezone,
        mtu_minutes=60,
        prices_eur_mwh=cfg.forecast_for(DAY) or [],
        nodes=cfg.nodes,
        charging_points=cfg.charging_points,
        vehicles=[v for v in cfg.vehicles if v.id in {p.vehicle_id for p in plans}],
        plans=[clearing.body(p) for p in plans],
    )
    params = clearing.params_of(cfg)
    p1 = clear(inst, 1, params)
    assert [[c.model_dump() for c in m] for m in p1.aggregate.bid_curves] == [
        [c.model_dump() for c in m] for m in bid.bid_curves
    ]
    inst2 = inst.model_copy(
        update={"prices_eur_mwh": mres.prices_eur_mwh, "awarded_mwh": mres.awarded_mwh}
    )
    p2 = clear(inst2, 2, params)
    assert summary["total_accepted_kwh"] == p2.total_accepted_kwh
    assert summary["welfare_eur"] == p2.welfare_eur
    by_plan = {str(r.plan_id): r for r in p2.plans}
    for d in decisions:
        want = by_plan[d["plan_id"]]
        assert d["accepted_kwh"] == want.accepted_kwh
        assert d["status"] == ("rejected" if want.accepted_kwh == 0 else "accepted")
        assert d["run_id"] == bid.run_id
    assert sum(d["accepted_kwh"] for d in decisions) == pytest.approx(p2.total_accepted_kwh)
    assert orjson.dumps(sorted(d["event_id"] for d in decisions))  # ids present, unique below
    assert len({d["event_id"] for d in decisions}) == 40
