"""Liveness, readiness and Prometheus metrics."""

from __future__ import annotations

import asyncio

from fastapi import APIRouter, Request
from starlette.responses import JSONResponse, Response

from schemas.base import FieldError
from services.common.metrics import metrics_response
from services.decisions.deps import PoolDep
from services.decisions.problems import problem_response

router = APIRouter(tags=["health"])


@router.get("/healthz")
async def healthz() -> dict[str, str]:
    """The process is alive."""
    return {"status": "ok"}


@router.get("/readyz")
async def readyz(request: Request, pool: PoolDep) -> Response:
    """PostgreSQL answers and the consumer is running (when this replica consumes)."""
    errors = []
    try:
        await asyncio.wait_for(pool.fetchval("SELECT 1"), timeout=2)
    except Exception as exc:  # any failure means not ready; say which
        errors.append(FieldError(loc="database", reason=f"unreachable: {exc!r}"))
    consumer = request.app.state.consumer
    if consumer is not None and not consumer.running:
        why = consumer.last_error or "starting"
        errors.append(FieldError(loc="consumer", reason=f"not running: {why}"[:2000]))
    if errors:
        return problem_response(503, "not ready", errors, instance=request.url.path)
    return JSONResponse({"status": "ready"})


@router.get("/metrics", include_in_schema=False)
async def metrics() -> Response:
    """Prometheus text format."""
    return metrics_response()
