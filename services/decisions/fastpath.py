"""Hot path of the consumer: a `ScheduleDecision` record → the row the database stores.

`ScheduleDecision.model_validate_json` costs ≈ 40 µs per decision here, most of it in
Python callbacks (the `Timestamp` before-validator ×5, the schema-version and
rejected-needs-reasons validators) and in building model objects the writer then takes
apart again. `_SHAPE` checks the same constraints entirely inside pydantic-core (strict
JSON datetimes refuse numbers like the before-validator does; strict int refuses `1.0`
and `true` like the schema-version validator) into plain dicts, ≈ 18 µs per decision.

The verdict is always the model's: `_SHAPE` is at least as strict as `ScheduleDecision`
(it also requires the envelope fields the model would default), and anything it refuses
is validated again by the model, which either accepts it (e.g. a missing `event_id`) or
raises the precise field errors stored with the record. Validating a whole fetched batch
in one call (`TypeAdapter(list[...])`) was measured slower than one call per record
(≈ 50 vs ≈ 40 µs with the model), so records are validated one by one.
"""

from __future__ import annotations

import math
from datetime import date, datetime
from typing import Annotated, Any, Literal, NamedTuple, NotRequired
from uuid import UUID

import orjson
from pydantic import AwareDatetime, ConfigDict, Field, Strict, TypeAdapter, ValidationError
from typing_extensions import TypedDict

from schemas.base import (
    FIRST_DAY,
    FIRST_INSTANT,
    LAST_DAY,
    LAST_INSTANT,
    AreaCode,
    FieldError,
    Id64,
    Revision,
    RunId,
)
from schemas.market import Allocation, ScheduleDecision
from schemas.mirror import check_typed_dict
from services.common.usable import MAX_REASONS, NOT_FINITE, InvalidRecord, check

# Bounds of the shape: the model's own (schemas.base), so the two cannot drift. Anything
# outside them is left to the model and `usable.check`, which give the verdict.
_FIRST_DAY, _LAST_DAY, _FIRST_INSTANT, _LAST_INSTANT = (
    FIRST_DAY,
    LAST_DAY,
    FIRST_INSTANT,
    LAST_INSTANT,
)

_Time = Annotated[AwareDatetime, Strict(), Field(ge=_FIRST_INSTANT, le=_LAST_INSTANT)]
_FORBID = ConfigDict(extra="forbid")


class _Reason(TypedDict):
    __pydantic_config__ = _FORBID  # type: ignore[misc]
    loc: Annotated[str, Field(max_length=256)]
    reason: Annotated[str, Field(max_length=2000)]


class _Allocation(TypedDict):
    __pydantic_config__ = _FORBID  # type: ignore[misc]
    charging_point_id: Id64
    mtu_start: _Time
    energy_kwh: Annotated[float, Field(ge=0, allow_inf_nan=False)]


class _Decision(TypedDict):
    """`ScheduleDecision` with the same field constraints (schemas/market.py, schemas/base.py)."""

    __pydantic_config__ = _FORBID  # type: ignore[misc]
    event_type: Literal["ScheduleDecision"]
    event_id: UUID
    schema_version: Annotated[int, Strict(), Field(ge=1, le=1)]
    occurred_at: _Time
    market_area: AreaCode
    delivery_day: Annotated[date, Field(ge=_FIRST_DAY, le=_LAST_DAY)]
    run_id: RunId
    plan_id: UUID
    revision: Revision
    vehicle_id: Id64
    phase: NotRequired[Literal[1, 2]]
    status: Literal["accepted", "rejected"]
    reasons: NotRequired[list[_Reason]]
    requested_kwh: Annotated[float, Field(ge=0, allow_inf_nan=False)]
    accepted_kwh: NotRequired[Annotated[float, Field(ge=0, allow_inf_nan=False)]]
    coverage: NotRequired[Annotated[float, Field(ge=0, allow_inf_nan=False)]]
    cost_eur: NotRequired[Annotated[float, Field(allow_inf_nan=False)]]
    allocations: NotRequired[list[_Allocation]]


check_typed_dict(_Decision, ScheduleDecision)  # a field added to the model must be here
check_typed_dict(_Allocation, Allocation)
check_typed_dict(_Reason, FieldError)
_SHAPE: TypeAdapter[_Decision] = TypeAdapter(_Decision)


class Decision(NamedTuple):
    """One decision as stored: the `schedule_decisions` columns, in COPY order."""

    plan_id: UUID
    revision: int
    vehicle_id: str
    market_area: str
    delivery_day: date
    run_id: str
    phase: int
    status: str
    reasons: str  # jsonb text
    requested_kwh: float
    accepted_kwh: float
    coverage: float
    cost_eur: float
    event_id: UUID
    occurred_at: datetime
    # jsonb text: [{charging_point_id, mtu_start, energy_kwh}], summed per (point, MTU)
    # whatever the producer sent (one entry per point and MTU, as the API shows them).
    # No NUL replacement here (unlike jsonb()): a NUL in a point id is refused when the
    # record is parsed, rather than stored altered.
    allocations: str


COLUMNS = Decision._fields


def parse_decision(value: bytes) -> Decision:
    """Validate one record; raises the model's `ValidationError` when it is not a decision."""
    try:
        d = _SHAPE.validate_json(value)
    except ValidationError:
        return from_model(ScheduleDecision.model_validate_json(value))
    reasons = d.get("reasons")
    if d["status"] == "rejected" and not reasons:
        return from_model(ScheduleDecision.model_validate_json(value))  # raises the reason
    allocations: list[Any] = d.get("allocations", [])
    if len({(a["charging_point_id"], a["mtu_start"]) for a in allocations}) < len(allocations):
        allocations = _merged(allocations)  # rare: a point and MTU twice
    return Decision(
        d["plan_id"], d["revision"], d["vehicle_id"], d["market_area"], d["delivery_day"],
        d["run_id"], d.get("phase", 2), d["status"], jsonb(reasons), d["requested_kwh"],
        d.get("accepted_kwh", 0.0), d.get("coverage", 0.0), d.get("cost_eur", 0.0),
        d["event_id"], d["occurred_at"], orjson.dumps(allocations).decode(),
    )  # fmt: skip


def from_model(d: ScheduleDecision) -> Decision:
    # The model reads NaN and Infinity as floats, and takes what PostgreSQL cannot store.
    check(d, postgres=True, text_exempt=("reasons",))
    allocations = _merged([a.model_dump() for a in d.allocations])
    return Decision(
        d.plan_id, d.revision, d.vehicle_id, d.market_area, d.delivery_day, d.run_id, d.phase,
        d.status, jsonb([r.model_dump() for r in d.reasons]), d.requested_kwh, d.accepted_kwh,
        d.coverage, d.cost_eur, d.event_id, d.occurred_at, orjson.dumps(allocations).decode(),
    )  # fmt: skip


def _merged(allocations: list[Any]) -> list[dict[str, Any]]:
    """One entry per (point, MTU), energies summed (the view's rows have that key)."""
    total: dict[tuple[str, datetime], float] = {}
    for a in allocations:
        key = (a["charging_point_id"], a["mtu_start"])
        total[key] = total.get(key, 0.0) + a["energy_kwh"]
    overflowed = [f"{p} at {t.isoformat()}" for (p, t), e in total.items() if not math.isfinite(e)]
    if overflowed:  # finite energies whose sum overflows to infinity
        raise InvalidRecord(
            [FieldError(loc="allocations", reason=f"the energies of {k} sum to {NOT_FINITE}")
             for k in overflowed[:MAX_REASONS]]
        )  # fmt: skip
    return [
        {"charging_point_id": p, "mtu_start": t, "energy_kwh": e} for (p, t), e in total.items()
    ]


def jsonb(value: list[Any] | None) -> str:
    if not value:
        return "[]"  # the common case (accepted decisions have no reasons): skip encoding
    # PostgreSQL's jsonb refuses the NUL character, which hostile input may carry.
    return orjson.dumps(value).decode().replace("\\u0000", "\\ufffd")
