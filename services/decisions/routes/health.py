"""Liveness, readiness and Prometheus metrics."""

from __future__ import annotations

import asyncio
import logging

from fastapi import APIRouter, Request
from starlette.responses import JSONResponse, Response

from schemas.base import FieldError
from services.common.metrics import metrics_response
from services.decisions.deps import PoolDep
from services.decisions.openapi import Status, ok, responses
from services.decisions.problems import problem_response

log = logging.getLogger(__name__)

router = APIRouter(tags=["health"])


@router.get("/healthz", responses=ok(Status, "The process is alive"))
async def healthz() -> Response:
    """The process is alive."""
    return JSONResponse({"status": "ok"})


@router.get("/readyz", responses={**ok(Status, "Ready"), **responses(429, 503)})
async def readyz(request: Request, pool: PoolDep) -> Response:
    """PostgreSQL answers and the consumer is running (when this replica consumes).

    The answer names the failing dependency and nothing more: exception texts (addresses,
    user names, driver messages) go to the log, not to whoever can reach the port."""
    errors = []
    try:
        await asyncio.wait_for(pool.fetchval("SELECT 1"), timeout=2)
    except Exception as exc:  # any failure means not ready; say which
        log.warning("readyz: database unreachable: %r", exc)
        errors.append(FieldError(loc="database", reason="unreachable"))
    consumer = request.app.state.consumer
    if consumer is not None and not consumer.running:
        if consumer.last_error:
            log.warning("readyz: consumer not running: %s", consumer.last_error)
        why = "failed; restarting" if consumer.last_error else "starting"
        errors.append(FieldError(loc="consumer", reason=f"not running ({why})"))
    if errors:
        return problem_response(
            503, "not ready", errors, headers={"Retry-After": "2"}, instance=request.url.path
        )
    return JSONResponse({"status": "ready"})


@router.get("/metrics", include_in_schema=False)
async def metrics() -> Response:
    """Prometheus text format."""
    return metrics_response()
