"""Plan submission, batch submission and cancellation (DESIGN §7)."""

from __future__ import annotations

from typing import Any
from uuid import UUID

import orjson
from fastapi import APIRouter, Request
from pydantic import TypeAdapter
from starlette.convertors import Convertor, register_url_convertor
from starlette.responses import Response

from schemas.base import FieldError, Model
from schemas.legacy import is_legacy, may_be_legacy
from schemas.plan import ChargingPlan
from services.common.registry import Principal
from services.ingest.batchlimits import TOO_COMPLEX, read_items, too_complex
from services.ingest.deps import CurrentUser, GatewayDep, current_user
from services.ingest.fastparse import parse_batch
from services.ingest.gateway import Gateway
from services.ingest.legacy import LegacyRejected, LegacySchedules
from services.ingest.legacyshape import LegacyScheduleOut
from services.ingest.limits import PrincipalLimits
from services.ingest.openapi import (
    LEGACY_ERRORS,
    PLAN_EXAMPLE,
    SUBMIT_BODY,
    BatchResult,
    PlanAccepted,
    error_responses,
    json_body,
)
from services.ingest.outcomes import Outcome
from services.ingest.problems import ProblemError, dumps

router = APIRouter(tags=["charging plans"])

_ACCEPTED = {"description": "Stored: the broker acknowledged it (acks=all)", "model": PlanAccepted}
_CREATED = {
    "description": "An original-format schedule (DESIGN §7.1), stored and published as the "
    "chargeflow plan shown in `plan` (the broker acknowledged it)",
    "model": LegacyScheduleOut,
}


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
        answer: dict[str, Any] = {
            "plan_id": str(o.plan_id),
            "revision": o.revision,
            "status": status_word,
        }
        if o.bid is not None:
            answer["bid"] = o.bid
        return _json(answer, 202)
    headers = _retry_after(request) if o.status == 503 else None
    raise ProblemError(o.status, o.detail, o.errors, headers=headers)


@router.post(
    "/charging-schedules/",
    status_code=202,
    responses={
        201: _CREATED,
        202: _ACCEPTED,
        400: LEGACY_ERRORS,
        **error_responses(401, 403, 409, 413, 422, 429, 503),
    },
    openapi_extra=SUBMIT_BODY,
)
async def submit_plan(request: Request) -> Response:
    """Submit one plan; 202 only after the broker has acknowledged it. A plan without `bid`
    gets the operator's default bid (shown in the answer). A schedule in the original
    system's format (`electric_vehicle`, `mode`, ...) is answered 201 or 400 in that
    system's shapes."""
    user = await current_user(request)  # no Depends on the hot routes (see _gateway)
    body = await request.body()
    limits: PrincipalLimits = request.app.state.limits
    limits.charge_body(user.token_id, len(body))
    limits.charge_plans(user.token_id, 1)
    if too_complex(body):  # pydantic's cost grows with it: 1 MiB of empty stops took 0.7 s
        raise ProblemError(422, "invalid plan", [_TOO_COMPLEX])
    if may_be_legacy(body):  # a byte scan: plans pay nothing more
        document = _json_or_none(body)
        if is_legacy(document):
            return await _legacy(request, document, user)
    [outcome] = await _gateway(request).submit([body], user)
    return _answer(request, outcome, "accepted")


def _json_or_none(body: bytes) -> Any:
    try:
        return orjson.loads(body)
    except orjson.JSONDecodeError:
        return None  # the plan path names the JSON error


async def _legacy(request: Request, document: dict[str, Any], user: Principal) -> Response:
    legacy: LegacySchedules = request.app.state.legacy
    try:
        return _json(await legacy.submit(document, user), 201)
    except LegacyRejected as exc:
        return _json(exc.errors, 400)


_TOO_COMPLEX = FieldError(loc="", reason=TOO_COMPLEX)


class _Batch(Model):
    plans: list[ChargingPlan]


# The schema of a whole batch body: no longer used to parse requests (a body is read item by
# item, batchlimits.py), kept as the reference tests/unit/ingest/test_fastparse.py compares
# the fast parse with.
_BATCH = TypeAdapter(_Batch)


def _batch_items(body: bytes, limit: int, max_errors: int) -> list[Any]:
    """The batch's plans. Well-formed batches (the common case) are parsed in one go by the
    msgspec mirror of the schema (fastparse.py, ~10x faster than pydantic), after a C scan
    shows it cannot build more than ``limit`` plans: each plan it accepts has the key
    ``"plan_id"`` spelled out. Anything else is read item by item within bounds
    (batchlimits.py): counted before any item is built, each item parsed on its own."""
    if body.count(b'"plan_id"') <= limit:
        plans: list[Any] | None = parse_batch(body)
        if plans:
            return plans
    return read_items(body, limit, max_errors)


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
    settings = request.app.state.settings
    limits: PrincipalLimits = request.app.state.limits
    body = await request.body()
    limits.charge_body(user.token_id, len(body))  # before parsing: bytes bound its cost
    items = _batch_items(body, settings.max_batch_plans, settings.max_batch_errors)
    limits.charge_plans(user.token_id, len(items))  # before the registry and the broker
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
    answer = {"accepted": accepted, "rejected": len(outcomes) - accepted, "results": results}
    return _json(answer, 200, headers)


class _PlanIdSegment(Convertor[str]):
    """Any path segment but "batch": DELETE /charging-schedules/batch must find the batch
    route (405, it only takes POST), not this one with plan_id "batch" (422). The value
    stays text; FastAPI validates it as a UUID (422 naming plan_id otherwise)."""

    regex = r"(?!batch$)[^/]+"

    def convert(self, value: str) -> str:
        return value

    def to_string(self, value: str) -> str:
        return str(value)


register_url_convertor("plan_id_segment", _PlanIdSegment())


@router.delete(
    "/charging-schedules/{plan_id:plan_id_segment}",
    status_code=202,
    responses={202: _ACCEPTED, **error_responses(401, 403, 404, 409, 422, 429, 503)},
)
async def cancel_plan(
    plan_id: UUID, request: Request, user: CurrentUser, gateway: GatewayDep
) -> Response:
    """Cancel a plan before gate closure; publishes PlanCancelled for its newest revision."""
    return _answer(request, await gateway.cancel(plan_id, user), "cancelled")
