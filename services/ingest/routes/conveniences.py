"""Reading routes: market areas (chargeflow's) and the caller's original-format schedules."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from starlette.responses import Response

from services.ingest.areainfo import MarketAreaInfo, area_info
from services.ingest.deps import CurrentUser, GatewayDep
from services.ingest.legacyshape import LegacyScheduleOut, schedule_out
from services.ingest.openapi import error_responses
from services.ingest.problems import dumps
from services.ingest.storage import storage_errors

router = APIRouter()


@router.get(
    "/market-areas/",
    tags=["market areas"],
    responses={
        200: {"description": "Every market area", "model": list[MarketAreaInfo]},
        **error_responses(401, 429, 503),
    },
)
async def market_areas(request: Request, user: CurrentUser, gateway: GatewayDep) -> Response:
    """Every market area: timezone, MTU, the next delivery day open for plans, its gate
    closure and the seconds left, and how far the latest cleared day got."""
    async with storage_errors():
        net = await gateway.facts.network()
    now = gateway.clock.now()
    days = request.app.state.latest_days
    body = [
        area_info(area, now, days.of(area.id)).model_dump(mode="json")
        for area in sorted(net.areas.values(), key=lambda a: a.id)
    ]
    return Response(dumps(body), media_type="application/json")


@router.get(
    "/charging-schedules/",
    tags=["original API"],
    responses={
        200: {
            "description": "The caller's schedules in the original format, oldest first",
            "model": list[LegacyScheduleOut],
        },
        **error_responses(401, 422, 429, 503),
    },
)
async def own_schedules(
    request: Request,
    user: CurrentUser,
    limit: Annotated[int, Query(ge=1, le=1000, description="The newest this many")] = 100,
) -> Response:
    """The caller's schedules submitted in the original system's format (DESIGN §7.1)."""
    async with storage_errors():
        stored = await request.app.state.schedules.of_user(user.user_id, limit)
    body: list[dict[str, Any]] = [schedule_out(s) for s in stored]
    return Response(dumps(body), media_type="application/json")
