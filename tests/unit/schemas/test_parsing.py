import json

import pytest

from schemas import parse_plan, parse_plan_event
from schemas.parsing import loc_path

from .factories import plan_dict, stop


def test_loc_path_formats_indices_and_names():
    assert loc_path(("stops", 1, "arrival")) == "stops[1].arrival"
    assert loc_path(()) == ""
    assert loc_path(("bid", 0)) == "bid[0]"


@pytest.mark.parametrize("as_bytes", [True, False])
def test_valid_plan_parses_from_bytes_and_dicts(as_bytes):
    raw = plan_dict()
    plan, errors = parse_plan(json.dumps(raw).encode() if as_bytes else raw)
    assert errors == [] and plan is not None
    assert plan.stops[0].arrival.utcoffset() is not None


def test_naive_timestamps_are_rejected_with_their_path():
    raw = plan_dict(
        stops=[
            stop("P1", "2026-11-25T08:00:00+01:00", "2026-11-25T09:00:00+01:00"),
            stop("P1", "2026-11-25T10:00:00", "2026-11-25T11:00:00"),
        ]
    )
    plan, errors = parse_plan(raw)
    assert plan is None
    assert [e.loc for e in errors] == ["stops[1].arrival", "stops[1].departure"]
    assert errors[0].reason.startswith("timestamp without offset: naive timestamps are rejected")


def test_missing_fields_are_listed_with_their_paths():
    raw = plan_dict()
    del raw["vehicle_id"]
    del raw["stops"][0]["departure"]
    _, errors = parse_plan(raw)
    assert {(e.loc, e.reason) for e in errors} == {
        ("vehicle_id", "field required"),
        ("stops[0].departure", "field required"),
    }


def test_unknown_fields_and_bad_types_are_all_reported():
    raw = plan_dict(colour="red", initial_soc_kwh=-1, bid=[{"energy_kwh": 0, "price_eur_mwh": 1}])
    _, errors = parse_plan(raw)
    assert {e.loc for e in errors} == {"colour", "initial_soc_kwh", "bid[0].energy_kwh"}
    assert next(e.reason for e in errors if e.loc == "colour") == "unknown field"


def test_invalid_json_is_one_error_for_the_whole_document():
    plan, errors = parse_plan(b'{"plan_id": ')
    assert plan is None
    assert len(errors) == 1 and errors[0].loc == "" and errors[0].reason.startswith("invalid JSON")


def test_plan_event_without_event_type_names_the_field():
    _, errors = parse_plan_event(json.dumps(plan_dict()).encode())
    assert [(e.loc, e.reason) for e in errors] == [
        ("event_type", "event_type must be 'PlanSubmitted' or 'PlanCancelled'")
    ]


def test_plan_event_errors_have_paths_without_the_union_tag():
    raw = plan_dict(event_type="PlanSubmitted", schema_version=2)
    raw["stops"][0]["arrival"] = "2026-11-25T08:00:00"
    event, errors = parse_plan_event(json.dumps(raw))
    assert event is None
    assert [e.loc for e in errors] == ["schema_version", "stops[0].arrival"]
    assert errors[0].reason == "unsupported schema_version 2: this consumer reads schema_version 1"


def test_plan_event_parses_a_submitted_plan():
    event, errors = parse_plan_event(plan_dict(event_type="PlanSubmitted", source="ingest"))
    assert errors == [] and event is not None and event.event_type == "PlanSubmitted"


def test_numeric_timestamps_are_rejected():
    raw = plan_dict(stops=[stop("P1", 1764054000, "2026-11-25T11:00:00+01:00")])  # type: ignore[arg-type]
    _, errors = parse_plan(raw)
    assert [(e.loc, e.reason) for e in errors] == [
        ("stops[0].arrival", "timestamp must be an ISO 8601 string with an offset")
    ]
