import base64
import json

import pytest
from pydantic import ValidationError

from schemas import (
    PLAN_EVENT_ADAPTER,
    AggregateBid,
    AuctionCleared,
    AuctionConfig,
    ChargingPoint,
    Event,
    FieldError,
    MarketResult,
    Node,
    PlanCancelled,
    PlanSubmitted,
    RejectedEvent,
    ScheduleDecision,
)

from .factories import DAY, plan
from .samples import AREA_DAY, STARTS, every_event

EVENTS = every_event()
IDS = [type(e).__name__ for e in EVENTS]


@pytest.mark.parametrize("event", EVENTS, ids=IDS)
def test_every_event_round_trips_through_json(event: Event):
    text = event.model_dump_json()
    back = type(event).model_validate_json(text)
    assert back == event
    assert back.model_dump_json() == text


@pytest.mark.parametrize("event", EVENTS, ids=IDS)
def test_every_event_carries_the_envelope_and_its_type(event: Event):
    data = json.loads(event.model_dump_json())
    assert data["event_type"] == type(event).__name__
    assert data["schema_version"] == 1
    assert data["event_id"] and data["occurred_at"]


@pytest.mark.parametrize("event", EVENTS, ids=IDS)
@pytest.mark.parametrize("version", [0, 2, "1", True])
def test_wrong_schema_version_is_a_precise_error(event: Event, version: object):
    data = json.loads(event.model_dump_json())
    data["schema_version"] = version
    with pytest.raises(ValidationError) as info:
        type(event).model_validate(data)
    (error,) = info.value.errors()
    assert error["loc"] == ("schema_version",)
    assert error["msg"] == (
        f"unsupported schema_version {version!r}: this consumer reads schema_version 1"
    )


@pytest.mark.parametrize("event", EVENTS, ids=IDS)
def test_naive_occurred_at_is_rejected(event: Event):
    data = json.loads(event.model_dump_json())
    data["occurred_at"] = "2026-11-24T12:00:00"
    with pytest.raises(ValidationError, match="occurred_at"):
        type(event).model_validate(data)


@pytest.mark.parametrize("event", EVENTS, ids=IDS)
def test_unknown_fields_are_rejected(event: Event):
    data = json.loads(event.model_dump_json())
    data["surprise"] = 1
    with pytest.raises(ValidationError, match="surprise"):
        type(event).model_validate(data)


def test_plan_event_union_dispatches_on_event_type():
    submitted, cancelled = EVENTS[0], EVENTS[1]
    assert PLAN_EVENT_ADAPTER.validate_json(submitted.model_dump_json()) == submitted
    assert PLAN_EVENT_ADAPTER.validate_json(cancelled.model_dump_json()) == cancelled
    assert isinstance(PLAN_EVENT_ADAPTER.validate_json(cancelled.model_dump_json()), PlanCancelled)


def test_plan_submitted_carries_the_plan_flat():
    event = PlanSubmitted.from_plan(plan(), source="direct")
    data = json.loads(event.model_dump_json())
    assert data["stops"][0]["charging_point_id"] == "P1"
    assert data["source"] == "direct"
    assert event.to_plan() == plan()


def test_plan_submitted_requires_the_plan_fields():
    with pytest.raises(ValidationError) as info:
        PlanSubmitted.model_validate({"event_type": "PlanSubmitted"})
    missing = {e["loc"][0] for e in info.value.errors() if e["type"] == "missing"}
    assert missing == {"plan_id", "vehicle_id", "market_area", "delivery_day", "stops", "bid"}


def test_rejected_event_keeps_the_original_bytes():
    raw = bytes(range(256))
    event = RejectedEvent.from_record(
        topic="charging-plans",
        partition=0,
        offset=7,
        key=b"V1",
        value=raw,
        reasons=[FieldError(loc="", reason="invalid JSON")],
    )
    back = RejectedEvent.model_validate_json(event.model_dump_json())
    assert back.value == raw
    assert back.key == b"V1"
    assert json.loads(event.model_dump_json())["value_b64"] == base64.b64encode(raw).decode()


def test_rejected_event_rejects_text_that_is_not_base64():
    data = json.loads(EVENTS[2].model_dump_json()) | {"value_b64": "not base64!"}
    with pytest.raises(ValidationError, match="value_b64"):
        RejectedEvent.model_validate(data)


def test_rejected_event_needs_a_reason():
    data = json.loads(EVENTS[2].model_dump_json()) | {"reasons": []}
    with pytest.raises(ValidationError, match="reasons"):
        RejectedEvent.model_validate(data)


def test_per_mtu_lists_must_match_mtu_starts():
    with pytest.raises(ValidationError, match="bid_curves has 23 entries, mtu_starts has 24"):
        AggregateBid(**AREA_DAY, mtu_starts=STARTS, bid_curves=[[]] * 23)
    with pytest.raises(ValidationError, match="awarded_mwh has 1 entries"):
        MarketResult(
            **AREA_DAY,
            status="cleared",
            mtu_starts=STARTS,
            prices_eur_mwh=[1.0] * 24,
            awarded_mwh=[1.0],
        )
    with pytest.raises(ValidationError, match=r"nodes\[0\].energy_kwh has 2 entries"):
        AuctionCleared.model_validate(
            json.loads(EVENTS[6].model_dump_json())
            | {"nodes": [{"node_id": "N1", "energy_kwh": [0, 0], "price_eur_mwh": [0] * 24}]}
        )


def test_cleared_market_result_needs_prices():
    with pytest.raises(ValidationError, match="cleared result needs"):
        MarketResult(**AREA_DAY, status="cleared")
    assert MarketResult(**AREA_DAY, status="cancelled", reason="market decoupled").awarded_mwh == []


def test_rejected_decision_needs_a_reason():
    with pytest.raises(ValidationError, match="at least one reason"):
        ScheduleDecision.model_validate(
            json.loads(EVENTS[7].model_dump_json()) | {"status": "rejected", "reasons": []}
        )


def test_area_day_events_are_keyed_by_area_and_day():
    assert EVENTS[4].key == "PL/2026-11-25"  # type: ignore[attr-defined]


def test_auction_config_checks_its_network_and_forecast():
    with pytest.raises(ValidationError) as info:
        AuctionConfig(
            market_area="PL",
            nodes=[Node(id="N1", capacity_kw=1.0), Node(id="N1", capacity_kw=2.0)],
            charging_points=[ChargingPoint(id="P1", node_id="NX", max_power_kw=22.0)],
            price_forecast={DAY: [1.0] * 23},
        )
    message = str(info.value)
    assert "duplicate node ids: N1" in message
    assert "charging_points[0]: unknown node 'NX'" in message
    assert "price_forecast[2026-11-25]: 23 prices, the day has 24 MTUs" in message


def test_auction_config_forecast_length_follows_dst_and_mtu():
    from datetime import date

    spring, autumn = date(2026, 3, 29), date(2026, 10, 25)
    config = AuctionConfig(
        market_area="PL", mtu_minutes=15, price_forecast={spring: [1.0] * 92, autumn: [2.0] * 100}
    )
    assert len(config.forecast_for(spring) or []) == 92
    assert config.forecast_for(DAY) is None
    assert len(config.mtu_starts_for(autumn)) == 100


def test_auction_config_defaults_follow_the_design():
    config = AuctionConfig(market_area="PL")
    assert (config.timezone, config.mtu_minutes) == ("Europe/Warsaw", 60)
    assert config.gate_closure_for(DAY).isoformat() == "2026-11-24T12:00:00+01:00"
    assert (config.price_min_eur_mwh, config.price_max_eur_mwh) == (-500.0, 4000.0)


def test_auction_config_rejects_unknown_timezone_and_mtu():
    with pytest.raises(ValidationError, match="unknown timezone 'Mars/Olympus'"):
        AuctionConfig(market_area="PL", timezone="Mars/Olympus")
    with pytest.raises(ValidationError, match="mtu_minutes"):
        AuctionConfig.model_validate({"market_area": "PL", "mtu_minutes": 30})
