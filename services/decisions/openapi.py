"""The published contract of the decisions service: response bodies, every status code and
content type an operation can answer (schemathesis `--checks all` holds the service to it).

The routes build their JSON bodies themselves (in SQL, or with orjson), so the models below
only document them; tests/integration/decisions/test_contract.py checks real answers
against this document.
"""

from __future__ import annotations

import json
from datetime import date
from typing import Any, Literal
from uuid import UUID

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, TypeAdapter

from schemas.base import FieldError
from services.common.problems import PROBLEM_JSON, Problem


class Exact(BaseModel):
    """Documented bodies list every field they have: additionalProperties false."""

    model_config = ConfigDict(extra="forbid")


class Allocation(Exact):
    charging_point_id: str
    mtu_start: AwareDatetime = Field(description="Start of the MTU, in the area's local offset")
    energy_kwh: float


class Window(Exact):
    charging_point_id: str
    start: AwareDatetime = Field(
        description="Start of the window: its first MTU's start, or the vehicle's arrival at "
        "the point when later (local offset)"
    )
    end: AwareDatetime = Field(
        description="End of the window: its last MTU's end, or the vehicle's departure when "
        "earlier (local offset)"
    )
    energy_kwh: float = Field(description="The energy of the window's MTUs at this point")


class Decision(Exact):
    plan_id: UUID
    revision: int
    vehicle_id: str
    market_area: str
    delivery_day: date
    status: Literal["accepted", "rejected", "pending", "cancelled"] = Field(
        description="pending/cancelled: a plan seen on charging-plans without a decision yet"
    )
    reasons: list[FieldError]
    requested_kwh: float
    accepted_kwh: float
    coverage: float
    cost_eur: float
    run_id: str | None
    phase: int | None
    decided_at: AwareDatetime | None
    allocations: list[Allocation]
    windows: list[Window] = Field(
        description="Charging windows per point: consecutive MTUs with energy merged, sorted by "
        "start"
    )


class DecisionPage(Exact):
    delivery_day: date | None = Field(
        description="The day asked for, or the next delivery day by default; null for from/to"
    )
    from_: date = Field(alias="from", description="First delivery day of the page's request")
    to: date = Field(description="Last delivery day of the page's request (inclusive)")
    decisions: list[Decision] = Field(
        description="Day by day: decided plans first, then undecided ones; each by vehicle_id, "
        "plan_id"
    )
    next_cursor: str | None = Field(
        description="Pass as `cursor` for the next page; null on the last page"
    )


class OcppProfile(Exact):
    charging_point_id: str
    energy_kwh: float
    charging_profile: dict[str, Any] = Field(
        description="An OCPP 2.0.1 ChargingProfileType (TxProfile, absolute, W per MTU)"
    )


class OcppDecision(Exact):
    plan_id: UUID
    revision: int
    vehicle_id: str
    status: Literal["accepted", "rejected"]
    accepted_kwh: float
    profiles: list[OcppProfile]


class PlanCounts(Exact):
    submitted: int
    cancelled: int
    vehicles: int
    requested_kwh: float


class DecisionCounts(Exact):
    accepted: int
    rejected: int
    requested_kwh: float
    accepted_kwh: float
    cost_eur: float


class RunBrief(Exact):
    run_id: str
    phase: int
    fallback: bool
    what_if: bool
    welfare_eur: float
    coverage: float
    occurred_at: AwareDatetime


class NodeSeries(Exact):
    node_id: str
    capacity_kw: float | None = Field(description="null: the node is not in the registry")
    capacity_kwh: float | None = Field(description="capacity × MTU length, per MTU")
    energy_kwh: list[float]
    price_eur_mwh: list[float]
    congestion_eur_mwh: list[float | None]


class RunDetail(Exact):
    run_id: str
    phase: int
    fallback: bool
    occurred_at: AwareDatetime
    mtu_minutes: int
    welfare_eur: float
    total_requested_kwh: float
    total_accepted_kwh: float
    coverage: float
    plans_total: int
    plans_accepted: int
    mtu_starts: list[AwareDatetime]
    prices_eur_mwh: list[float]
    aggregate: dict[str, Any] | None = Field(description="The aggregate bid of the run")
    energy_kwh: list[float]
    nodes: list[NodeSeries]


class DaySummary(Exact):
    market_area: str
    delivery_day: date
    timezone: str
    plans: PlanCounts
    decisions: DecisionCounts
    run: RunDetail | None = Field(description="The current run: newest non-what-if, phase 2 first")
    runs: list[RunBrief]


class Status(Exact):
    status: str


_DESCRIPTIONS = {
    304: "Not modified: the If-None-Match tag is the current one (no body)",
    401: "Missing, invalid or revoked bearer token",
    403: "The operator or admin role is required",
    404: "Not found, or not the caller's (existence is not disclosed)",
    422: "Invalid parameter: every field error",
    429: "Rate limit (per token, or per client address) exceeded: see Retry-After",
    503: "Overloaded (too many requests in flight), or the database unavailable or busy: "
    "see Retry-After",
}
_RETRY_AFTER = {"Retry-After": {"schema": {"type": "integer"}, "description": "seconds"}}
ETAG_HEADER = {
    "ETag": {"schema": {"type": "string"}, "description": "Tag of the body"},
    "Cache-Control": {"schema": {"type": "string"}},
}


def schema_ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """The documented error (and 304) answers of an operation."""
    out: dict[int | str, dict[str, Any]] = {}
    for status in statuses:
        response: dict[str, Any] = {"description": _DESCRIPTIONS[status]}
        if status == 304:
            response["headers"] = ETAG_HEADER
        else:
            response["content"] = {
                PROBLEM_JSON: {"schema": {"$ref": "#/components/schemas/Problem"}}
            }
        if status in (429, 503):
            response["headers"] = _RETRY_AFTER
        out[status] = response
    return out


def ok(model: type[BaseModel], description: str, etag: bool = False) -> dict[int | str, Any]:
    """The 200 answer: ``model``'s schema as application/json (the routes build the JSON)."""
    response: dict[str, Any] = {
        "description": description,
        "content": {
            "application/json": {"schema": {"$ref": f"#/components/schemas/{model.__name__}"}}
        },
    }
    if etag:
        response["headers"] = ETAG_HEADER
    return {200: response}


DOCUMENTED: tuple[type[BaseModel], ...] = (DecisionPage, OcppDecision, DaySummary, Status, Problem)
# Operations whose parameter errors answer 400 in the original system's shape, never 422.
NO_422 = frozenset({"/charging-schedules-decisions/next_day/"})


def install(app: FastAPI, extra: tuple[type[BaseModel], ...] = ()) -> None:
    """Add the documented models (and ``extra`` ones) to the generated document's
    components; drop the 422 FastAPI adds to operations that never answer it."""

    def openapi() -> dict[str, Any]:
        if app.openapi_schema:
            return app.openapi_schema
        doc = get_openapi(
            title=app.title, version=app.version, description=app.description, routes=app.routes
        )
        schemas = doc.setdefault("components", {}).setdefault("schemas", {})
        for path, operations in doc["paths"].items():
            for operation in operations.values():
                if path in NO_422:
                    operation["responses"].pop("422", None)
        schemas = doc.setdefault("components", {}).setdefault("schemas", {})
        if "HTTPValidationError" not in json.dumps(doc["paths"]):
            schemas.pop("HTTPValidationError", None)
            schemas.pop("ValidationError", None)
        for model in DOCUMENTED + extra:
            schema = TypeAdapter(model).json_schema(
                ref_template="#/components/schemas/{model}", mode="serialization"
            )
            schemas.update(schema.pop("$defs", {}))
            schemas[model.__name__] = schema
        app.openapi_schema = doc
        return doc

    app.openapi = openapi  # type: ignore[method-assign]
