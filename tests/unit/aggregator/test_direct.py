"""The ownership rule of direct topics, without a broker (services/aggregator/direct.py)."""

from __future__ import annotations

import re
from datetime import date

import orjson
import pytest

from schemas.parsing import parse_plan_event
from services.aggregator.configs import ConfigView
from services.aggregator.direct import (
    direct_topic,
    intake_pattern,
    plan_topics,
    producer_of,
    refusal,
)
from services.aggregator.topics import Names
from tests.integration.aggregator.fleet import cancel, config, plan

DAY = date(2026, 11, 26)
PLANS = "charging-plans"


@pytest.fixture
def configs() -> ConfigView:
    cfg = config(days=[DAY])
    owners = {v.id: "fleet-a" for v in cfg.vehicles} | {"V050": "mallory"}
    view = ConfigView("unused:9092", "auction-config")
    view.apply(cfg.model_copy(update={"vehicle_owners": owners}).model_dump_json().encode())
    return view


def test_a_direct_topic_names_its_producer():
    assert producer_of("charging-plans.direct.fleet-a", PLANS) == "fleet-a"
    for other in (
        "charging-plans",
        "charging-plans.dlq",
        "charging-plans.direct.",
        "charging-plans.direct.mallory.dlq",  # the producer's DLQ is no plan topic
        "x-charging-plans.direct.mallory",
    ):
        assert producer_of(other, PLANS) is None, other
    with pytest.raises(ValueError, match="letters, digits"):
        direct_topic(PLANS, "fleet.a")


def test_the_intake_pattern_takes_its_topics_and_direct_ones_only():
    pattern = re.compile(intake_pattern(Names("ta-")))
    for mine in (
        "ta-charging-plans",
        "ta-market-results",
        "ta-auction-commands",
        "ta-charging-plans.direct.mallory",
    ):
        assert pattern.match(mine), mine
    for other in (
        "ta-charging-plans.dlq",
        "ta-charging-plans.direct.mallory.dlq",
        "tb-charging-plans.direct.mallory",
        "ta-schedule-decisions",
        "ta-charging-plans.direct.a.b",
    ):
        assert not pattern.match(other), other
    assert plan_topics(Names("ta-"), ["ta-charging-plans.direct.z", "ta-aggregate-bids"]) == [
        "ta-charging-plans",
        "ta-charging-plans.direct.z",
    ]


def test_a_producer_may_publish_for_its_own_vehicles(configs):
    topic = "charging-plans.direct.mallory"
    for doc in (plan(50, DAY), cancel(plan(50, DAY))):
        reasons, event = refusal(orjson.dumps(doc), "mallory", topic, configs)
        assert reasons == [] and event is not None and event.vehicle_id == "V050"


def test_someone_elses_and_unknown_vehicles_are_refused_alike(configs):
    topic = "charging-plans.direct.mallory"
    theirs, _ = refusal(orjson.dumps(plan(1, DAY)), "mallory", topic, configs)
    unknown, _ = refusal(orjson.dumps(plan(1, DAY, vehicle_id="V-NONE")), "mallory", topic, configs)
    cancelled, _ = refusal(orjson.dumps(cancel(plan(1, DAY))), "mallory", topic, configs)
    assert [str(r) for r in theirs] == ["vehicle_id: vehicle 'V001' is not registered to 'mallory'"]
    assert [r.reason for r in cancelled] == [r.reason for r in theirs]
    # The same words: the producer cannot tell an existing vehicle from an unknown one,
    # and the reason does not name the real owner.
    assert unknown[0].reason == "vehicle 'V-NONE' is not registered to 'mallory'"
    assert "fleet-a" not in str(theirs)


def test_unreadable_records_and_unknown_areas_are_refused(configs):
    topic = "charging-plans.direct.mallory"
    garbage, event = refusal(b"\x00not json", "mallory", topic, configs)
    assert event is None and "its vehicle cannot be checked" in garbage[0].reason
    empty, _ = refusal(None, "mallory", topic, configs)
    assert empty[0].loc == ""
    elsewhere, _ = refusal(orjson.dumps(plan(50, DAY, area="DE")), "mallory", topic, configs)
    assert elsewhere[0].loc == "market_area"


def test_ownership_is_checked_on_the_vehicle_the_intake_will_use(configs):
    # A JSON object naming two vehicles: whichever the parser keeps is the one checked.
    doc = plan(50, DAY)
    raw = orjson.dumps(doc)[:-1] + b',"vehicle_id":"V001"}'
    reasons, event = refusal(raw, "mallory", "charging-plans.direct.mallory", configs)
    parsed, _ = parse_plan_event(raw)
    if parsed is None:
        assert event is None and reasons  # refused as unreadable
    else:
        assert event is not None and event.vehicle_id == parsed.vehicle_id
        assert bool(reasons) == (parsed.vehicle_id != "V050")
