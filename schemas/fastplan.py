"""The fast mirror of ``ChargingPlan``: msgspec structs derived from the model's fields.

Beside its model, so that adding a field or a bound is a one-package edit (issue 14); the
ingest gateway's batch path (services/ingest/fastparse.py) decodes batch bodies with it.

``schemas.plan.ChargingPlan`` (pydantic) stays the source of truth. Parsing a 500-plan batch
with it costs ~16 µs per plan (five model objects per plan and a Python callback per
timestamp); msgspec decodes the same body into the mirror structs below in ~2 µs per plan.
The mirror is *stricter* than the schema, never looser: everything it accepts, the schema
accepts with the same values (tests/unit/ingest/test_fastparse.py checks this on generated
documents); anything it refuses (a numeric string, a float revision, a timestamp in another
ISO 8601 form, a UUID in braces, ...) makes :func:`parse_batch` return None, and the caller
takes the full pydantic path, which accepts what the schema accepts and names every error.

Where msgspec and pydantic differ, the mirror takes the narrower side:
- timestamps: msgspec reads RFC 3339 (a subset of what pydantic reads) but *rounds* a
  fraction of a second beyond 6 digits where pydantic truncates it, so a body with such a
  fraction, or with any ``\\u`` escape (which could spell one), takes the pydantic path;
- floats and ints must be JSON numbers of their kind (pydantic also takes numeric strings
  and ``1.0`` for an int); ``NaN``, ``Infinity`` and overflowing literals are refused by
  both (msgspec: not JSON / out of range; pydantic: ``allow_inf_nan=False``);
- every bound (numbers, string lengths and patterns, list lengths) is read from the
  pydantic field (schemas/mirror.py), so the two cannot drift; date and timestamp ranges,
  which msgspec cannot declare, are checked after decoding from the same declarations;
- unknown fields are refused by both.

The structs have the attribute names of ChargingPlan/Stop/BidStep, so the gateway uses
either through the protocols in ``schemas.planlike``; :func:`encode_plan` writes
the same JSON as pydantic's serializer (same field order and formats).
"""

from __future__ import annotations

import re

import msgspec
from pydantic import ValidationError

from schemas.base import ID_PATTERN, FieldError
from schemas.mirror import check_mirror, date_bounds, field_type
from schemas.parsing import errors_from
from schemas.plan import BidStep, ChargingPlan, Stop
from schemas.planlike import PlanLike

# Every type and bound below is read from the pydantic field (schemas/mirror.py); the
# structs only name the fields, and check_mirror proves at import that the names, their
# order and their defaults are the model's. One bound is kept by the body scan instead of a
# regex per string (~0.35 µs each, 1.4 µs per plan): "no control characters" in ids. In JSON
# text a control character inside a string can only be written as an escape (\uXXXX, \n,
# \t, \r, \b, \f) and DEL as its raw byte; _unsure sends any such body the pydantic way.
NO_CONTROL = frozenset({ID_PATTERN})


class FastStop(msgspec.Struct, forbid_unknown_fields=True, kw_only=True, gc=False):
    charging_point_id: field_type(Stop, "charging_point_id", covered=NO_CONTROL)  # type: ignore[valid-type]
    arrival: field_type(Stop, "arrival")  # type: ignore[valid-type]
    departure: field_type(Stop, "departure")  # type: ignore[valid-type]
    trip_kwh_after: field_type(Stop, "trip_kwh_after") = 0.0  # type: ignore[valid-type]


class FastBidStep(msgspec.Struct, forbid_unknown_fields=True, kw_only=True, gc=False):
    energy_kwh: field_type(BidStep, "energy_kwh")  # type: ignore[valid-type]
    price_eur_mwh: field_type(BidStep, "price_eur_mwh")  # type: ignore[valid-type]


class FastPlan(msgspec.Struct, forbid_unknown_fields=True, kw_only=True, gc=False):
    """ChargingPlan's fields in ChargingPlan's order (the serialized order)."""

    plan_id: field_type(ChargingPlan, "plan_id")  # type: ignore[valid-type]
    vehicle_id: field_type(ChargingPlan, "vehicle_id", covered=NO_CONTROL)  # type: ignore[valid-type]
    initial_soc_kwh: field_type(ChargingPlan, "initial_soc_kwh") = None  # type: ignore[valid-type]
    stops: field_type(ChargingPlan, "stops", FastStop)  # type: ignore[valid-type]
    bid: field_type(ChargingPlan, "bid", FastBidStep)  # type: ignore[valid-type]
    revision: field_type(ChargingPlan, "revision") = 0  # type: ignore[valid-type]
    market_area: field_type(ChargingPlan, "market_area", covered=NO_CONTROL)  # type: ignore[valid-type]
    delivery_day: field_type(ChargingPlan, "delivery_day")  # type: ignore[valid-type]


check_mirror(FastStop, Stop)
check_mirror(FastBidStep, BidStep)
check_mirror(FastPlan, ChargingPlan)

# Ranges msgspec cannot check on dates and timestamps, from the same declarations. A
# timestamp is checked by its year against the day range: stricter than the schema's
# instant range (a day of margin), which only sends such rare plans down the pydantic path.
_FIRST_DAY, _LAST_DAY = date_bounds(ChargingPlan, "delivery_day")
_FIRST_YEAR, _LAST_YEAR = _FIRST_DAY.year, _LAST_DAY.year


def in_range(plans: list[FastPlan]) -> bool:
    low, high, first, last = _FIRST_DAY, _LAST_DAY, _FIRST_YEAR, _LAST_YEAR
    for plan in plans:
        if not low <= plan.delivery_day <= high:
            return False
        for s in plan.stops:
            if not (first <= s.arrival.year <= last and first <= s.departure.year <= last):
                return False
    return True


_DECODE_PLAN = msgspec.json.Decoder(FastPlan).decode
_ENCODE = msgspec.json.Encoder().encode
# What the structs would read differently from pydantic: a fraction of a second with more
# than 6 digits (msgspec rounds, pydantic truncates), any \u escape (which could spell such
# digits, or a control character), the escapes of control characters (\b \f \n \r \t) and
# a raw DEL byte (ids must have no control characters, NO_CONTROL). A digit before ":"
# occurs in JSON only inside a string (numbers are followed by , ] } or space), so
# ":SS.fffffff" after a digit is a timestamp or other text, never a number like
# {"price":12.3456789}. ~0.4 µs per plan (the regexes run only where a memchr finds cause).
_ESCAPE = re.compile(rb"\\[ubfnrt]").search
_LONG_FRACTION = re.compile(rb":\d\d\.\d{7}").finditer


def unsure(body: bytes) -> bool:
    # Two memchr scans first: most bodies have no backslash at all (the regex is ~10x slower).
    if b"\x7f" in body or (b"\\" in body and _ESCAPE(body)):
        return True
    return any(body[m.start() - 1 : m.start()].isdigit() for m in _LONG_FRACTION(body))


def parse_one(raw: bytes) -> FastPlan | None:
    """One plan document, or None when it is not well formed in the narrow sense above
    (take the pydantic path, which may still accept it)."""
    if unsure(raw):
        return None
    try:
        plan: FastPlan = _DECODE_PLAN(raw)
    except msgspec.DecodeError:
        return None
    return plan if in_range([plan]) else None


def encode_plan(plan: FastPlan) -> bytes:
    """The plan's JSON as pydantic's serializer writes the equal ChargingPlan."""
    return _ENCODE(plan)


def to_model(plan: PlanLike) -> tuple[ChargingPlan | None, list[FieldError]]:
    """The pydantic model of a parsed plan (for the full validator's error messages).

    The mirror never accepts what the model refuses (tests/unit/ingest/test_fastparse.py);
    should that ever break, the plan is refused with the model's errors, never a 500."""
    if isinstance(plan, ChargingPlan):
        return plan, []
    assert isinstance(plan, FastPlan)
    try:
        return ChargingPlan.model_validate_json(encode_plan(plan)), []
    except ValidationError as exc:
        return None, errors_from(exc)
