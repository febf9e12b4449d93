"""Conveniences of chargeflow's own API on the real gateway, broker and PostgreSQL: plans
without a bid get the operator's default bid (prices from auction-config), and
GET /market-areas/ says what is open, until when, and how far the latest day got.
The clock reads 09:00 Warsaw on 2026-11-25: 2026-11-26 is open until 12:00 (3 h)."""

from __future__ import annotations

import asyncio
import time
from datetime import date
from typing import Any

import pytest

from schemas.config import AuctionConfig, AuctionParameters
from schemas.events import PlanSubmitted
from schemas.market import AuctionCleared
from schemas.market_day import mtu_starts
from tests.integration.ingest.conftest import DAY, auth, plan
from tests.integration.ingest.helpers import read_events

pytestmark = pytest.mark.integration
URL = "/charging-schedules/"


def without_bid(**changes: Any) -> dict[str, Any]:
    body = plan(**changes)
    del body["bid"]
    return body


async def topics(topic_factory) -> dict[str, str]:  # type: ignore[no-untyped-def]
    return {
        "config_topic": await topic_factory("config"),
        "results_topic": await topic_factory("results"),
    }


async def eventually(check, timeout_s: float = 10.0):  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout_s
    while True:
        result = await check()
        if result or time.monotonic() > deadline:
            return result
        await asyncio.sleep(0.2)


async def test_a_plan_without_bid_gets_the_default_bid_shown_and_published(
    make_gateway, topic_factory, tokens, consumer_factory
):
    client, app = await make_gateway(**await topics(topic_factory))
    # V001: 60 kWh, 11 kW; P-WORK-01 08:00-16:30 = 93.5 kWh deliverable; 6 kWh trip after
    body = without_bid(initial_soc_kwh=2.0)
    answer = await client.post(URL, json=body, headers=auth(tokens["driver-anna"]))
    assert answer.status_code == 202, answer.text
    # must-have 6 - 2 = 4 kWh; to full when leaving: 60 - 2 = 58, so 54 more
    bid = [
        {"energy_kwh": 4.0, "price_eur_mwh": 3000.0},
        {"energy_kwh": 54.0, "price_eur_mwh": 150.0},
    ]
    assert answer.json() == {
        "plan_id": body["plan_id"],
        "revision": 1,
        "status": "accepted",
        "bid": bid,
    }
    consumer = await consumer_factory(app.state.settings.plans_topic)
    [(_, event)] = await read_events(consumer, 1)
    assert isinstance(event, PlanSubmitted)
    assert [s.model_dump() for s in event.bid] == bid
    again = await client.post(URL, json=body, headers=auth(tokens["driver-anna"]))
    assert again.status_code == 202  # the same revision again: idempotent


async def test_the_operators_prices_come_from_auction_config(
    make_gateway, topic_factory, tokens, producer
):
    names = await topics(topic_factory)
    config = AuctionConfig(
        market_area="PL",
        parameters=AuctionParameters(must_have_price_eur_mwh=2500.0, top_up_price_eur_mwh=90.0),
    )
    await producer.send_and_wait(names["config_topic"], config.model_dump_json().encode(), b"PL")
    client, _ = await make_gateway(**names)  # reads the config before it serves
    answer = await client.post(
        URL, json=without_bid(initial_soc_kwh=2.0), headers=auth(tokens["driver-anna"])
    )
    assert [s["price_eur_mwh"] for s in answer.json()["bid"]] == [2500.0, 90.0]
    newer = AuctionConfig(
        market_area="PL",
        parameters=AuctionParameters(must_have_price_eur_mwh=5000.0, top_up_price_eur_mwh=100.0),
    )
    await producer.send_and_wait(names["config_topic"], newer.model_dump_json().encode(), b"PL")

    async def prices() -> list[float] | None:
        response = await client.post(
            URL, json=without_bid(initial_soc_kwh=2.0), headers=auth(tokens["driver-anna"])
        )
        got = [s["price_eur_mwh"] for s in response.json()["bid"]]
        return got if got[0] != 2500.0 else None

    # followed while serving; 5000 is above the area's limit of 4000: clamped to it
    assert await eventually(prices) == [4000.0, 100.0]


async def test_a_full_battery_without_trips_has_no_default_bid(make_gateway, tokens, topic_factory):
    client, _ = await make_gateway(**await topics(topic_factory))
    stops = plan()["stops"]
    stops[0]["trip_kwh_after"] = 0.0
    answer = await client.post(
        URL,
        json=without_bid(initial_soc_kwh=60.0, stops=stops),
        headers=auth(tokens["driver-anna"]),
    )
    assert answer.status_code == 422
    [error] = answer.json()["errors"]
    assert error["loc"] == "bid" and error["reason"].startswith("no bid given, and the default")
    theirs = await client.post(
        URL, json=without_bid(vehicle_id="V002"), headers=auth(tokens["driver-anna"])
    )
    assert theirs.status_code == 403  # ownership first, as for every plan


async def test_a_batch_item_without_bid_gets_it_too(make_gateway, tokens, topic_factory):
    client, _ = await make_gateway(**await topics(topic_factory))
    items = [plan(), without_bid(initial_soc_kwh=2.0)]
    answer = await client.post(
        f"{URL}batch", json={"plans": items}, headers=auth(tokens["driver-anna"])
    )
    assert answer.status_code == 200, answer.text
    assert answer.json()["accepted"] == 2


async def test_market_areas_tell_the_open_day_its_gate_closure_and_the_latest_phase(
    make_gateway, topic_factory, tokens, producer
):
    names = await topics(topic_factory)
    client, _ = await make_gateway(**names)
    headers = auth(tokens["driver-anna"])
    answer = await client.get("/market-areas/", headers=headers)
    assert answer.status_code == 200, answer.text
    [pl] = [a for a in answer.json() if a["market_area"] == "PL"]
    assert pl == {
        "market_area": "PL",
        "timezone": "Europe/Warsaw",
        "mtu_minutes": 60,
        "gate_closure_local": "12:00:00",
        "plan_horizon_days": 7,
        "next_delivery_day": DAY,
        "gate_closure": "2026-11-25T12:00:00+01:00",
        "seconds_left": 10800.0,
        "latest_day": None,
    }
    pl_day = date(2026, 11, 25)
    starts = mtu_starts(pl_day, "Europe/Warsaw")
    for phase, what_if in ((1, False), (2, False), (1, True)):  # a what-if run does not count
        cleared = AuctionCleared(
            market_area="PL",
            delivery_day=pl_day,
            run_id=f"PL/2026-11-25/{phase}{what_if}",
            phase=phase,
            what_if=what_if,
            mtu_starts=starts,
            prices_eur_mwh=[95.0] * len(starts),
            welfare_eur=0.0,
            total_requested_kwh=0.0,
            total_accepted_kwh=0.0,
            coverage=0.0,
        )
        await producer.send_and_wait(names["results_topic"], cleared.model_dump_json().encode())

    async def latest() -> dict[str, Any] | None:
        areas = (await client.get("/market-areas/", headers=headers)).json()
        [pl] = [a for a in areas if a["market_area"] == "PL"]
        day: dict[str, Any] | None = pl["latest_day"]
        return day if day and day["phase"] == 2 else None

    assert await eventually(latest) == {
        "delivery_day": "2026-11-25",
        "phase": 2,
        "phase_name": "decisions published",
        "fallback": False,
    }
    assert (await client.get("/market-areas/")).status_code == 401
