"""A fast parse of a batch body for the common case: every plan well formed.

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
- floats and ints must be JSON numbers of their kind (pydantic also takes numeric strings,
  ``1.0`` for an int, ``NaN`` and overflowing literals);
- strings, lists, their length limits and unknown fields are the schema's.

The structs have the attribute names of ChargingPlan/Stop/BidStep, so the gateway uses
either through the protocols in ``schemas.planlike``; :func:`encode_plan` writes
the same JSON as pydantic's serializer (same field order and formats).
"""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import Annotated
from uuid import UUID

import msgspec

from schemas.plan import ChargingPlan
from schemas.planlike import PlanLike

_Timestamp = Annotated[datetime, msgspec.Meta(tz=True)]  # aware only, like the schema
_Id64 = Annotated[str, msgspec.Meta(min_length=1, max_length=64)]
_NonNegative = Annotated[float, msgspec.Meta(ge=0)]


class FastStop(msgspec.Struct, forbid_unknown_fields=True, kw_only=True, gc=False):
    charging_point_id: _Id64
    arrival: _Timestamp
    departure: _Timestamp
    trip_kwh_after: _NonNegative = 0.0


class FastBidStep(msgspec.Struct, forbid_unknown_fields=True, kw_only=True, gc=False):
    energy_kwh: Annotated[float, msgspec.Meta(gt=0)]
    price_eur_mwh: float


class FastPlan(msgspec.Struct, forbid_unknown_fields=True, kw_only=True, gc=False):
    """ChargingPlan's fields in ChargingPlan's order (the serialized order)."""

    plan_id: UUID
    vehicle_id: _Id64
    initial_soc_kwh: _NonNegative | None = None
    stops: Annotated[list[FastStop], msgspec.Meta(min_length=1, max_length=48)]
    bid: Annotated[list[FastBidStep], msgspec.Meta(min_length=1, max_length=50)]
    revision: Annotated[int, msgspec.Meta(ge=0)] = 0
    market_area: Annotated[str, msgspec.Meta(min_length=1, max_length=32)]
    delivery_day: date


class _Batch(msgspec.Struct, forbid_unknown_fields=True, gc=False):
    plans: list[FastPlan]


_DECODE_BATCH = msgspec.json.Decoder(_Batch).decode
_DECODE_PLAN = msgspec.json.Decoder(FastPlan).decode
_ENCODE = msgspec.json.Encoder().encode
# What the structs would read differently from pydantic: a fraction of a second with more
# than 6 digits (msgspec rounds, pydantic truncates) and any \u escape (which could spell
# such digits). A digit before ":" occurs in JSON only inside a string (numbers are followed
# by , ] } or space), so ":SS.fffffff" after a digit is a timestamp or other text, never a
# number like {"price":12.3456789}. Two C scans of the body, ~0.3 µs per plan.
_ESCAPE = re.compile(rb"\\u").search
_LONG_FRACTION = re.compile(rb":\d\d\.\d{7}").finditer


def _unsure(body: bytes) -> bool:
    if _ESCAPE(body):
        return True
    return any(body[m.start() - 1 : m.start()].isdigit() for m in _LONG_FRACTION(body))


def parse_batch(body: bytes) -> list[FastPlan] | None:
    """The plans of ``{"plans": [...]}`` when every one is well formed in the narrow sense
    above; None: take the pydantic path (which may still accept the body)."""
    if _unsure(body):
        return None
    try:
        return _DECODE_BATCH(body).plans
    except msgspec.DecodeError:  # includes msgspec.ValidationError
        return None


def parse_one(raw: bytes) -> FastPlan | None:
    """One plan document, same rules as :func:`parse_batch` (used by the tests)."""
    if _unsure(raw):
        return None
    try:
        return _DECODE_PLAN(raw)
    except msgspec.DecodeError:
        return None


def encode_plan(plan: FastPlan) -> bytes:
    """The plan's JSON as pydantic's serializer writes the equal ChargingPlan."""
    return _ENCODE(plan)


def to_model(plan: PlanLike) -> ChargingPlan:
    """The pydantic model of a parsed plan (for the full validator's error messages)."""
    if isinstance(plan, ChargingPlan):
        return plan
    assert isinstance(plan, FastPlan)
    return ChargingPlan.model_validate_json(encode_plan(plan))
