"""HTTP endpoints of the aggregator worker: /metrics, /healthz, /readyz (DESIGN §2, §9)."""

from __future__ import annotations

from collections.abc import Callable

from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from services.aggregator.metrics import REGISTRY


def make_app(ready: Callable[[], dict[str, bool]]) -> Starlette:
    async def metrics(request: Request) -> Response:
        """Prometheus text format."""
        return Response(generate_latest(REGISTRY), media_type=CONTENT_TYPE_LATEST)

    async def healthz(request: Request) -> Response:
        """Liveness: the process answers."""
        return JSONResponse({"status": "ok"})

    async def readyz(request: Request) -> Response:
        """Readiness: config read, state recovered, consumers running."""
        checks = ready()
        ok = all(checks.values())
        return JSONResponse(
            {"status": "ok" if ok else "starting", **checks}, status_code=200 if ok else 503
        )

    return Starlette(
        routes=[
            Route("/metrics", metrics),
            Route("/healthz", healthz),
            Route("/readyz", readyz),
        ]
    )
