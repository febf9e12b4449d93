"""The original system's decisions API (DESIGN §7.1), served beside chargeflow's own.

- ``GET /charging-schedules-decisions/?electric_vehicle=ID[&date=YYYY-MM-DD]``: the
  vehicle's decisions, one per delivery day (of ``date``, or of every day), as a list of
  ``{"coverage", "schedule_decision_date_ranges"}``. Same path as chargeflow's list: a
  request is the original API's when it has ``electric_vehicle`` or ``date``.
- ``GET /charging-schedules-decisions/next_day/?electric_vehicle=ID``: the next delivery
  day's decision in that shape.

Answers in the original system's shapes (Django REST framework): a bad parameter 400
``{"param": ["message"]}``, another owner's vehicle 403 ``{"detail"}``, no decision (yet)
or no such vehicle 404 ``{"error"}``. Authentication, rate and overload refusals stay
chargeflow's problem documents, which carry ``detail`` as DRF's do.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine, Mapping
from datetime import date
from typing import Annotated, Any

import asyncpg
import orjson
from fastapi import APIRouter, Header, Query
from fastapi.exceptions import RequestValidationError
from fastapi.routing import APIRoute
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from services.decisions import original
from services.decisions.answers import answer, etag
from services.decisions.cache import ResponseCache
from services.decisions.deps import (
    CacheDep,
    CurrentUser,
    PoolDep,
    ZonesDep,
    owner_filter,
)
from services.decisions.openapi_original import original_responses
from services.decisions.params import NO_NUL

ORIGINAL_PARAMS = frozenset({"electric_vehicle", "date"})
CHARGEFLOW_PARAMS = frozenset({"delivery_day", "from", "to", "vehicle_id", "limit", "cursor"})
_REQUIRED = "This field is required."  # DRF's own words
PATH = "/charging-schedules-decisions"
_NEXT_DAY_PATH = "/next_day/"

ElectricVehicle = Annotated[
    str,
    Query(
        min_length=1,
        max_length=64,
        pattern=NO_NUL,
        description='The vehicle\'s id; a number is the registry id written the same (7: "7")',
    ),
]


def is_original(request: Request) -> bool:
    """A request to the shared list path that uses the original API's parameters."""
    return not ORIGINAL_PARAMS.isdisjoint(request.query_params.keys())


class OriginalAwareRoute(APIRoute):
    """Parameter errors of the original API's requests answer 400 in DRF's shape (the
    problem document's 422 for chargeflow's requests)."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()
        always = self.path == PATH + _NEXT_DAY_PATH
        shared = self.path == PATH + "/"

        async def route(request: Request) -> Response:
            try:
                return await handler(request)
            except RequestValidationError as exc:
                if always or (shared and is_original(request)):
                    return field_errors(exc)
                raise

        return route


def drf(status: int, body: Mapping[str, Any]) -> Response:
    return JSONResponse(body, status_code=status)


def field_errors(exc: RequestValidationError) -> Response:
    """400 ``{"param": ["message", ...]}`` as Django REST framework answers."""
    errors: dict[str, list[str]] = {}
    for e in exc.errors():
        name = str(e["loc"][-1]) if e["loc"] else "non_field_errors"
        errors.setdefault(name, []).append(_REQUIRED if e["type"] == "missing" else str(e["msg"]))
    return drf(400, errors)


def _refused(found: original.Refusal, vehicle: str, what: str) -> Response:
    if found == "foreign":
        return drf(403, {"detail": f"electric vehicle {vehicle!r} is not one of yours"})
    return drf(404, {"error": f"{what}: electric vehicle {vehicle!r} is not registered"})


async def history(
    request: Request,
    pool: asyncpg.Pool,
    cache: ResponseCache,
    owner: int | None,
    electric_vehicle: str | None,
    day: date | None,
    if_none_match: str | None,
) -> Response:
    """The original list: the vehicle's decisions of ``day``, or of every day, by day."""
    mixed = sorted(CHARGEFLOW_PARAMS.intersection(request.query_params.keys()))
    if mixed:
        return drf(400, {"non_field_errors": [
            "electric_vehicle and date (the original API) cannot be combined with "
            + ", ".join(mixed) + " (chargeflow's)"
        ]})  # fmt: skip
    if electric_vehicle is None:
        return drf(400, {"electric_vehicle": [_REQUIRED]})
    key = ("original", owner, electric_vehicle, day)
    hit = cache.get(key)
    if hit is not None:
        return answer(hit.body, hit.etag, if_none_match)
    version = cache.version
    found = await original.vehicle_days(pool, electric_vehicle, day, owner)
    if isinstance(found, str):
        return _refused(found, electric_vehicle, "no decisions")
    body = orjson.dumps([decision for _, decision in found])
    tag = etag(body)
    cache.put(key, body, tag, version)
    return answer(body, tag, if_none_match)


router = APIRouter(
    prefix=PATH,
    tags=["original API"],
    route_class=OriginalAwareRoute,
)


@router.get(_NEXT_DAY_PATH, responses=original_responses())
async def next_day(
    pool: PoolDep,
    cache: CacheDep,
    zones: ZonesDep,
    principal: CurrentUser,
    electric_vehicle: ElectricVehicle,
    if_none_match: Annotated[str | None, Header()] = None,
) -> Response:
    """The original system's decision of the vehicle for the next delivery day (tomorrow in
    the market area's local time): coverage in % and the charging time ranges."""
    day = await zones.next_day()
    owner = owner_filter(principal)
    key = ("next day", owner, electric_vehicle, day)
    hit = cache.get(key)
    if hit is not None:
        return answer(hit.body, hit.etag, if_none_match)
    version = cache.version
    found = await original.vehicle_days(pool, electric_vehicle, day, owner)
    if isinstance(found, str):
        return _refused(found, electric_vehicle, f"no decision for {day}")
    if not found:
        return drf(404, {"error": f"no decision (yet) for electric vehicle {electric_vehicle!r} "
                                  f"for the next delivery day, {day}"})  # fmt: skip
    body = orjson.dumps(found[0][1])
    tag = etag(body)
    cache.put(key, body, tag, version)
    return answer(body, tag, if_none_match)
