"""OpenAPI: request bodies (parsed by hand for speed), examples, and every error response."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi
from pydantic import BaseModel, ConfigDict, Field, TypeAdapter

from schemas.base import ID_PATTERN, FieldError
from schemas.legacy import MAX_PK, TIME_PATTERN
from schemas.plan import BidStep, ChargingPlan
from services.ingest.problems import PROBLEM_JSON, Problem, problem_body

PLAN_EXAMPLE: dict[str, Any] = {
    "plan_id": "6f1c2a52-8a55-4c8e-9f43-5d0c5a1b7e10",
    "revision": 1,
    "vehicle_id": "V001",
    "market_area": "PL",
    "delivery_day": "2026-11-26",
    "initial_soc_kwh": 12.0,
    "stops": [
        {
            "charging_point_id": "P-WORK-01",
            "arrival": "2026-11-26T08:00:00+01:00",
            "departure": "2026-11-26T16:30:00+01:00",
            "trip_kwh_after": 6.0,
        }
    ],
    "bid": [
        {"energy_kwh": 10.0, "price_eur_mwh": 400.0},
        {"energy_kwh": 20.0, "price_eur_mwh": 150.0},
    ],
}


LEGACY_EXAMPLE: dict[str, Any] = {
    "electric_vehicle": "V001",
    "mode": "hwh",
    "charge_percent": 35.5,
    "trip_percent": 20.0,
    "point_schedules": [
        {
            "point": "P-HOME-01",
            "arrival_time": "2026-11-26T00:00:00",
            "departure_time": "2026-11-26T07:00:00",
        },
        {
            "point": "P-WORK-01",
            "arrival_time": "2026-11-26T08:00:00",
            "departure_time": "2026-11-26T16:00:00",
        },
        {
            "point": "P-HOME-01",
            "arrival_time": "2026-11-26T17:00:00+01:00",
            "departure_time": "2026-11-26T23:00:00+01:00",
        },
    ],
}

_LEGACY_ID = {
    "anyOf": [
        {"type": "integer", "minimum": 0, "maximum": MAX_PK},
        {"type": "string", "minLength": 1, "maxLength": 64, "pattern": ID_PATTERN},
    ],
    "description": 'A registry id; a number stands for its decimal text (7 is "7")',
}
_LEGACY_TIME = {
    "type": "string",
    "pattern": TIME_PATTERN,
    "description": "ISO 8601; without an offset, a wall time in the market area's timezone",
}
_PERCENT = {"type": "number", "minimum": 0, "maximum": 100}
# Fields the original did not know are ignored, as Django REST framework ignored them.
LEGACY_SCHEDULE = {
    "title": "LegacySchedule",
    "description": "The original system's charging schedule (DESIGN §7.1; docs/ingest.md)",
    "type": "object",
    "required": ["electric_vehicle", "mode", "charge_percent", "trip_percent", "point_schedules"],
    "properties": {
        "electric_vehicle": _LEGACY_ID,
        "mode": {"type": "string", "enum": ["hh", "hwh"], "description": "hh: 2, hwh: 3 points"},
        "charge_percent": {**_PERCENT, "description": "Charge on arrival at the first point"},
        "trip_percent": {**_PERCENT, "description": "Energy of each drive between points"},
        "point_schedules": {
            "type": "array",
            "minItems": 1,
            "maxItems": 3,
            "items": {
                "type": "object",
                "required": ["point", "arrival_time", "departure_time"],
                "properties": {
                    "point": _LEGACY_ID,
                    "arrival_time": _LEGACY_TIME,
                    "departure_time": _LEGACY_TIME,
                },
            },
        },
    },
    "not": {"required": ["plan_id"]},
}
LEGACY_ERRORS: dict[str, Any] = {
    "description": "An original-format schedule refused: Django REST framework's errors, "
    "field -> messages, point_schedules -> one {field: messages} per item, non_field_errors",
    "content": {
        "application/json": {
            "schema": {
                "type": "object",
                "additionalProperties": {
                    "type": "array",
                    "items": {
                        "anyOf": [
                            {"type": "string"},
                            {
                                "type": "object",
                                "additionalProperties": {
                                    "type": "array",
                                    "items": {"type": "string"},
                                },
                            },
                        ]
                    },
                },
            },
            "example": {
                "non_field_errors": [
                    'Mode "hwh" (home-work-home) needs exactly 3 point schedules, got 2.'
                ]
            },
        }
    },
}
SUBMIT_BODY: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "content": {
            "application/json": {
                "schema": {
                    "anyOf": [
                        {"$ref": "#/components/schemas/ChargingPlan"},
                        {"$ref": "#/components/schemas/LegacySchedule"},
                    ]
                },
                "examples": {
                    "plan": {"value": PLAN_EXAMPLE},
                    "plan with the default bid": {
                        "value": {k: v for k, v in PLAN_EXAMPLE.items() if k != "bid"}
                        | {"plan_id": "0b6f7c1e-2d2a-4c55-8f7e-3f7a8e1d9c20"}
                    },
                    "original format": {"value": LEGACY_EXAMPLE},
                },
            }
        },
    }
}


class PlanAccepted(BaseModel):
    """The broker has acknowledged the plan (or its cancellation)."""

    plan_id: str
    revision: int
    status: str = Field(examples=["accepted"], description='"accepted" or "cancelled"')
    bid: list[BidStep] | None = Field(
        default=None,
        description="Present when the plan had no bid: the operator's default bid it got",
    )


class BatchItem(BaseModel):
    index: int = Field(description="Position of the plan in the request")
    plan_id: str | None
    revision: int | None
    status: str = Field(description='"accepted" or "rejected"')
    http_status: int = Field(description="What a single-plan request would have answered")
    detail: str
    errors: list[FieldError]


class BatchResult(BaseModel):
    accepted: int
    rejected: int
    results: list[BatchItem]


def _err(loc: str, reason: str) -> FieldError:
    return FieldError(loc=loc, reason=reason)


def _example(status: int, detail: str, *errors: FieldError, slug: str | None = None) -> Any:
    return {"value": problem_body(status, detail, errors, slug, "/charging-schedules/")}


ERROR_EXAMPLES: dict[int, tuple[str, dict[str, Any]]] = {
    401: ("Missing, invalid or revoked token", _example(401, "invalid or revoked token")),
    403: (
        "A vehicle user submitted for someone else's vehicle",
        _example(
            403,
            "not your vehicle",
            _err("vehicle_id", "vehicle 'V007' is not registered to 'anna'"),
        ),
    ),
    404: (
        "No accepted plan with this plan_id",
        _example(404, "no accepted plan with this plan_id", _err("plan_id", "unknown plan_id")),
    ),
    409: (
        "Older revision, cancelled plan, or gate closure passed",
        _example(
            409,
            "older revision",
            _err("revision", "revision 1 is older than the accepted revision 2"),
        ),
    ),
    413: (
        "Body over the limit, or more plans than allowed in a batch",
        _example(413, "request body exceeds the limit of 1048576 bytes"),
    ),
    422: (
        "Invalid plan: every field error",
        _example(
            422,
            "invalid plan",
            _err("stops[1].arrival", "stops[1] overlaps stops[0]"),
            _err("bid[0].energy_kwh", "energy 80 kWh exceeds what the stops can deliver: 44 kWh"),
        ),
    ),
    429: (
        "Per-token rate limit exceeded (see Retry-After)",
        _example(429, "rate limit of 100 requests/s (burst 200) exceeded"),
    ),
    503: (
        "Broker or database unavailable: nothing stored, retry after Retry-After",
        _example(503, "broker unavailable: not stored, retry with the same plan_id and revision"),
    ),
}


def error_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    out: dict[int | str, dict[str, Any]] = {}
    for status in statuses:
        description, example = ERROR_EXAMPLES[status]
        content = {
            PROBLEM_JSON: {
                "schema": {"$ref": "#/components/schemas/Problem"},
                "examples": {str(status): example},
            }
        }
        response: dict[str, Any] = {"description": description, "content": content}
        if status in (429, 503):
            response["headers"] = {
                "Retry-After": {"schema": {"type": "integer"}, "description": "seconds"}
            }
        out[status] = response
    return out


def json_body(ref: str, examples: dict[str, Any]) -> dict[str, Any]:
    return {
        "requestBody": {
            "required": True,
            "content": {
                "application/json": {
                    "schema": {"$ref": f"#/components/schemas/{ref}"},
                    "examples": examples,
                }
            },
        }
    }


class BatchRequest(BaseModel):
    """The batch body: no member but ``plans`` (additionalProperties false, as served)."""

    model_config = ConfigDict(extra="forbid")

    plans: list[ChargingPlan] = Field(min_length=1, max_length=10_000)


def install(app: FastAPI) -> None:
    """Add the hand-parsed body models and the Problem schema to the generated document."""

    def openapi() -> dict[str, Any]:
        if app.openapi_schema:
            return app.openapi_schema
        doc = get_openapi(
            title=app.title, version=app.version, description=app.description, routes=app.routes
        )
        schemas = doc.setdefault("components", {}).setdefault("schemas", {})
        for model in (ChargingPlan, BatchRequest, Problem):
            schema = TypeAdapter(model).json_schema(ref_template="#/components/schemas/{model}")
            schemas.update(schema.pop("$defs", {}))
            schemas[model.__name__] = schema
        # A plan may omit its bid: it gets the operator's default bid (docs/ingest.md).
        plan = schemas["ChargingPlan"]
        plan["required"] = [name for name in plan["required"] if name != "bid"]
        plan["properties"]["bid"]["description"] = (
            "Optional: without it, the operator's default bid (a must-have step for the "
            "trips, a top-up step to a full battery)"
        )
        schemas["LegacySchedule"] = LEGACY_SCHEDULE
        plans = schemas["BatchRequest"]["properties"]["plans"]
        # the limit the app enforces (CHARGEFLOW_MAX_BATCH_PLANS), not the model's default
        plans["maxItems"] = app.state.settings.max_batch_plans
        # Items are checked one by one: an item that is not a valid plan gets its own result
        # (http_status 422 with its errors) and the others go on, so the request itself
        # admits any item; the schema still names what an item should be.
        plans["items"] = {
            "anyOf": [{"$ref": "#/components/schemas/ChargingPlan"}, {}],
            "description": "A ChargingPlan; anything else is answered in its result with "
            "http_status 422 and every error, the other items are processed",
        }
        doc["components"]["securitySchemes"] = {
            "bearer": {
                "type": "http",
                "scheme": "bearer",
                "description": "API token from `chargeflow token create` (`cf_...`)",
            }
        }
        for path, operations in doc.get("paths", {}).items():
            if path.startswith(("/charging-schedules", "/market-areas")):
                for operation in operations.values():
                    operation["security"] = [{"bearer": []}]
        app.openapi_schema = doc
        return doc

    app.openapi = openapi  # type: ignore[method-assign]
