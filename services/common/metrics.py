"""Prometheus helpers: HTTP metrics middleware and the /metrics endpoint (DESIGN §9).

Metric names are prefixed `chargeflow_`; units are seconds and bytes. Route labels use the
route template (`/charging-schedules/{plan_id}`), never the raw path, to bound cardinality.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
)
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Match

LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)

HTTP_REQUESTS = Counter(
    "chargeflow_http_requests_total",
    "HTTP requests by service, route and status",
    ["service", "method", "route", "status"],
)
HTTP_LATENCY = Histogram(
    "chargeflow_http_request_duration_seconds",
    "HTTP request latency by service and route",
    ["service", "method", "route"],
    buckets=LATENCY_BUCKETS,
)


def _route_template(request: Request) -> str:
    # FastAPI's router leaves the matched route in the (shared) scope: no scan needed.
    # The scan over every route (each a regex match) stays for plain Starlette routes.
    matched = request.scope.get("route")
    if matched is not None and hasattr(matched, "path"):
        return str(matched.path)
    for route in request.app.router.routes:
        match, _ = route.matches(request.scope)
        if match == Match.FULL:
            return str(getattr(route, "path", request.url.path))
    return "unmatched"


def http_metrics_middleware(
    service: str,
) -> Callable[[Request, Callable[[Request], Awaitable[Response]]], Awaitable[Response]]:
    """`app.middleware("http")(http_metrics_middleware("ingest"))`."""

    async def middleware(
        request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        start = time.perf_counter()
        status = 500
        try:
            response = await call_next(request)
            status = response.status_code
            return response
        finally:
            route = _route_template(request)
            HTTP_LATENCY.labels(service, request.method, route).observe(time.perf_counter() - start)
            HTTP_REQUESTS.labels(service, request.method, route, str(status)).inc()

    return middleware


def metrics_response(registry: CollectorRegistry = REGISTRY) -> Response:
    return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)
