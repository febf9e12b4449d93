"""Bad instances: every error is reported, each with its field path."""

from __future__ import annotations

import json
from pathlib import Path

from auction.instance_check import check_instance, parse_instance
from schemas.auction import AuctionInstance

EXAMPLE = Path(__file__).resolve().parents[3] / "examples" / "instance.json"


def example() -> dict:  # type: ignore[type-arg]
    return json.loads(EXAMPLE.read_text())


def errors_of(doc: dict, phase: int = 1) -> list[str]:  # type: ignore[type-arg]
    inst, errors = parse_instance(json.dumps(doc))
    return errors if inst is None else check_instance(inst, phase)


def test_the_example_instance_is_valid_in_phase_1() -> None:
    assert errors_of(example()) == []


def test_every_semantic_error_is_listed_with_its_path() -> None:
    doc = example()
    doc["prices_eur_mwh"] = doc["prices_eur_mwh"][:23]
    doc["nodes"][0]["capacity_kw_by_mtu"] = [10.0] * 5
    doc["charging_points"][3]["node_id"] = "N-NOWHERE"
    p0 = doc["plans"][0]
    p0["stops"][1]["charging_point_id"] = "P-UNKNOWN"
    p0["stops"][2]["arrival"] = "2026-11-25T16:00:00+01:00"  # before stops[1] departs
    p0["bid"][1]["price_eur_mwh"] = 500.0  # rises above bid[0] = 400
    doc["plans"][1]["vehicle_id"] = "EV-GHOST"
    doc["plans"][2]["stops"][0]["departure"] = "2026-11-26T01:00:00+01:00"
    doc["plans"][2]["initial_soc_kwh"] = 90.0
    doc["plans"][3]["plan_id"] = doc["plans"][0]["plan_id"]
    doc["plans"][3]["bid"][0]["price_eur_mwh"] = 5000.0
    errors = errors_of(doc)
    expected = [
        "prices_eur_mwh: 23 prices given, 2026-11-25 in Europe/Warsaw has 24 MTUs of 60 min",
        "nodes[0].capacity_kw_by_mtu: 5 values, the day has 24 MTUs",
        "charging_points[3].node_id: unknown node 'N-NOWHERE'",
        "plans[0].stops[1].charging_point_id: unknown charging point 'P-UNKNOWN'",
        "plans[0].stops[2] overlaps stops[1]",
        "plans[0].bid[1].price_eur_mwh: rises above bid[0]",
        "plans[1].vehicle_id: unknown vehicle 'EV-GHOST'",
        "plans[2].stops[0]: outside the delivery day",
        "plans[2].initial_soc_kwh: 90.0 exceeds the battery of 77.0 kWh",
        "plans[3].plan_id: duplicate of plans[0]",
        "plans[3].bid[0].price_eur_mwh: 5000.0 outside the market limits",
    ]
    for want in expected:
        assert any(e.startswith(want) for e in errors), (want, errors)
    assert len(errors) == len(expected)


def test_naive_timestamps_and_shape_errors_are_all_reported() -> None:
    doc = example()
    doc["plans"][0]["stops"][0]["arrival"] = "2026-11-25T00:00:00"
    doc["plans"][1]["bid"] = []
    doc["vehicles"][0]["colour"] = "red"
    errors = errors_of(doc)
    assert any(e.startswith("plans[0].stops[0].arrival:") and "timezone" in e for e in errors)
    assert any(e.startswith("plans[1].bid:") for e in errors)
    assert any(e.startswith("vehicles[0].colour:") for e in errors)
    assert len(errors) == 3


def test_phase_2_needs_one_awarded_quantity_per_mtu() -> None:
    assert errors_of(example(), phase=2) == ["awarded_mwh: required in phase 2"]
    doc = example()
    doc["awarded_mwh"] = [1.0] * 25
    assert errors_of(doc, phase=2) == [
        "awarded_mwh: 25 quantities given, 2026-11-25 in Europe/Warsaw has 24 MTUs of 60 min"
    ]


def test_unknown_timezone_and_mtu_length_are_rejected() -> None:
    inst = AuctionInstance.model_validate(example() | {"timezone": "Mars/Olympus"})
    assert check_instance(inst) == ["timezone: unknown time zone 'Mars/Olympus'"]
    inst = AuctionInstance.model_validate(example() | {"mtu_minutes": 20})
    assert check_instance(inst)[0].startswith("mtu_minutes: must be one of")
