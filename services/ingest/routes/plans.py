"""Plan submission, batch submission and cancellation (DESIGN §7)."""

from __future__ import annotations

from typing import Any
from uuid import UUID

import orjson
from fastapi import APIRouter, Request
from pydantic import TypeAdapter, ValidationError
from starlette.responses import Response

from schemas.base import FieldError, Model
from schemas.plan import ChargingPlan
from services.ingest.deps import CurrentUser, GatewayDep, current_user
from services.ingest.fastparse import parse_batch
from services.ingest.gateway import Gateway
from services.ingest.openapi import (
    PLAN_EXAMPLE,
    BatchResult,
    PlanAccepted,
    error_responses,
    json_body,
)
from services.ingest.outcomes import Outcome
from services.ingest.problems import ProblemError, dumps

router = APIRouter(tags=["charging plans"])

_ACCEPTED = {"description": "Stored: the broker acknowledged it (acks=all)", "model": PlanAccepted}


def _json(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(dumps(body), status, headers=headers, media_type="application/json")


def _gateway(request: Request) -> Gateway:
    """The submit routes call the auth check and read the gateway directly instead of
    through Depends: FastAPI's dependency solving was ~25% of the in-process CPU of a
    single-plan request (cProfile; 218 -> see docs/ingest.md). Same checks, same order."""
    gateway: Gateway = request.app.state.gateway
    return gateway


def _retry_after(request: Request) -> dict[str, str]:
    return {"Retry-After": str(request.app.state.settings.retry_after_s)}


def _answer(request: Request, o: Outcome, status_word: str) -> Response:
    if o.status == 202:
        return _json(
            {"plan_id": str(o.plan_id), "revision": o.revision, "status": status_word}, 202
        )
    headers = _retry_after(request) if o.status == 503 else None
    raise ProblemError(o.status, o.detail, o.errors, headers=headers)


@router.post(
    "/charging-schedules/",
    status_code=202,
    responses={202: _ACCEPTED, **error_responses(401, 403, 409, 413, 422, 429, 503)},
    openapi_extra=json_body("ChargingPlan", {"plan": {"value": PLAN_EXAMPLE}}),
)
async def submit_plan(request: Request) -> Response:
    """Submit one plan; 202 only after the broker has acknowledged it."""
    user = await current_user(request)  # no Depends on the hot routes (see _gateway)
    [outcome] = await _gateway(request).submit([await request.body()], user)
    return _answer(request, outcome, "accepted")


class _Batch(Model):
    plans: list[ChargingPlan]


_BATCH = TypeAdapter(_Batch)


def _batch_items(body: bytes, limit: int) -> list[Any]:
    """The batch's plans: parsed in one go when all are well formed (the common case):
    first by the msgspec mirror of the schema (fastparse.py, ~10x faster; it refuses
    whatever it might read differently), then by the schema itself; else as raw items that
    the gateway parses one by one to report each error."""
    plans: list[Any] | None = parse_batch(body)
    if plans is None:
        try:
            plans = _BATCH.validate_json(body).plans
        except ValidationError:
            plans = _raw_items(body)
    if not plans:
        err = FieldError(loc="plans", reason="at least one plan is required")
        raise ProblemError(422, "invalid batch", [err], slug="invalid-request")
    if len(plans) > limit:
        raise ProblemError(413, f"{len(plans)} plans in one batch; the limit is {limit}")
    return plans


def _raw_items(body: bytes) -> list[Any]:
    try:
        doc = orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise ProblemError(422, "invalid JSON", [FieldError(loc="", reason=str(exc))]) from exc
    if not isinstance(doc, dict) or not isinstance(doc.get("plans"), list):
        err = FieldError(loc="plans", reason="a JSON object with a list 'plans' is required")
        raise ProblemError(422, "invalid batch", [err], slug="invalid-request")
    unknown = [FieldError(loc=k, reason="unknown field") for k in doc if k != "plans"]
    if unknown:
        raise ProblemError(422, "invalid batch", unknown, slug="invalid-request")
    items: list[Any] = doc["plans"]
    return items


@router.post(
    "/charging-schedules/batch",
    responses={
        200: {"description": "Per-plan results, in request order", "model": BatchResult},
        **error_responses(401, 413, 422, 429, 503),
    },
    openapi_extra=json_body("BatchRequest", {"batch": {"value": {"plans": [PLAN_EXAMPLE]}}}),
)
async def submit_batch(request: Request) -> Response:
    """Submit up to 10 000 plans; each gets its own result (202-equivalent or an error)."""
    user = await current_user(request)
    items = _batch_items(await request.body(), request.app.state.settings.max_batch_plans)
    outcomes = await _gateway(request).submit(items, user)
    if all(o.status == 503 for o in outcomes):
        raise ProblemError(503, "broker unavailable: nothing stored", headers=_retry_after(request))
    results = [
        {
            "index": i,
            "plan_id": o.plan_id,  # orjson writes a UUID as its text
            "revision": o.revision,
            "status": "accepted" if o.status == 202 else "rejected",
            "http_status": o.status,
            "detail": o.detail,
            "errors": [{"loc": e.loc, "reason": e.reason} for e in o.errors] if o.errors else [],
        }
        for i, o in enumerate(outcomes)
    ]
    accepted = sum(1 for o in outcomes if o.status == 202)
    headers = _retry_after(request) if any(o.status == 503 for o in outcomes) else None
    body = {"accepted": accepted, "rejected": len(outcomes) - accepted, "results": results}
    return _json(body, 200, headers)


@router.delete(
    "/charging-schedules/{plan_id}",
    status_code=202,
    responses={202: _ACCEPTED, **error_responses(401, 403, 404, 409, 422, 429, 503)},
)
async def cancel_plan(
    plan_id: UUID, request: Request, user: CurrentUser, gateway: GatewayDep
) -> Response:
    """Cancel a plan before gate closure; publishes PlanCancelled for its newest revision."""
    return _answer(request, await gateway.cancel(plan_id, user), "cancelled")
