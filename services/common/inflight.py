"""Shed load instead of queueing it: 503 when too many requests are in flight (pure ASGI).

Without a bound, an overloaded service accepts every request and lets it wait (for the
event loop, for a database connection), so latency grows without limit and clients time
out anyway after the work was done. Here a request beyond ``max_in_flight`` concurrent ones
is answered at once with 503 problem+json and Retry-After; the requests already admitted
keep their share of the database pool. uvicorn's own ``--limit-concurrency`` does the same
but answers text/plain, which the published API does not document.
"""

from __future__ import annotations

from starlette.types import ASGIApp, Receive, Scope, Send

from services.common.problems import problem_response

EXEMPT = frozenset({"/healthz", "/metrics"})  # liveness and scraping stay answerable


class InFlightLimitMiddleware:
    def __init__(self, app: ASGIApp, max_in_flight: int, retry_after_s: int = 1) -> None:
        self.app = app
        self.max_in_flight = max_in_flight
        self.retry_after_s = retry_after_s
        self.in_flight = 0
        self.shed = 0  # requests answered 503 here (for tests and curiosity)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] in EXEMPT:
            await self.app(scope, receive, send)
            return
        if self.in_flight >= self.max_in_flight:
            self.shed += 1
            response = problem_response(
                503,
                f"overloaded: {self.max_in_flight} requests in flight; retry shortly",
                slug="overloaded",
                headers={"Retry-After": str(self.retry_after_s)},
                instance=scope["path"],
            )
            await response(scope, receive, send)
            return
        self.in_flight += 1
        try:
            await self.app(scope, receive, send)
        finally:
            self.in_flight -= 1
