"""POST /charging-schedules/ straight from ASGI, without FastAPI's per-request machinery.

Under single-plan load FastAPI's request handling and Starlette's routing were ~27% of the
gateway's on-CPU Python (py-spy), more than the gateway's own work. This wrapper sits
inside the metrics and body-limit middleware (so both still apply) and calls the very same
route function, ``routes.plans.submit_plan``, with the same error rendering the app's
exception handlers use (problem+json, 413 for an oversized streamed body). Unexpected
exceptions propagate to Starlette's ServerErrorMiddleware as before (500 problem). The
FastAPI route stays registered: it documents the operation in OpenAPI and serves nothing
else. Every other path and method goes through FastAPI unchanged.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.routing import BaseRoute
from starlette.types import ASGIApp, Receive, Scope, Send

from services.ingest.limits import BodyTooLarge
from services.ingest.problems import ProblemError, problem_response
from services.ingest.routes import plans
from services.ingest.routes.plans import submit_plan

PATH = "/charging-schedules/"
ALLOW = "GET, HEAD, POST"  # POST here, GET (and HEAD) the original API's listing
_ROUTED = frozenset({"GET", "HEAD"})


class FastSubmit:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self._route: BaseRoute | None = None

    def _documented_route(self) -> BaseRoute | None:
        if self._route is None:  # the FastAPI route: its template labels the metrics
            for route in plans.router.routes:
                if getattr(route, "path", None) == PATH and "POST" in getattr(route, "methods", ()):
                    self._route = route
        return self._route

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] != PATH or scope["method"] in _ROUTED:
            await self.app(scope, receive, send)
            return
        if scope["method"] != "POST":
            # Starlette would name only the first route's methods of this path in Allow
            response = problem_response(
                405, "Method Not Allowed", headers={"Allow": ALLOW}, instance=PATH
            )
            await response(scope, receive, send)
            return
        scope["route"] = self._documented_route()
        request = Request(scope, receive)
        try:
            response = await submit_plan(request)
        except ProblemError as exc:
            response = problem_response(
                exc.status,
                exc.detail,
                exc.errors,
                slug=exc.slug,
                headers=exc.headers,
                instance=request.url.path,
            )
        except BodyTooLarge as exc:
            response = problem_response(
                413,
                f"request body exceeds the limit of {exc.args[0]} bytes",
                instance=request.url.path,
            )
        await response(scope, receive, send)
