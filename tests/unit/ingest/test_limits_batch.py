"""Batch bodies are counted and bounded before any plan model is built (batchlimits.py)."""

from __future__ import annotations

import json
import time
import tracemalloc
import uuid
from typing import Any

import msgspec
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from schemas.fastplan import FastPlan
from schemas.parsing import parse_plan
from schemas.plan import ChargingPlan
from services.ingest import batchlimits
from services.ingest.batchlimits import (
    MAX_DEPTH,
    PLAN_SEPARATORS,
    count_items,
    read_items,
    separator_budget,
    too_complex,
)
from services.ingest.problems import ProblemError
from services.ingest.routes.plans import _batch_items

MIB = 1024 * 1024
DAY = "2026-11-26"


def plan(**changes: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "plan_id": str(uuid.uuid4()),
        "revision": 1,
        "vehicle_id": "V001",
        "market_area": "PL",
        "delivery_day": DAY,
        "stops": [
            {
                "charging_point_id": "P-WORK-01",
                "arrival": f"{DAY}T08:00:00+01:00",
                "departure": f"{DAY}T16:30:00+01:00",
                "trip_kwh_after": 6.0,
            }
        ],
        "bid": [{"energy_kwh": 10.0, "price_eur_mwh": 400.0}],
    }
    body.update(changes)
    return body


def refused(body: bytes, limit: int = 10_000, max_errors: int = 10_000) -> ProblemError:
    with pytest.raises(ProblemError) as caught:
        _batch_items(body, limit, max_errors)
    return caught.value


def measured(body: bytes, **kwargs: Any) -> tuple[ProblemError, float, int]:
    """The refusal, its wall time (untraced) and the peak of traced allocations."""
    started = time.perf_counter()
    problem = refused(body, **kwargs)
    elapsed = time.perf_counter() - started
    tracemalloc.start()
    try:
        refused(body, **kwargs)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return problem, elapsed, peak


def test_sixteen_mib_of_empty_items_is_refused_in_milliseconds_without_building_them():
    items = 16 * MIB // 3
    body = b'{"plans":[' + b"{}," * (items - 1) + b"{}]}"
    assert len(body) > 16 * MIB - 16
    problem, elapsed, peak = measured(body)
    assert problem.status == 413 and "the limit is 10000" in problem.detail
    # Before: 90 s and 15 GB RSS (pydantic's errors, then orjson's dicts for 5.6 M items).
    assert elapsed < 0.5, elapsed  # measured 4-10 ms on the shared 2-core machine
    assert peak < 1 * MIB, peak  # no list of millions of objects, no copy of the body


def test_millions_of_items_of_any_kind_are_refused_before_they_are_built():
    for item in (b"0", b"[]", b'""', b"null", b'{"a":[1,{"b":"]"}]}'):
        body = b'{"plans":[' + b",".join([item] * (4 * MIB // len(item))) + b"]}"
        problem, elapsed, peak = measured(body)
        assert problem.status == 413, item
        assert elapsed < 0.5 and peak < MIB, (item, elapsed, peak)


def test_items_with_many_errors_refuse_the_batch_once_the_error_budget_is_spent():
    # 10 000 items of 48 empty stops and 50 empty bid steps: 248 errors each. Before:
    # 2.5 million errors, 22 s and 2 GB; now the batch stops at the budget.
    junk = {"stops": [{}] * 48, "bid": [{}] * 50}
    body = json.dumps({"plans": [junk] * 10_000}).encode()
    problem, elapsed, peak = measured(body, max_errors=10_000)
    assert problem.status == 422 and "more than 10000 field errors" in problem.detail
    assert len(problem.errors) == batchlimits.LISTED_ERRORS
    assert problem.errors[0].loc.startswith("plans[0].")
    assert elapsed < 3.0 and peak < 32 * MIB, (elapsed, peak)  # measured ~0.3 s, 1.2 MB


def test_an_item_larger_than_any_plan_is_refused_unparsed():
    # One 12 MB item of empty stops cost pydantic 4.6 s and 2.7 GB.
    body = b'{"plans":[{"stops":[' + b",".join([b"{}"] * 4_000_000) + b"]}]}"
    problem, elapsed, peak = measured(body)
    assert problem.status == 422 and problem.errors[0].loc == "plans[0]"
    assert str(PLAN_SEPARATORS) in problem.errors[0].reason
    assert elapsed < 0.5 and peak < MIB, (elapsed, peak)


def test_the_separator_budget_holds_the_largest_valid_plan():
    # Every string at its max_length and made of separators, every list at its max_length.
    commas = "," * 64
    largest = plan(
        vehicle_id=commas,
        market_area="," * 32,
        plan_id="{" + str(uuid.uuid4()) + "}",
        stops=[
            {
                "charging_point_id": commas,
                "arrival": f"{DAY}T08:00:00+01:00",
                "departure": f"{DAY}T08:10:00+01:00",
                "trip_kwh_after": 0,
            }
        ]
        * 48,
        bid=[{"energy_kwh": 1, "price_eur_mwh": 1}] * 50,
        initial_soc_kwh=1,
    )
    raw = json.dumps(largest).encode()
    model, errors = parse_plan(raw)
    assert model is not None, errors  # valid for the schema (rules aside)
    assert not too_complex(raw)
    assert too_complex(raw[:-1] + b"," * (PLAN_SEPARATORS - _separators(raw) + 1) + b"}")


def _separators(raw: bytes) -> int:
    return raw.count(b",") + raw.count(b"{") + raw.count(b"[")


def test_the_budget_is_derived_from_every_field_of_the_model():
    # A tripwire: a new field type must get a bound in batchlimits._value_budget (it raises).
    assert separator_budget(ChargingPlan) == PLAN_SEPARATORS > 48 * 64


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=5), children, max_size=4)
    ),
    max_leaves=20,
)


@settings(max_examples=300, deadline=None)
@given(items=st.lists(json_values, max_size=12), spaces=st.booleans())
def test_counting_agrees_with_a_json_parser(items, spaces):
    raw = json.dumps(items, indent=1 if spaces else None).encode()
    assert count_items(raw, 100) == len(items)
    assert count_items(raw, 3) == min(len(items), 4)  # stops one past the limit


def test_items_nested_deeper_than_the_bound_are_refused():
    deep = b"[" * (MAX_DEPTH + 1) + b"]" * (MAX_DEPTH + 1)
    body = b'{"plans":[' + b",".join([b"1"] * 5 + [deep] + [b"{}"] * 20_000) + b"]}"
    problem = refused(body)
    assert problem.status == 422 and problem.errors[0].loc == "plans[5]"
    hopeless = b'{"plans":[' + b"[" * 100_000 + b"]" * 100_000 + b"]}"  # msgspec's own limit
    assert refused(hopeless).status == 422


@pytest.mark.parametrize(
    ("body", "loc", "reason"),
    [
        (b'{"plans":[]}', "plans", "at least one plan"),
        (b"[]", "plans", "a JSON object with a list 'plans'"),
        (b'{"plan":[]}', "plan", "unknown field"),
        (b"{}", "plans", "a JSON object with a list 'plans'"),
        (b'{"plans":{}}', "plans", "a JSON object with a list 'plans'"),
        (b'{"plans":[],"x":1}', "x", "unknown field"),
        (b'{"plans":[{"a": nope}]}', "", "invalid JSON"),
        (b'{"plans":[NaN]}', "", "invalid JSON"),
        (b'{"plans":["\xff"]}', "", "not UTF-8"),
    ],
)
def test_bodies_that_are_not_a_batch_get_422_naming_why(body, loc, reason):
    problem = refused(body)
    assert problem.status == 422
    assert problem.errors[0].loc == loc and reason in problem.errors[0].reason


def test_items_the_fast_parse_refuses_are_parsed_one_by_one():
    escaped = json.dumps(plan(vehicle_id="V\u00e9")).encode()  # \u escape: not fast
    body = b'{"plans":[%s,%s,%s,42]}' % (
        json.dumps(plan()).encode(),
        escaped,
        json.dumps(plan(stops=[])).encode(),
    )
    items = read_items(body, 10, 100)
    assert isinstance(items[0], FastPlan)
    assert isinstance(items[1], ChargingPlan) and items[1].vehicle_id == "V\u00e9"
    assert isinstance(items[2], bytes) and isinstance(items[3], bytes)  # errors: the gateway's
    assert json.loads(items[2])["stops"] == []


def test_well_formed_batches_keep_the_fast_parse():
    body = json.dumps({"plans": [plan() for _ in range(3)]}).encode()
    assert all(isinstance(p, FastPlan) for p in _batch_items(body, 3, 10))
    problem = refused(body, limit=2)  # "plan_id" counted: msgspec is not even asked
    assert problem.status == 413


def test_split_items_are_the_arrays_items():
    raw = b'[{"a": [1, 2]}, "x,y", 3]'
    assert count_items(raw, 10) == 3
    assert [bytes(r) for r in msgspec.json.decode(raw, type=list[msgspec.Raw])] == [
        b'{"a": [1, 2]}',
        b'"x,y"',
        b"3",
    ]
