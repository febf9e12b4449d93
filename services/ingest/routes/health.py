"""Liveness, readiness (broker and database reachable) and Prometheus metrics."""

from __future__ import annotations

import asyncio

from fastapi import APIRouter, Request
from pydantic import BaseModel
from starlette.responses import Response

from schemas.base import FieldError
from services.common.metrics import metrics_response
from services.ingest.deps import GatewayDep, PoolDep
from services.ingest.openapi import error_responses
from services.ingest.problems import ProblemError

router = APIRouter(tags=["operations"])


class Health(BaseModel):
    status: str


@router.get("/healthz", response_model=Health)
async def healthz() -> Health:
    """Liveness: the process answers."""
    return Health(status="ok")


async def _db_ok(pool: PoolDep) -> bool:
    try:
        await asyncio.wait_for(pool.fetchval("SELECT 1"), 2.0)
        return True
    except Exception:
        return False


@router.get("/readyz", response_model=Health, responses=error_responses(429, 503))
async def readyz(gateway: GatewayDep, pool: PoolDep) -> Health:
    """Readiness: the broker and the database answer within 2 s."""
    broker, db = await asyncio.gather(gateway.publisher.ready(), _db_ok(pool))
    errors = [
        FieldError(loc=name, reason="unreachable")
        for name, ok in (("broker", broker), ("database", db))
        if not ok
    ]
    if errors:
        raise ProblemError(503, "not ready", errors, slug="not-ready", headers={"Retry-After": "2"})
    return Health(status="ready")


@router.get("/metrics", include_in_schema=False)
async def metrics(request: Request) -> Response:
    """Prometheus text format."""
    return metrics_response()
