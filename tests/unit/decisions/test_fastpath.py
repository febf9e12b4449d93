"""The consumer's fast decision parser gives exactly the model's verdict and the same row."""

from __future__ import annotations

import json

import orjson
import pytest
from pydantic import ValidationError

from schemas.market import ScheduleDecision
from schemas.parsing import errors_from
from services.common.usable import InvalidRecord
from services.decisions.fastpath import Decision, from_model, parse_decision
from tests.unit.decisions.factories import decision

GOOD = orjson.loads(decision(energies={("P1", 1): 1.0, ("P2", 3): 2.5}).model_dump_json())


def _variant(**changes: object) -> bytes:
    body = {**GOOD, **changes}
    # json writes NaN as the JSON literal (orjson would write null)
    return json.dumps({k: v for k, v in body.items() if v is not _DROP}).encode()


_DROP = object()

CASES = {
    "valid": _variant(),
    "numeric timestamp": _variant(occurred_at=1764072000),
    "naive timestamp": _variant(occurred_at="2026-11-25T10:00:00"),
    "numeric allocation time": _variant(
        allocations=[{"charging_point_id": "P1", "mtu_start": 0, "energy_kwh": 1.0}]
    ),
    "schema_version 1.0": _variant(schema_version=1.0),
    "schema_version true": _variant(schema_version=True),
    "schema_version 2": _variant(schema_version=2),
    "rejected without reasons": _variant(status="rejected", reasons=[]),
    "rejected with reasons": _variant(status="rejected", reasons=[{"loc": "x", "reason": "y"}]),
    "unknown field": _variant(colour="red"),
    "unknown reason field": _variant(reasons=[{"loc": "x", "reason": "y", "z": 1}]),
    "negative energy": _variant(
        allocations=[
            {"charging_point_id": "P1", "mtu_start": GOOD["occurred_at"], "energy_kwh": -1}
        ]
    ),
    "missing event_id (model default)": _variant(event_id=_DROP),
    "missing event_type (model default)": _variant(event_type=_DROP),
    "missing defaults": _variant(phase=_DROP, reasons=_DROP, allocations=_DROP, cost_eur=_DROP),
    "wrong event type": _variant(event_type="AuctionCleared"),
    "empty vehicle": _variant(vehicle_id=""),
    "revision as text": _variant(revision="3"),
    "invalid JSON": b'{"plan_id": ',
    # Bounds (issue 10): the fast shape leaves these to the model and usable.check.
    "NaN cost": _variant(cost_eur=float("nan")),
    "revision beyond int4": _variant(revision=2**31),
    "NUL in vehicle_id": _variant(vehicle_id="V\u0000"),
    "control character in run_id": _variant(run_id="r\u0001"),
    "day before 2000": _variant(delivery_day="1999-06-01"),
    "time in year 2999": _variant(occurred_at="2999-06-01T00:00:00+00:00"),
    "time past year 9999 in UTC": _variant(occurred_at="9999-12-31T23:00:00-05:00"),
}


@pytest.mark.parametrize("name", list(CASES))
def test_the_fast_parser_gives_the_models_verdict_and_row(name: str):
    value = CASES[name]
    try:
        model = ScheduleDecision.model_validate_json(value)
    except ValidationError as exc:
        with pytest.raises(ValidationError) as got:
            parse_decision(value)
        assert errors_from(got.value) == errors_from(exc)  # the model's precise reasons
        return
    try:
        expected = from_model(model)
    except InvalidRecord as exc:  # the model takes it, but it cannot be stored
        with pytest.raises(InvalidRecord) as got_invalid:
            parse_decision(value)
        assert got_invalid.value.errors == exc.errors
        return
    row = parse_decision(value)
    if "event_id" in name:  # defaulted by the model: a fresh uuid each time
        row, expected = row._replace(event_id=None), expected._replace(event_id=None)
    assert row == expected


def test_allocations_of_one_point_and_mtu_are_summed_into_one_row():
    d = decision(energies={("P1", 1): 1.0})
    d.allocations.append(d.allocations[0].model_copy(update={"energy_kwh": 2.0}))
    row = parse_decision(d.model_dump_json().encode())
    assert isinstance(row, Decision)
    mtu = d.allocations[0].mtu_start.isoformat()
    expected = [{"charging_point_id": "P1", "mtu_start": mtu, "energy_kwh": 3.0}]
    assert orjson.loads(row.allocations) == expected
