"""RFC 9457 problem details (`application/problem+json`) with field errors, for every error."""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from http import HTTPStatus

import asyncpg
import orjson
from fastapi import FastAPI
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.requests import Request
from starlette.responses import Response

from schemas.base import FieldError
from schemas.parsing import loc_path

log = logging.getLogger(__name__)

PROBLEM_JSON = "application/problem+json"
TYPE_PREFIX = "urn:chargeflow:problem:"
SLUGS = {
    401: "unauthorized",
    403: "forbidden",
    404: "not-found",
    405: "method-not-allowed",
    422: "invalid-request",
    500: "internal-error",
    503: "unavailable",
}


class ProblemError(Exception):
    """Raise anywhere in a request to answer with a problem document."""

    def __init__(
        self,
        status: int,
        detail: str,
        errors: Sequence[FieldError] = (),
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail
        self.errors = list(errors)
        self.headers = dict(headers or {})


def problem_response(
    status: int,
    detail: str,
    errors: Sequence[FieldError] = (),
    headers: Mapping[str, str] | None = None,
    instance: str | None = None,
) -> Response:
    body = {
        "type": TYPE_PREFIX + SLUGS.get(status, "error"),
        "title": HTTPStatus(status).phrase,
        "status": status,
        "detail": detail,
        "instance": instance,
        "errors": [{"loc": e.loc, "reason": e.reason} for e in errors],
    }
    return Response(orjson.dumps(body), status, dict(headers or {}), media_type=PROBLEM_JSON)


async def _on_problem(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, ProblemError)
    return problem_response(exc.status, exc.detail, exc.errors, exc.headers, request.url.path)


async def _on_http(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, StarletteHTTPException)
    return problem_response(exc.status_code, str(exc.detail), (), exc.headers, request.url.path)


async def _on_validation(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)
    # Drop the "query"/"path" prefix: clients name the parameter, e.g. "delivery_day".
    errors = [
        FieldError(loc=loc_path([str(p) for p in e["loc"]][1:]), reason=str(e["msg"]))
        for e in exc.errors()
    ]
    return problem_response(422, "invalid request parameters", errors, None, request.url.path)


async def _on_unavailable(request: Request, exc: Exception) -> Response:
    log.warning("database unavailable on %s: %r", request.url.path, exc)
    return problem_response(
        503, "the database is unavailable; retry shortly", (), {"Retry-After": "2"},
        request.url.path,
    )  # fmt: skip


# PostgreSQL down or unreachable: a 503 the client may retry, not a 500.
UNAVAILABLE = (
    OSError,
    TimeoutError,
    asyncpg.PostgresConnectionError,
    asyncpg.InterfaceError,
    asyncpg.CannotConnectNowError,
)


async def _on_crash(request: Request, exc: Exception) -> Response:
    log.exception("unhandled error on %s %s", request.method, request.url.path)
    return problem_response(500, "internal error; it has been logged", (), None, request.url.path)


def install(app: FastAPI) -> None:
    app.add_exception_handler(ProblemError, _on_problem)
    app.add_exception_handler(StarletteHTTPException, _on_http)
    app.add_exception_handler(RequestValidationError, _on_validation)
    for exc_type in UNAVAILABLE:
        app.add_exception_handler(exc_type, _on_unavailable)
    app.add_exception_handler(Exception, _on_crash)
