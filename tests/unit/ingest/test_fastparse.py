"""The batch fast parse (msgspec) accepts only what the pydantic schema accepts, with the
same values and the same serialized event body; everything else goes the pydantic way."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any
from uuid import UUID
from zoneinfo import ZoneInfo

import msgspec
import pydantic
import pytest
from hypothesis import HealthCheck, event, example, given, settings
from hypothesis import strategies as st
from pydantic import TypeAdapter, ValidationError

from schemas.base import FIRST_DAY, LAST_DAY, MAX_ENERGY_KWH
from schemas.base import MAX_ABS_PRICE_EUR_MWH as MAX_PRICE
from schemas.fastplan import FastPlan, FastStop, encode_plan, parse_one, to_model
from schemas.mirror import check_mirror, field_type
from schemas.parsing import parse_plan
from schemas.plan import BidStep, ChargingPlan, Stop
from services.ingest.fastparse import parse_batch
from services.ingest.routes.plans import _BATCH

PLANS = TypeAdapter(list[ChargingPlan])


@dataclass(frozen=True)
class Raw:
    """JSON text written as is (number literals, escapes) instead of json.dumps(value)."""

    text: str


def to_json(value: Any) -> str:
    if isinstance(value, Raw):
        return value.text
    if isinstance(value, dict):
        return "{" + ",".join(f"{json.dumps(k)}:{to_json(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list):
        return "[" + ",".join(to_json(v) for v in value) + "]"
    return json.dumps(value, ensure_ascii=False)


MISSING = object()

digits = st.integers(0, 99).map(lambda n: f"{n:02d}")
fraction = st.one_of(
    st.just(""),
    st.integers(1, 9).flatmap(
        lambda k: st.text("0123456789", min_size=k, max_size=k).map(lambda t: "." + t)
    ),
    st.sampled_from([".", ",5", ".9999999", ".0000005", ".1234565"]),
)
offset = st.one_of(
    st.sampled_from(["Z", "z", "+00:00", "-00:00", "+01:00", "+02:00", "-05:00", "+23:59"]),
    st.sampled_from(["", "+01", "+0100", "+24:00", "+01:60", "+1:00", " +01:00", "UTC"]),
)


@st.composite
def timestamp(draw: st.DrawFn) -> Any:
    kind = draw(st.integers(0, 19))
    if kind == 0:
        return draw(st.one_of(st.integers(), st.floats(allow_nan=False), st.none(), st.booleans()))
    days = ["2026-11-26", "2026-03-29", "2026-02-30", "2026-13-01", "20261126"]
    days += ["9999-12-31", "0001-01-01", "1999-12-24", "1999-12-31", "3000-01-01", "2999-12-31"]
    day = draw(st.sampled_from(days))
    sep = draw(st.sampled_from(["T", "T", "T", "t", " ", "_"]))
    hh = draw(st.one_of(st.sampled_from(["00", "07", "08", "16", "23"]), digits))
    mm = draw(st.one_of(st.sampled_from(["00", "30", "59"]), digits))
    seconds = st.sampled_from([":00", ":00", ":59", ":60", ""])
    ss = draw(st.one_of(seconds, digits.map(":{}".format)))
    text = f"{day}{sep}{hh}:{mm}{ss}{draw(fraction)}{draw(offset)}"
    if kind == 1:  # a digit spelled as an escape: same string to both parsers
        i = draw(st.integers(0, len(text) - 1))
        text = text[:i] + text[i:].replace(text[i], f"\\u{ord(text[i]):04x}", 1)
        return Raw(json.dumps(text).replace("\\\\u", "\\u"))
    return text


number = st.one_of(
    st.sampled_from([0.0, 1.0, 6.0, 10.0, 12.5, 150.0, 400.0, -0.0, -1.0, 1e-7, 1e16, 0.1]),
    st.floats(allow_nan=False, allow_infinity=False),
    st.integers(-(10**20), 10**20),
    st.sampled_from(
        [Raw("1e400"), Raw("-1e400"), Raw("NaN"), Raw("Infinity"), Raw("1E5"), Raw("12.3456789")]
    ),
    # the declared bounds (schemas/base.py) and just beyond them
    st.sampled_from([1e4, 10000.000001, 1e5, -1e5, 100000.5, -100000.5, Raw("1e308")]),
    st.sampled_from(["1.5", "", "abc", None, True, False]),
)
text64 = st.one_of(
    st.sampled_from(["V001", "P-WORK-01", "PL", "", "x" * 64, "x" * 65, "\x00", "Ü" * 33]),
    st.sampled_from(["V1\n", "V\x7f1", "\tV", "V\u00a0"]),
    st.text(max_size=70),
    st.integers(),
    st.none(),
)
uuid_text = st.one_of(
    st.uuids().map(str),
    st.uuids().map(lambda u: u.hex),
    st.uuids().map(lambda u: str(u).upper()),
    st.uuids().map(lambda u: "{" + str(u) + "}"),
    st.uuids().map(lambda u: "urn:uuid:" + str(u)),
    st.sampled_from(["", "not-a-uuid", "12345678-1234-5678-1234-56781234567G"]),
    st.integers(),
)
revision = st.one_of(
    st.integers(0, 5),
    st.integers(-5, 2**70),
    st.sampled_from([Raw("1.0"), Raw("1e2"), "1", None, True, 1.5]),
)
day = st.one_of(
    st.sampled_from(["2026-11-26", "2026-03-29", "2026-02-30", "20261126", "2026-11-26T00:00:00"]),
    st.sampled_from(["9999-12-31", "0001-01-01", "2999-12-31", "3000-01-01", "1999-12-31"]),
    st.integers(0, 2_000_000_000),
    st.none(),
)


def maybe(strategy: st.SearchStrategy[Any], often: st.SearchStrategy[Any]) -> Any:
    """Mostly (19 in 20) a value the schema takes: the interesting cases are near-valid."""
    return st.integers(0, 19).flatmap(lambda k: strategy if k == 0 else often)


@st.composite
def stop(draw: st.DrawFn) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "charging_point_id": draw(maybe(text64, st.sampled_from(["P-HOME-01", "P-WORK-02"]))),
        "arrival": draw(maybe(timestamp(), st.just("2026-11-26T08:00:00+01:00"))),
        "departure": draw(maybe(timestamp(), st.just("2026-11-26T16:30:00+01:00"))),
        "trip_kwh_after": draw(maybe(number, st.sampled_from([0.0, 6.0, 6]))),
    }
    return _vary(draw, doc, ("trip_kwh_after",))


@st.composite
def bid_step(draw: st.DrawFn) -> dict[str, Any]:
    doc = {
        "energy_kwh": draw(maybe(number, st.sampled_from([10.0, 12, 0.5]))),
        "price_eur_mwh": draw(maybe(number, st.sampled_from([400.0, 150, -20.5]))),
    }
    return _vary(draw, doc, ())


def _vary(draw: st.DrawFn, doc: dict[str, Any], optional: tuple[str, ...]) -> dict[str, Any]:
    if draw(st.integers(0, 29)) == 0:
        del doc[draw(st.sampled_from(sorted(doc)))]
    elif optional and draw(st.integers(0, 5)) == 0:
        del doc[draw(st.sampled_from(optional))]
    if draw(st.integers(0, 29)) == 0:
        doc[draw(st.sampled_from(["extra", "Revision", "vehicle-id"]))] = 1
    if draw(st.integers(0, 9)) == 0:  # another key order
        doc = dict(reversed(list(doc.items())))
    return doc


def sized(strategy: st.SearchStrategy[Any], most: int) -> st.SearchStrategy[list[Any]]:
    odd = st.one_of(
        st.sampled_from([0, most, most + 1]).flatmap(
            lambda n: st.lists(strategy, min_size=n, max_size=n)
        ),
        st.sampled_from([None, {}, "x"]),
    )
    return maybe(odd, st.lists(strategy, min_size=1, max_size=3))


@st.composite
def plan_doc(draw: st.DrawFn) -> dict[str, Any]:
    doc = {
        "plan_id": draw(maybe(uuid_text, st.uuids().map(str))),
        "revision": draw(maybe(revision, st.integers(0, 3))),
        "vehicle_id": draw(maybe(text64, st.sampled_from(["V001", "V017"]))),
        "market_area": draw(maybe(text64, st.just("PL"))),
        "delivery_day": draw(maybe(day, st.just("2026-11-26"))),
        "initial_soc_kwh": draw(maybe(number, st.sampled_from([None, 8.0, 0]))),
        "stops": draw(sized(stop(), 48)),
        "bid": draw(sized(bid_step(), 50)),
    }
    return _vary(draw, doc, ("revision", "initial_soc_kwh"))


def offsets(plan: Any) -> list[tuple[Any, Any]]:
    return [(s.arrival.utcoffset(), s.departure.utcoffset()) for s in plan.stops]


def assert_same(fast: list[Any], models: list[ChargingPlan]) -> None:
    assert len(fast) == len(models)
    for f, m in zip(fast, models, strict=True):
        # The event body written from the fast plan reads back as the very plan pydantic
        # parsed: same values, same timestamp offsets. (Bytes may differ in how a float is
        # spelled: msgspec writes 1e16 where pydantic writes 1e+16; both read as 1e16.)
        again = ChargingPlan.model_validate_json(encode_plan(f))
        assert again == m and offsets(again) == offsets(m) == offsets(f)
        assert to_model(f) == (m, [])
        for a, b in ((f, m), *zip(f.stops, m.stops, strict=True), *zip(f.bid, m.bid, strict=True)):
            for name in type(b).model_fields:
                if name not in ("stops", "bid"):
                    x, y = getattr(a, name), getattr(b, name)
                    assert x == y and type(x) is type(y), name  # what the gateway reads


@settings(max_examples=2000, deadline=None, suppress_health_check=list(HealthCheck))
@given(st.lists(plan_doc(), min_size=1, max_size=2))
@example([{"plan_id": str(UUID(int=1)), "vehicle_id": "V", "market_area": "PL",
           "delivery_day": "2026-11-26", "bid": [{"energy_kwh": 1, "price_eur_mwh": 1}],
           "stops": [{"charging_point_id": "P", "arrival": "2026-11-26T00:00:00.1234567Z",
                      "departure": "2026-11-26T00:00:01.9999999+01:00"}]}])  # fmt: skip
def test_fast_parse_accepts_only_what_the_schema_accepts_with_equal_values(docs):
    body = to_json({"plans": docs}).encode()
    fast = parse_batch(body)
    try:
        models = _BATCH.validate_json(body).plans
    except ValidationError:
        models = None
    event(f"schema {'accepts' if models else 'rejects'}, fast path {'accepts' if fast else 'no'}")
    if fast is not None:
        assert models is not None, "fast path accepted what the schema rejects"
        assert_same(fast, models)
    for doc in docs:  # and one plan at a time
        raw = to_json(doc).encode()
        one = parse_one(raw)
        if one is not None:
            assert_same([one], [ChargingPlan.model_validate_json(raw)])


ids = st.text(
    st.characters(codec="utf-8", exclude_categories=["Cc"], exclude_characters="\\"),
    min_size=1,
    max_size=64,
)
zones = st.sampled_from(["UTC", "Europe/Warsaw", "America/New_York", "Asia/Kolkata"]).map(ZoneInfo)
instants = st.datetimes(datetime(2000, 1, 1), datetime(2100, 1, 1), timezones=zones)


@settings(max_examples=300, deadline=None)
@given(
    st.lists(
        st.fixed_dictionaries(
            {
                "plan_id": st.uuids().map(str),
                "revision": st.integers(0, 2**31 - 1),
                "vehicle_id": ids,
                "market_area": ids.map(lambda t: t[:32]),
                "delivery_day": st.dates(FIRST_DAY, LAST_DAY).map(str),
                "initial_soc_kwh": st.one_of(st.none(), st.floats(0, MAX_ENERGY_KWH)),
                "stops": st.lists(
                    st.fixed_dictionaries(
                        {
                            "charging_point_id": ids,
                            "arrival": instants.map(lambda d: d.isoformat()),
                            "departure": st.just("2026-11-26T16:30:00+01:00"),
                            "trip_kwh_after": st.floats(0, MAX_ENERGY_KWH),
                        }
                    ),
                    min_size=1,
                    max_size=4,
                ),
                "bid": st.lists(
                    st.fixed_dictionaries(
                        {
                            "energy_kwh": st.floats(1e-9, MAX_ENERGY_KWH),
                            "price_eur_mwh": st.floats(-MAX_PRICE, MAX_PRICE),
                        }
                    ),
                    min_size=1,
                    max_size=4,
                ),
            }
        ),
        min_size=1,
        max_size=5,
    )
)
def test_fast_parse_takes_the_plans_clients_send(docs):
    """Well-formed plans as a JSON library writes them (UTF-8, ISO timestamps with offsets,
    at most microseconds) take the fast path, with the values pydantic reads. (A backslash
    in a text is written as an escape, which sends the body the pydantic way.)"""
    body = json.dumps({"plans": docs}, ensure_ascii=False).encode()
    models = _BATCH.validate_json(body).plans
    fast = parse_batch(body)
    assert fast is not None
    assert_same(fast, models)


def test_fast_parse_refuses_what_it_would_read_differently():
    plan = {
        "plan_id": str(UUID(int=7)),
        "vehicle_id": "V001",
        "market_area": "PL",
        "delivery_day": "2026-11-26",
        "stops": [
            {
                "charging_point_id": "P-WORK-01",
                "arrival": "2026-11-26T08:00:00.9999999+01:00",  # pydantic truncates
                "departure": "2026-11-26T16:30:00+01:00",
            }
        ],
        "bid": [{"energy_kwh": 10.0, "price_eur_mwh": 400.0}],
    }
    assert parse_batch(json.dumps({"plans": [plan]}).encode()) is None
    plan["stops"][0]["arrival"] = "2026-11-26T08:00:00.999999+01:00"
    assert parse_batch(json.dumps({"plans": [plan]}).encode()) is not None
    plan["revision"] = "2"  # the schema takes it, the fast path leaves it to the schema
    assert parse_batch(json.dumps({"plans": [plan]}).encode()) is None
    assert _BATCH.validate_json(json.dumps({"plans": [plan]})).plans[0].revision == 2


def test_mirror_refuses_a_struct_that_drifts_from_its_model():
    """The fast structs take their bounds from the pydantic fields (schemas/mirror.py) and
    are checked against the model at import: a field added, renamed, reordered or given
    another default in ChargingPlan makes the import fail instead of a silent gap."""

    class Renamed(msgspec.Struct, kw_only=True):
        energy: float
        price_eur_mwh: float

    class OtherDefault(msgspec.Struct, kw_only=True):
        charging_point_id: str
        arrival: datetime
        departure: datetime
        trip_kwh_after: float = 1.0

    with pytest.raises(TypeError, match="fields"):
        check_mirror(Renamed, BidStep)
    with pytest.raises(TypeError, match="default"):
        check_mirror(OtherDefault, Stop)


def test_mirror_refuses_a_constraint_it_cannot_express():
    class Odd(pydantic.BaseModel):
        x: Annotated[float, pydantic.Field(multiple_of=0.5)]

    with pytest.raises(TypeError, match="no msgspec mirror"):
        field_type(Odd, "x")


def test_mirror_reads_every_bound_from_the_schema():
    """The same numbers as the model, not copies: a bound changed in schemas/base.py is the
    fast path's bound too."""
    trip = msgspec.structs.fields(FastStop)[3].type
    meta = trip.__metadata__[0]
    assert (meta.ge, meta.le) == (0, MAX_ENERGY_KWH)
    vid = msgspec.structs.fields(FastPlan)[1].type.__metadata__[0]
    assert (vid.min_length, vid.max_length) == (1, 64)
    # The id pattern (no control characters) is kept by the body scan, not a regex per id:
    assert vid.pattern is None
    doc = {
        "plan_id": str(UUID(int=7)), "vehicle_id": "V001", "market_area": "PL",
        "delivery_day": "2026-11-26", "bid": [{"energy_kwh": 10.0, "price_eur_mwh": 400.0}],
        "stops": [{"charging_point_id": "P-WORK-01", "arrival": "2026-11-26T08:00:00+01:00",
                   "departure": "2026-11-26T16:30:00+01:00"}],
    }  # fmt: skip
    assert parse_one(json.dumps(doc).encode()) is not None
    for spoiled in ("V\n", "V\t", "V\u0000", "V\x7f"):
        assert parse_one(json.dumps({**doc, "vehicle_id": spoiled}).encode()) is None
        assert parse_plan(json.dumps({**doc, "vehicle_id": spoiled}))[0] is None
    meta = field_type(ChargingPlan, "vehicle_id").__metadata__[0]
    assert meta.pattern.endswith("\\Z")  # translated for Python's re when it is used
