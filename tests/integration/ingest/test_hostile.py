"""Hostile plans through the real HTTP paths: each gets its precise answer, never a 500, and
only honest plans reach the topic (issue 10: bounds at every entry, content idempotency)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.integration.ingest.conftest import auth, plan
from tests.integration.ingest.helpers import read_events

pytestmark = pytest.mark.integration
URL = "/charging-schedules/"
BATCH = "/charging-schedules/batch"

# (what it is, how to spoil an honest plan's JSON text, the field the 422 must name, a word
# of the reason). Raw text, because json.dumps would write a different literal (or none).
TRIP, SOC = '"trip_kwh_after": 6.0', '"initial_soc_kwh": 12.0'
PRICE0, PRICE1 = '"price_eur_mwh": 400.0', '"price_eur_mwh": 150.0'
ENERGY0, ARRIVAL = '"energy_kwh": 10.0', '"arrival": "2026-11-26T08:00:00+01:00"'
SHORT_STOP = {
    "charging_point_id": "P-WORK-01",
    "arrival": "2026-11-26T01:00:00+01:00",
    "departure": "2026-11-26T01:01:00+01:00",
}
HOSTILE: list[tuple[str, Any, str, str]] = [
    ("a day far ahead", {"delivery_day": "2027-06-01"}, "delivery_day", "horizon"),
    ("the schema's last day", {"delivery_day": "2999-12-31"}, "delivery_day", "horizon"),
    ("the last representable date", {"delivery_day": "9999-12-31"}, "delivery_day", "2999"),
    ("the first representable date", {"delivery_day": "0001-01-01"}, "delivery_day", "2000"),
    ("Infinity", (TRIP, '"trip_kwh_after": Infinity'), "stops[0].trip_kwh_after", "finite"),
    ("an overflow", (TRIP, '"trip_kwh_after": 1e400'), "stops[0].trip_kwh_after", "finite"),
    ("NaN", (PRICE0, '"price_eur_mwh": NaN'), "bid[0].price_eur_mwh", "finite"),
    ("-Infinity", (SOC, '"initial_soc_kwh": -Infinity'), "initial_soc_kwh", "finite"),
    ("a trip over the battery", (TRIP, '"trip_kwh_after": 61'), "stops[0].trip_kwh_after", "60"),
    ("a charge over the battery", (SOC, '"initial_soc_kwh": 60.5'), "initial_soc_kwh", "60"),
    ("a huge energy", (ENERGY0, '"energy_kwh": 1e300'), "bid[0].energy_kwh", "10000"),
    ("a huge price", (PRICE1, '"price_eur_mwh": 1e12'), "bid[1].price_eur_mwh", "100000"),
    ("a revision beyond int32", {"revision": 2**31}, "revision", "2147483647"),
    ("a NUL in the vehicle id", {"vehicle_id": "V001\x00"}, "vehicle_id", "pattern"),
    ("a year-9999 arrival", (ARRIVAL, '"arrival": "9999-12-31T23:00:00-05:00"'), "stops[0].arrival",
     "between"),
    ("49 stops", {"stops": [SHORT_STOP] * 49}, "stops", "48"),
    ("51 bid steps", {"bid": [{"energy_kwh": 0.1, "price_eur_mwh": 1.0}] * 51}, "bid", "50"),
]  # fmt: skip


def spoiled(how: Any) -> tuple[str, str]:
    """(plan_id, JSON text) of an honest plan spoiled as described."""
    if isinstance(how, dict):
        body = plan(**how)
        return body["plan_id"], json.dumps(body)
    body = plan()
    text = json.dumps(body)
    old, new = how
    assert old in text
    return body["plan_id"], text.replace(old, new, 1)


@pytest.mark.parametrize(("what", "how", "loc", "word"), HOSTILE, ids=[h[0] for h in HOSTILE])
async def test_hostile_plan_gets_422_naming_the_field(make_gateway, tokens, what, how, loc, word):
    client, _ = await make_gateway()
    _, text = spoiled(how)
    headers = {**auth(tokens["driver-anna"]), "content-type": "application/json"}
    response = await client.post(URL, content=text, headers=headers)
    assert response.status_code == 422, (what, response.text)
    errors = response.json()["errors"]
    assert any(e["loc"] == loc and word in e["reason"] for e in errors), (what, errors)


async def test_hostile_items_of_a_batch_are_refused_and_the_honest_ones_stored(
    make_gateway, tokens, consumer_factory
):
    client, app = await make_gateway()
    honest = plan()
    items = [json.dumps(honest)]
    expected: list[tuple[str, str]] = []
    for what, how, loc, _ in HOSTILE:
        if isinstance(how, dict) or "Infinity" in how[1] or "NaN" in how[1] or "e400" in how[1]:
            continue  # not JSON at all: the whole batch is refused (next test)
        items.append(spoiled(how)[1])
        expected.append((what, loc))
    for what, how, loc, _ in HOSTILE:
        if isinstance(how, dict):
            items.append(spoiled(how)[1])
            expected.append((what, loc))
    body = '{"plans": [' + ",".join(items) + "]}"
    headers = {**auth(tokens["driver-anna"]), "content-type": "application/json"}
    response = await client.post(BATCH, content=body, headers=headers)
    assert response.status_code == 200, response.text
    results = response.json()["results"]
    assert results[0]["http_status"] == 202
    for (what, loc), result in zip(expected, results[1:], strict=True):
        assert result["http_status"] == 422, (what, result)
        assert any(e["loc"] == loc for e in result["errors"]), (what, result)
    consumer = await consumer_factory(app.state.settings.plans_topic)
    events = await read_events(consumer, 1)
    assert [str(e.plan_id) for _, e in events] == [honest["plan_id"]]


async def test_an_overflowing_literal_in_a_batch_is_refused_for_its_item_only(make_gateway, tokens):
    """1e400 is valid JSON syntax (RFC 8259 does not bound exponents): its item is refused
    naming the field, the others of the batch are answered on their own."""
    client, _ = await make_gateway()
    text = json.dumps(plan()).replace(TRIP, '"trip_kwh_after": 1e400')
    body = '{"plans": [' + json.dumps(plan()) + "," + text + "]}"
    headers = {**auth(tokens["driver-anna"]), "content-type": "application/json"}
    response = await client.post(BATCH, content=body, headers=headers)
    assert response.status_code == 200, response.text
    ok, bad = response.json()["results"]
    assert ok["http_status"] == 202 and bad["http_status"] == 422
    assert bad["errors"] == [
        {"loc": "stops[0].trip_kwh_after", "reason": "Input should be a finite number"}
    ]


@pytest.mark.parametrize("literal", ["NaN", "Infinity", "-Infinity"])
async def test_batch_that_is_not_json_is_refused_whole_with_422(make_gateway, tokens, literal):
    client, _ = await make_gateway()
    text = json.dumps(plan()).replace('"trip_kwh_after": 6.0', f'"trip_kwh_after": {literal}')
    body = '{"plans": [' + json.dumps(plan()) + "," + text + "]}"
    headers = {**auth(tokens["driver-anna"]), "content-type": "application/json"}
    response = await client.post(BATCH, content=body, headers=headers)
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/problem+json"


async def test_same_revision_with_another_body_gets_409_and_changes_nothing(
    make_gateway, tokens, consumer_factory
):
    client, app = await make_gateway()
    headers = auth(tokens["driver-anna"])
    body = plan(revision=3)
    assert (await client.post(URL, json=body, headers=headers)).status_code == 202
    assert (await client.post(URL, json=body, headers=headers)).status_code == 202  # retry
    changed = {**body, "bid": [{"energy_kwh": 20.0, "price_eur_mwh": 900.0}]}
    response = await client.post(URL, json=changed, headers=headers)
    assert response.status_code == 409, response.text
    [error] = response.json()["errors"]
    assert error["loc"] == "revision" and "different body" in error["reason"]
    batch = await client.post(BATCH, json={"plans": [changed]}, headers=headers)
    assert batch.json()["results"][0]["http_status"] == 409
    # Written differently but equal in value (key order, 10 for 10.0): the same plan.
    same = json.dumps(dict(reversed(list(body.items())))).replace("10.0", "10")
    retry = await client.post(URL, content=same, headers=headers)
    assert retry.status_code == 202, retry.text
    consumer = await consumer_factory(app.state.settings.plans_topic)
    events = await read_events(consumer, 1)
    assert len(events) == 1 and events[0][1].bid[0].energy_kwh == 10.0
    higher = {**changed, "revision": 4}
    assert (await client.post(URL, json=higher, headers=headers)).status_code == 202
