"""The instance mirror (schemas/fastinstance.py) accepts only what AuctionInstance accepts,
with the same values; whatever it refuses or is unsure of goes the pydantic way."""

from __future__ import annotations

import json
import random
from datetime import UTC, datetime
from typing import Any

import msgspec
import pytest
from hypothesis import event, given, settings
from hypothesis import strategies as st
from pydantic import BaseModel, ValidationError

from schemas.auction import AuctionInstance
from schemas.fastinstance import FastInstance, parse_fast
from tests.unit.auction.factory import random_instance
from tests.unit.ingest.test_fastparse import Raw, to_json  # JSON text with raw literals


def plain(value: Any) -> Any:
    """The values of a parsed instance, the same shape for the struct and the model;
    timestamps as (instant, offset), which is all the engine reads of them."""
    if isinstance(value, BaseModel):
        return {k: plain(getattr(value, k)) for k in type(value).model_fields}
    if isinstance(value, msgspec.Struct):
        return {k: plain(getattr(value, k)) for k in value.__struct_fields__}
    if isinstance(value, list):
        return [plain(v) for v in value]
    if isinstance(value, datetime):
        return (value.astimezone(UTC), value.utcoffset())
    return value


# Values near the edges, by kind; a leaf gets one of its own kind or, as often, of any kind
# (a mismatch must be refused by both parsers, or by the mirror alone).
TIMESTAMPS: list[Any] = [
    "2026-11-25T08:00:00.1234567+01:00",
    "2026-11-25T08:00:00.123456+01:00",
    "2026-11-25T08:00+01:00",
    "2026-11-25 08:00:00+01:00",
    "2026-11-25T08:00:00",
    "2026-11-25t08:00:00z",
    "2026-11-25T08:00:00+0100",
    "2026-11-25T24:00:00+01:00",
    "2026-11-25T08:00:60+01:00",
    "1999-12-23T23:59:59Z",
    "1999-12-24T00:00:00Z",
    "3000-01-02T00:00:00Z",
    "3000-01-02T00:00:01Z",
    "2026-11-25T08:00:00+24:00",
    Raw('"2026-11-25T0\\u0038:00:00+01:00"'),
    "20261125T080000Z",
    0,
    1.5,
]
NUMBERS: list[Any] = [
    -1.0,
    0,
    0.0,
    -0.0,
    7,
    1e-7,
    1e4,
    10000.000001,
    1e5,
    -100000.5,
    1e7,
    10000000.5,
    1e6,
    Raw("1e400"),
    Raw("NaN"),
    Raw("Infinity"),
    Raw("12.3456789"),
    Raw("1E5"),
    Raw("60.0"),
    "1.5",
    True,
    False,
    None,
]
STRINGS: list[Any] = [
    "",
    "x" * 64,
    "x" * 65,
    "V\x7f1",
    Raw('"V\\n1"'),
    Raw('"\\u00e9"'),
    "Ü" * 33,
    "é",
    "Europe/Warsaw",
    "UTC",
    "Mars/Olympus",
    "x" * 33,
    60,
    None,
    "{12345678-1234-5678-1234-567812345678}",
    "12345678123456781234567812345678",
    "urn:uuid:12345678-1234-5678-1234-567812345678",
    "12345678-1234-5678-1234-56781234567G",
]
DAYS: list[Any] = [
    "2026-11-25T00:00:00",
    "1999-12-31",
    "2000-01-01",
    "3000-01-01",
    "2999-12-31",
    "20261125",
    0,
]
OTHERS: list[Any] = [[], {}, [1.0] * 101, "true", 1, 0, None, 15, 30, 60.0]
ALL = TIMESTAMPS + NUMBERS + STRINGS + DAYS + OTHERS


def _kind(value: Any) -> list[Any]:
    if isinstance(value, str):
        if len(value) == 10 and value[4] == "-":
            return DAYS
        return TIMESTAMPS if len(value) > 18 and value[10] == "T" else STRINGS
    if isinstance(value, int | float) and not isinstance(value, bool):
        return NUMBERS
    return OTHERS


def _leaves(doc: Any, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    if isinstance(doc, dict):
        return [path] + [p for k, v in doc.items() for p in _leaves(v, (*path, k))]
    if isinstance(doc, list):
        return [path] + [p for i, v in enumerate(doc) for p in _leaves(v, (*path, i))]
    return [path]


@st.composite
def near_valid_text(draw: st.DrawFn) -> str:
    """A valid instance's JSON with a few leaves replaced, removed or added. The leaf is
    drawn by its field (plans[*].stops[*].arrival, ...), so every field is hit as often."""
    seed = draw(st.integers(0, 10_000))
    inst = random_instance(random.Random(seed), n_plans=draw(st.integers(1, 4)))
    doc = json.loads(inst.model_dump_json())
    if draw(st.booleans()):
        doc["awarded_mwh"] = [0.5] * len(doc["prices_eur_mwh"])
    for _ in range(draw(st.sampled_from([1, 1, 1, 2, 3]))):
        fields: dict[tuple[Any, ...], list[tuple[Any, ...]]] = {}
        for path in _leaves(doc)[1:]:
            fields.setdefault(tuple("*" if isinstance(k, int) else k for k in path), []).append(
                path
            )
        path = draw(st.sampled_from(fields[draw(st.sampled_from(sorted(fields, key=str)))]))
        parent = doc
        for key in path[:-1]:
            parent = parent[key]
        how = draw(st.integers(0, 9))
        if how == 0 and isinstance(parent, dict):  # a field missing
            del parent[path[-1]]
        elif how == 1 and isinstance(parent, dict):  # an unknown field beside it
            parent["extra"] = 1
        else:
            pool = _kind(parent[path[-1]]) if draw(st.booleans()) else ALL
            parent[path[-1]] = draw(st.sampled_from(pool))
    return to_json(doc)


def _model(text: str) -> AuctionInstance | None:
    try:
        return AuctionInstance.model_validate_json(text)
    except ValidationError:
        return None


@settings(max_examples=1000, deadline=None, derandomize=True)
@given(near_valid_text())
def test_what_the_mirror_accepts_the_model_accepts_with_the_same_values(text: str) -> None:
    fast = parse_fast(text.encode())
    model = _model(text)
    event(f"mirror {'accepts' if fast else 'refuses'}, model {'accepts' if model else 'refuses'}")
    if fast is not None:
        assert model is not None, text
        assert plain(fast) == plain(model)


@pytest.mark.parametrize("seed", range(20))
def test_ordinary_instances_take_the_fast_path(seed: int) -> None:
    inst = random_instance(seed, n_plans=5, mtu_minutes=15 if seed % 2 else 60)
    text = inst.model_dump_json().encode()
    fast = parse_fast(text)
    assert isinstance(fast, FastInstance)
    assert plain(fast) == plain(inst)


def _text_with(**raw: str) -> str:
    """A valid instance's JSON with some leaves written as the given raw JSON text."""
    doc = json.loads(random_instance(3, n_plans=2).model_dump_json())
    places = {
        "arrival": (doc["plans"][0]["stops"][0], "arrival"),
        "vehicle": (doc["vehicles"][0], "id"),
        "mtu": (doc, "mtu_minutes"),
        "active": (doc["charging_points"][0], "active"),
        "day": (doc, "delivery_day"),
    }
    for name in raw:
        parent, key = places[name]
        parent[key] = f"@{name}@"
    text = json.dumps(doc)
    for name, value in raw.items():
        text = text.replace(f'"@{name}@"', value)
    return text


@pytest.mark.parametrize(
    "raw",
    [
        {"arrival": '"2026-11-25T08:00:00.1234567+01:00"'},  # msgspec rounds, pydantic cuts
        {"arrival": '"2026-11-25T0\\u0038:00:00+01:00"'},  # an escape could spell digits
        {"vehicle": '"V\\n1"'},  # an escaped control character: the model names the error
        {"vehicle": '"V\x7f1"'},  # a raw DEL byte
        {"mtu": "60.0"},  # a lax int: the model's call
        {"active": "1"},  # a lax bool
    ],
)
def test_text_the_mirror_could_read_differently_goes_the_model_way(raw: dict[str, str]) -> None:
    text = _text_with(**raw)
    assert parse_fast(_text_with().encode()) is not None  # the same text otherwise: fast
    assert parse_fast(text.encode()) is None


@pytest.mark.parametrize(
    "raw",
    [
        {"day": '"1999-12-31"'},
        {"day": '"3000-01-01"'},
        {"arrival": '"1999-12-23T23:59:59Z"'},
        {"arrival": '"3000-01-02T00:00:01Z"'},
    ],
)
def test_days_and_timestamps_out_of_range_are_refused_by_both(raw: dict[str, str]) -> None:
    text = _text_with(**raw)
    assert parse_fast(text.encode()) is None
    assert _model(text) is None
