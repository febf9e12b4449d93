"""Vehicle API: the caller's decisions of a day (JSON, ETag) and one decision as OCPP."""

from __future__ import annotations

import hashlib
from typing import Annotated
from uuid import UUID

import orjson
from fastapi import APIRouter, Header, Query
from starlette.responses import Response

from services.decisions import ocpp, queries
from services.decisions.deps import CacheDep, CurrentUser, PoolDep, owner_filter
from services.decisions.openapi import DecisionPage, OcppDecision, ok, responses
from services.decisions.paging import CURSOR_PATTERN, MAX_PAGE, PAGE, Cursor, decode_cursor
from services.decisions.params import NO_NUL, Day
from services.decisions.problems import ProblemError

router = APIRouter(prefix="/charging-schedules-decisions", tags=["vehicles"])

# Decisions change (phase 2 replaces phase 1): clients revalidate every time, cheaply via ETag.
CACHE_CONTROL = "private, no-cache"


def _etag(body: bytes) -> str:
    return '"' + hashlib.sha256(body).hexdigest()[:32] + '"'


def _matches(if_none_match: str | None, etag: str) -> bool:
    if not if_none_match:
        return False
    tags = {t.strip().removeprefix("W/") for t in if_none_match.split(",")}
    return "*" in tags or etag in tags


def _answer(body: bytes, etag: str, if_none_match: str | None) -> Response:
    headers = {"ETag": etag, "Cache-Control": CACHE_CONTROL, "Vary": "Authorization"}
    if _matches(if_none_match, etag):
        return Response(status_code=304, headers=headers)
    return Response(body, headers=headers, media_type="application/json")


@router.get(
    "/",
    responses={
        **ok(DecisionPage, "The caller's plans and decisions of the day, one page", etag=True),
        **responses(304, 401, 404, 422, 429, 503),
    },
)
async def list_decisions(
    pool: PoolDep,
    cache: CacheDep,
    principal: CurrentUser,
    delivery_day: Annotated[Day, Query(description="Local delivery day, YYYY-MM-DD")],
    vehicle_id: Annotated[str | None, Query(min_length=1, max_length=64, pattern=NO_NUL)] = None,
    limit: Annotated[
        int, Query(ge=1, le=MAX_PAGE, description="Decisions per page (operators see all)")
    ] = PAGE,
    cursor: Annotated[
        str | None,
        Query(
            pattern=CURSOR_PATTERN,
            description="`next_cursor` of the previous page, as it is; absent: the first page",
        ),
    ] = None,
    if_none_match: Annotated[str | None, Header()] = None,
) -> Response:
    """The caller's plans of a delivery day with their decisions (only the caller's vehicles),
    one page at a time: decided plans first, then undecided ones, each by vehicle and plan."""
    owner = owner_filter(principal)
    after: Cursor | None = decode_cursor(cursor) if cursor is not None else None
    key = (owner, delivery_day, vehicle_id, after, limit)
    hit = cache.get(key)
    if hit is not None:
        return _answer(hit.body, hit.etag, if_none_match)
    version = cache.version
    body = await queries.day_json(pool, delivery_day, vehicle_id, owner, after, limit)
    if body is None:
        raise ProblemError(404, f"no vehicle {vehicle_id!r} among yours")
    etag = _etag(body)
    cache.put(key, body, etag, version)
    return _answer(body, etag, if_none_match)


@router.get(
    "/{plan_id}/ocpp",
    responses={
        **ok(OcppDecision, "One OCPP 2.0.1 ChargingProfile per charging point", etag=True),
        **responses(304, 401, 404, 422, 429, 503),
    },
)
async def decision_as_ocpp(
    plan_id: UUID,
    pool: PoolDep,
    principal: CurrentUser,
    if_none_match: Annotated[str | None, Header()] = None,
) -> Response:
    """The decision as one OCPP 2.0.1 ChargingProfile per charging point (404 if not yours)."""
    found = await queries.one_decision(pool, plan_id, owner_filter(principal))
    if found is None:
        raise ProblemError(404, f"no decision for plan {plan_id} among yours")
    row, allocations = found
    items = ocpp.profiles(
        plan_id,
        [(a["charging_point_id"], a["mtu_start"], a["energy_kwh"]) for a in allocations],
        queries.mtu_length(row),
    )
    body = orjson.dumps(
        {
            "plan_id": str(plan_id),
            "revision": row["revision"],
            "vehicle_id": row["vehicle_id"],
            "status": row["status"],
            "accepted_kwh": row["accepted_kwh"],
            "profiles": items,
        }
    )
    return _answer(body, _etag(body), if_none_match)
