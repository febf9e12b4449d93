"""The original system's clients against the real gateway, broker and PostgreSQL (DESIGN
§7.1), scenario by scenario: they log in, submit hh and hwh schedules with numeric ids and
offset-less times, list them; wrong point counts and someone else's vehicle get the
original's 400s. The clock reads 09:00 Warsaw on 2026-11-25: 2026-11-26 is open.

Registry additions: vehicle "7" (driver-anna, 60 kWh, 11 kW), points "3" (home, 11 kW)
and "5" (work, 22 kW) — numeric ids, as the original system had them."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest

from schemas.events import PlanSubmitted
from schemas.network import ChargingPoint, Vehicle
from services.common import accounts, registry
from tests.integration.ingest.helpers import read_events

pytestmark = pytest.mark.integration
URL = "/charging-schedules/"
PASSWORD = "correct horse battery"
DAY = "2026-11-26"


@pytest.fixture
async def numeric_registry(pool, tokens) -> AsyncIterator[None]:
    async with pool.acquire() as conn:
        for point, node, kw in (("3", "N-HOME-1", 11), ("5", "N-WORK-1", 22)):
            await registry.upsert_point(
                conn, ChargingPoint(id=point, node_id=node, max_power_kw=kw)
            )
        vehicle = Vehicle(id="7", battery_kwh=60.0, max_power_kw=11.0)
        await registry.upsert_vehicle(conn, vehicle, "driver-anna")
        await accounts.set_password(conn, "driver-anna", PASSWORD)
    yield
    # the registry as found: other tests count its vehicles and points
    await pool.execute("DELETE FROM vehicles WHERE id = '7'")
    await pool.execute("DELETE FROM charging_points WHERE id IN ('3', '5')")


async def original_login(client, user: str = "driver-anna") -> dict[str, str]:  # type: ignore[no-untyped-def]
    answer = await client.post("/api-token-auth/", json={"username": user, "password": PASSWORD})
    assert answer.status_code == 200, answer.text
    return {"Authorization": f"Token {answer.json()['token']}"}


def item(point: Any, arrival: str, departure: str) -> dict[str, Any]:
    return {"point": point, "arrival_time": arrival, "departure_time": departure}


def hwh(**changes: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "electric_vehicle": 7,
        "mode": "hwh",
        "charge_percent": 35.5,
        "trip_percent": 20.0,
        "point_schedules": [
            item(3, f"{DAY}T00:00:00", f"{DAY}T07:00:00"),
            item(5, f"{DAY}T08:00:00", f"{DAY}T16:00:00"),
            item(3, f"{DAY}T16:00:00Z", f"{DAY}T22:00:00Z"),  # 17:00-23:00 in Warsaw
        ],
    }
    body.update(changes)
    return body


def hh(**changes: Any) -> dict[str, Any]:
    body = hwh(mode="hh", charge_percent=100.0)
    body["point_schedules"] = [
        item("3", f"{DAY}T00:00", f"{DAY}T07:00"),
        item("3", f"{DAY}T18:00", f"{DAY}T23:00"),
    ]
    body.update(changes)
    return body


async def gateway_and_login(make_gateway, topic_factory):  # type: ignore[no-untyped-def]
    client, app = await make_gateway(
        config_topic=await topic_factory("config"), results_topic=await topic_factory("results")
    )
    return client, app, await original_login(client)


async def test_hwh_with_numeric_ids_and_offset_less_times_is_stored_and_published(
    make_gateway, topic_factory, numeric_registry, consumer_factory
):
    client, app, headers = await gateway_and_login(make_gateway, topic_factory)
    answer = await client.post(URL, json=hwh(), headers=headers)
    assert answer.status_code == 201, answer.text
    stored = answer.json()
    assert isinstance(stored["id"], int)
    assert stored["electric_vehicle"] == 7 and stored["mode"] == "hwh"
    assert [p["point"] for p in stored["point_schedules"]] == [3, 5, 3]
    assert stored["point_schedules"][0]["arrival_time"] == f"{DAY}T00:00:00+01:00"
    assert stored["point_schedules"][2]["arrival_time"] == f"{DAY}T17:00:00+01:00"
    assert (stored["market_area"], stored["delivery_day"]) == ("PL", DAY)
    plan = stored["plan"]
    assert plan["revision"] == stored["id"] and plan["plan_id"] == stored["plan_id"]
    assert plan["vehicle_id"] == "7" and plan["initial_soc_kwh"] == 21.3
    assert [s["trip_kwh_after"] for s in plan["stops"]] == [12.0, 12.0, 0.0]
    # the README's worked example: 24 kWh of trips - 21.3 on board; to full: 62.7 in all
    assert plan["bid"] == [
        {"energy_kwh": 2.7, "price_eur_mwh": 3000.0},
        {"energy_kwh": 60.0, "price_eur_mwh": 150.0},
    ]
    assert stored["conversion"]["must_have_kwh"] == 2.7
    assert stored["conversion"]["min_charge_kwh"] is None
    consumer = await consumer_factory(app.state.settings.plans_topic)
    [(key, event)] = await read_events(consumer, 1)
    assert key == b"7" and isinstance(event, PlanSubmitted)
    assert event.to_plan().model_dump(mode="json") == plan


async def test_hh_is_stored_and_both_are_listed_in_the_original_shape(
    make_gateway, topic_factory, numeric_registry
):
    client, _, headers = await gateway_and_login(make_gateway, topic_factory)
    first = (await client.post(URL, json=hwh(), headers=headers)).json()
    answer = await client.post(URL, json=hh(), headers=headers)
    assert answer.status_code == 201, answer.text
    second = answer.json()
    # a full battery covers the one 12 kWh drive: only a top-up of those 12 kWh
    assert second["plan"]["bid"] == [{"energy_kwh": 12.0, "price_eur_mwh": 150.0}]
    # the same vehicle and day: the later schedule is a newer revision of the same plan
    assert second["plan_id"] == first["plan_id"] and second["id"] > first["id"]
    listed = await client.get(URL, headers=headers)
    assert listed.status_code == 200
    mine = [s for s in listed.json() if s["id"] in (first["id"], second["id"])]
    assert mine == [first, second]


@pytest.mark.parametrize(("mode", "count"), [("hh", 3), ("hwh", 2)])
async def test_wrong_point_counts_get_the_originals_400(
    make_gateway, topic_factory, numeric_registry, mode, count
):
    client, _, headers = await gateway_and_login(make_gateway, topic_factory)
    body = hwh(mode=mode)
    body["point_schedules"] = body["point_schedules"][:count]
    answer = await client.post(URL, json=body, headers=headers)
    assert answer.status_code == 400
    name, want = {"hh": ("home-home", 2), "hwh": ("home-work-home", 3)}[mode]
    assert answer.json() == {
        "non_field_errors": [
            f'Mode "{mode}" ({name}) needs exactly {want} point schedules, got {count}.'
        ]
    }


async def test_someone_elses_vehicle_is_answered_like_one_that_does_not_exist(
    make_gateway, topic_factory, numeric_registry, tokens
):
    client, _, headers = await gateway_and_login(make_gateway, topic_factory)
    theirs = await client.post(URL, json=hwh(electric_vehicle="V002"), headers=headers)
    nobody = await client.post(URL, json=hwh(electric_vehicle=999), headers=headers)
    assert theirs.status_code == nobody.status_code == 400
    assert theirs.json() == {"electric_vehicle": ['Invalid pk "V002" - object does not exist.']}
    assert nobody.json() == {"electric_vehicle": ['Invalid pk "999" - object does not exist.']}
    operator = {"Authorization": f"Token {tokens['operator']}"}
    assert (await client.post(URL, json=hwh(), headers=operator)).status_code == 201


async def test_invalid_schedules_name_each_field_in_drfs_shape(
    make_gateway, topic_factory, numeric_registry
):
    client, _, headers = await gateway_and_login(make_gateway, topic_factory)
    body = hwh(charge_percent=120, trip_percent=150)
    body["point_schedules"][1] = item(42, f"{DAY}T08:00:00", "tomorrow")
    answer = await client.post(URL, json=body, headers=headers)
    assert answer.status_code == 400
    errors = answer.json()
    assert set(errors) == {"charge_percent", "trip_percent", "point_schedules"}
    assert errors["point_schedules"][0] == {} and "departure_time" in errors["point_schedules"][1]
    unknown_point = hwh()
    unknown_point["point_schedules"][1]["point"] = 42
    late = hwh()
    late["point_schedules"][2] = item(3, f"{DAY}T17:00:00", "2026-11-27T07:00:00")
    assert (await client.post(URL, json=unknown_point, headers=headers)).json() == {
        "point_schedules": [{}, {"point": ['Invalid pk "42" - object does not exist.']}, {}]
    }
    outside = (await client.post(URL, json=late, headers=headers)).json()
    assert outside["point_schedules"][2]["departure_time"][0].startswith(
        "2026-11-27T07:00:00+01:00 is outside the delivery day 2026-11-26"
    )
    full = await client.post(URL, json=hwh(charge_percent=100, trip_percent=0), headers=headers)
    assert full.status_code == 400 and "nothing to charge" in full.json()["charge_percent"][0]


async def test_schedules_are_listed_only_to_who_submitted_them(
    make_gateway, topic_factory, numeric_registry, tokens
):
    client, _, headers = await gateway_and_login(make_gateway, topic_factory)
    mine = (await client.post(URL, json=hwh(), headers=headers)).json()
    theirs = await client.get(URL, headers={"Authorization": f"Bearer {tokens['fleet-demo']}"})
    assert theirs.status_code == 200 and mine["id"] not in {s["id"] for s in theirs.json()}
    limited = await client.get(URL, params={"limit": 1}, headers=headers)
    assert [s["id"] for s in limited.json()] == [mine["id"]]  # the newest


async def test_the_vehicles_minimum_charge_counts_once_the_registry_has_it(
    make_gateway, topic_factory, numeric_registry, pool
):
    async with pool.acquire() as conn:
        await conn.execute("ALTER TABLE vehicles ADD COLUMN min_charge_kwh double precision")
        await conn.execute("UPDATE vehicles SET min_charge_kwh = 6 WHERE id = '7'")
    try:
        client, _ = await make_gateway(
            config_topic=await topic_factory("config"),
            results_topic=await topic_factory("results"),
        )
        headers = await original_login(client)
        stored = (await client.post(URL, json=hwh(), headers=headers)).json()
        assert stored["conversion"]["min_charge_kwh"] == 6.0
        assert stored["plan"]["bid"] == [  # must-have 24 + 6 - 21.3 = 8.7
            {"energy_kwh": 8.7, "price_eur_mwh": 3000.0},
            {"energy_kwh": 54.0, "price_eur_mwh": 150.0},
        ]
    finally:
        async with pool.acquire() as conn:
            await conn.execute("ALTER TABLE vehicles DROP COLUMN min_charge_kwh")
