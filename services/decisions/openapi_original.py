"""The published contract of the original system's decisions API (DESIGN §7.1) and of the
list path it shares with chargeflow's own list: bodies and every answer."""

from __future__ import annotations

from typing import Any

from pydantic import AwareDatetime, BaseModel, Field

from services.decisions.openapi import ETAG_HEADER, Exact, responses, schema_ref


class OriginalRange(Exact):
    start_time: AwareDatetime = Field(description="Start of a charging range (local offset)")
    end_time: AwareDatetime = Field(description="End of the range")


class OriginalDecision(Exact):
    coverage: float = Field(description="% of the requested energy that was accepted")
    schedule_decision_date_ranges: list[OriginalRange] = Field(
        description="When the vehicle charges: its charging windows merged per point, by start"
    )


class OriginalDetail(Exact):
    detail: str


class OriginalError(Exact):
    error: str


DOCUMENTED: tuple[type[BaseModel], ...] = (OriginalDecision, OriginalDetail, OriginalError)

_JSON = "application/json"
_FIELD_ERRORS = {
    "description": "The original API's request with a bad parameter (Django REST framework's "
    'shape: {"param": ["message"]}, or "non_field_errors")',
    "content": {
        _JSON: {
            "schema": {
                "type": "object",
                "additionalProperties": {"type": "array", "items": {"type": "string"}},
            }
        }
    },
}
_FORBIDDEN = {
    "description": "The original API: the electric vehicle is another owner's",
    "content": {_JSON: {"schema": schema_ref("OriginalDetail")}},
}
_NO_DECISION = {
    "description": "The original API: no decision (yet) for that day, or no such vehicle",
    "content": {_JSON: {"schema": schema_ref("OriginalError")}},
}


def original_responses() -> dict[int | str, dict[str, Any]]:
    """The answers of the original API's next_day operation."""
    out = responses(304, 401, 429, 503)
    ok: dict[str, Any] = {
        "description": "The next delivery day's decision",
        "headers": ETAG_HEADER,
        "content": {_JSON: {"schema": schema_ref("OriginalDecision")}},
    }
    return {200: ok, 400: _FIELD_ERRORS, 403: _FORBIDDEN, 404: _NO_DECISION, **out}


def list_responses() -> dict[int | str, dict[str, Any]]:
    """The answers of the list path: chargeflow's page, or the original API's list."""
    out = responses(304, 401, 404, 422, 429, 503)
    out[404]["content"][_JSON] = {"schema": schema_ref("OriginalError")}
    out[404]["description"] += "; the original API: no such vehicle"
    out[422]["description"] += " (chargeflow's parameters)"
    ok = {
        "description": "The caller's plans and decisions, one page; or, with electric_vehicle, "
        "the original API's decisions of the vehicle by day",
        "headers": ETAG_HEADER,
        "content": {
            _JSON: {
                "schema": {
                    "anyOf": [
                        schema_ref("DecisionPage"),
                        {"type": "array", "items": schema_ref("OriginalDecision")},
                    ]
                }
            }
        },
    }
    return {200: ok, 400: _FIELD_ERRORS, 403: _FORBIDDEN, **out}
