"""Vehicle API: the caller's decisions of a day or of a range of days (JSON, ETag), one
decision as OCPP, and on the same list path the original system's history (DESIGN §7.1)."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

import orjson
from fastapi import APIRouter, Header, Query
from starlette.requests import Request
from starlette.responses import Response

from schemas.base import FieldError
from services.decisions import ocpp, queries
from services.decisions.answers import answer, etag
from services.decisions.days import BadRange, day_range
from services.decisions.deps import CacheDep, CurrentUser, PoolDep, ZonesDep, owner_filter
from services.decisions.openapi import OcppDecision, ok, responses
from services.decisions.openapi_original import list_responses
from services.decisions.paging import CURSOR_PATTERN, MAX_PAGE, PAGE, Cursor, decode_cursor
from services.decisions.params import NO_NUL, Day
from services.decisions.problems import ProblemError
from services.decisions.routes import original

router = APIRouter(
    prefix=original.PATH,
    tags=["vehicles"],
    route_class=original.OriginalAwareRoute,
)


@router.get("/", responses=list_responses())
async def list_decisions(
    request: Request,
    pool: PoolDep,
    cache: CacheDep,
    zones: ZonesDep,
    principal: CurrentUser,
    delivery_day: Annotated[
        Day | None,
        Query(description="Local delivery day, YYYY-MM-DD; absent (and no from/to): the next"),
    ] = None,
    first: Annotated[
        Day | None,
        Query(alias="from", description="History: the first delivery day (inclusive)"),
    ] = None,
    last: Annotated[
        Day | None,
        Query(alias="to", description="History: the last delivery day (inclusive)"),
    ] = None,
    vehicle_id: Annotated[str | None, Query(min_length=1, max_length=64, pattern=NO_NUL)] = None,
    limit: Annotated[
        int, Query(ge=1, le=MAX_PAGE, description="Decisions per page (operators see all)")
    ] = PAGE,
    cursor: Annotated[
        str | None,
        Query(
            pattern=CURSOR_PATTERN,
            description="`next_cursor` of the previous page, as it is, with the same days; "
            "absent: the first page",
        ),
    ] = None,
    electric_vehicle: Annotated[
        str | None,
        Query(
            min_length=1,
            max_length=64,
            pattern=NO_NUL,
            description="The original API: the vehicle whose decisions to list, by day",
        ),
    ] = None,
    original_date: Annotated[
        Day | None,
        Query(alias="date", description="The original API: only this delivery day"),
    ] = None,
    if_none_match: Annotated[str | None, Header()] = None,
) -> Response:
    """The caller's plans with their decisions (only the caller's vehicles), one page at a
    time: of `delivery_day`, of the days `from` … `to` (at most 366), or of the next
    delivery day; day by day, decided plans first, then undecided ones, each by vehicle
    and plan. Every decision carries its charging windows per point.

    With `electric_vehicle` (and `date`): the original system's list instead."""
    owner = owner_filter(principal)
    if original.is_original(request):
        return await original.history(
            request, pool, cache, owner, electric_vehicle, original_date, if_none_match
        )
    try:
        days = day_range(delivery_day, first, last, await zones.next_day())
    except BadRange as exc:
        raise ProblemError(
            422, "invalid request parameters", [FieldError(loc=exc.loc, reason=exc.reason)]
        ) from None
    after: Cursor | None = decode_cursor(cursor) if cursor is not None else None
    key = (owner, days, vehicle_id, after, limit)
    hit = cache.get(key)
    if hit is not None:
        return answer(hit.body, hit.etag, if_none_match)
    version = cache.version
    body = await queries.page_json(pool, days, vehicle_id, owner, after, limit)
    if body is None:
        raise ProblemError(404, f"no vehicle {vehicle_id!r} among yours")
    tag = etag(body)
    cache.put(key, body, tag, version)
    return answer(body, tag, if_none_match)


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
    return answer(body, etag(body), if_none_match)
