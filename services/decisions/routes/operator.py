"""Operator API: the day summary behind the operator panel's results view."""

from __future__ import annotations

from typing import Annotated

import orjson
from fastapi import APIRouter, Path
from starlette.responses import Response

from services.decisions.deps import OperatorUser, PoolDep
from services.decisions.openapi import DaySummary, ok, responses
from services.decisions.params import NO_NUL, Day
from services.decisions.problems import ProblemError
from services.decisions.summary import day_summary

router = APIRouter(prefix="/operator/api", tags=["operator"])


@router.get(
    "/days/{market_area}/{delivery_day}",
    responses={
        **ok(DaySummary, "The day's totals, its current run and the list of its runs"),
        **responses(401, 403, 404, 422, 429, 503),
    },
)
async def get_day(
    pool: PoolDep,
    principal: OperatorUser,
    market_area: Annotated[str, Path(min_length=1, max_length=32, pattern=NO_NUL)],
    delivery_day: Day,
) -> Response:
    """Totals, energy per MTU against node capacity, prices and runs of one (area, day)."""
    summary = await day_summary(pool, market_area, delivery_day)
    if summary is None:
        raise ProblemError(404, f"nothing known about {market_area} {delivery_day}")
    return Response(orjson.dumps(summary), media_type="application/json")
