"""RFC 9457 problem details for every service: one exception, one JSON shape, a handler for
every error.

Every error is ``application/problem+json`` with a ``type`` URN, the HTTP ``status``, a
human ``detail`` and ``errors``: every field error found ({loc, reason}). The ``type`` slug
is what clients switch on; each service names its own (the gateway's 422 is
``invalid-plan``, the decisions service's ``invalid-request``) by passing its table to
:func:`install` and to the helpers. A :class:`ProblemError` without a slug takes the one of
its status from the table of the app that answers.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping, Sequence
from http import HTTPStatus

import orjson
from fastapi import FastAPI
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel, Field
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.requests import Request
from starlette.responses import Response

from schemas.base import FieldError
from schemas.parsing import loc_path

log = logging.getLogger(__name__)

PROBLEM_JSON = "application/problem+json"
TYPE_PREFIX = "urn:chargeflow:problem:"

# status -> problem type slug, shared by every service unless it names its own
SLUGS: Mapping[int, str] = {
    400: "bad-request",
    401: "unauthorized",
    403: "forbidden",
    404: "not-found",
    405: "method-not-allowed",
    409: "conflict",
    413: "payload-too-large",
    415: "unsupported-media-type",
    422: "invalid-request",
    429: "rate-limited",
    500: "internal-error",
    503: "unavailable",
}


class Problem(BaseModel):
    """RFC 9457 problem details with the list of field errors."""

    type: str = Field(examples=["urn:chargeflow:problem:invalid-plan"])
    title: str
    status: int
    detail: str
    instance: str | None = None
    errors: list[FieldError] = Field(default_factory=list)


class ProblemError(Exception):
    """Raise anywhere in a request to answer with a problem document."""

    def __init__(
        self,
        status: int,
        detail: str,
        errors: Sequence[FieldError] = (),
        *,
        slug: str | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail
        self.errors = list(errors)
        self.slug = slug
        self.headers = dict(headers or {})


def dumps(body: object) -> bytes:
    """orjson, falling back to ASCII-escaped json for text orjson refuses: error reasons
    quote client input, which may hold lone surrogates (found by the fuzzer). UUIDs are
    written as their text by both."""
    try:
        return orjson.dumps(body)
    except (TypeError, orjson.JSONEncodeError):
        return json.dumps(body, ensure_ascii=True, default=str).encode()


def problem_body(
    status: int,
    detail: str,
    errors: Sequence[FieldError] = (),
    slug: str | None = None,
    instance: str | None = None,
    slugs: Mapping[int, str] = SLUGS,
) -> dict[str, object]:
    return {
        "type": TYPE_PREFIX + (slug or slugs.get(status, "error")),
        "title": HTTPStatus(status).phrase,
        "status": status,
        "detail": detail,
        "instance": instance,
        "errors": [{"loc": e.loc, "reason": e.reason} for e in errors],
    }


def problem_response(
    status: int,
    detail: str,
    errors: Sequence[FieldError] = (),
    *,
    slug: str | None = None,
    headers: Mapping[str, str] | None = None,
    instance: str | None = None,
    slugs: Mapping[int, str] = SLUGS,
) -> Response:
    body = dumps(problem_body(status, detail, errors, slug, instance, slugs))
    return Response(body, status, headers=dict(headers or {}), media_type=PROBLEM_JSON)


def install(
    app: FastAPI,
    slugs: Mapping[int, str] = SLUGS,
    *,
    unavailable: Sequence[type[Exception]] = (),
    unavailable_detail: str = "a backing service is unavailable; retry shortly",
    retry_after_s: int = 2,
) -> None:
    """Problem handlers for `app`: ProblemError, HTTP errors, parameter validation, the
    `unavailable` exception types (a 503 with Retry-After, e.g. the database is down) and
    anything else (a 500 that leaks nothing but is logged)."""

    def answer(
        request: Request,
        status: int,
        detail: str,
        errors: Sequence[FieldError] = (),
        *,
        slug: str | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> Response:
        return problem_response(
            status,
            detail,
            errors,
            slug=slug,
            headers=headers,
            instance=request.url.path,
            slugs=slugs,
        )

    async def on_problem(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, ProblemError)
        return answer(
            request, exc.status, exc.detail, exc.errors, slug=exc.slug, headers=exc.headers
        )

    async def on_http(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, StarletteHTTPException)
        return answer(request, exc.status_code, str(exc.detail), headers=exc.headers)

    async def on_validation(request: Request, exc: Exception) -> Response:
        # Only path/query/header parameters reach here (bodies are parsed by the routes).
        # Drop the "query"/"path" prefix: clients name the parameter, e.g. "delivery_day".
        assert isinstance(exc, RequestValidationError)
        errors = [
            FieldError(loc=loc_path([str(p) for p in e["loc"]][1:]), reason=str(e["msg"]))
            for e in exc.errors()
        ]
        return answer(request, 422, "invalid request parameters", errors, slug="invalid-request")

    async def on_unavailable(request: Request, exc: Exception) -> Response:
        log.warning("unavailable on %s: %r", request.url.path, exc)
        return answer(request, 503, unavailable_detail, headers={"Retry-After": str(retry_after_s)})

    async def on_crash(request: Request, exc: Exception) -> Response:
        log.exception("unhandled error on %s %s", request.method, request.url.path)
        return answer(request, 500, "internal error; it has been logged")

    app.add_exception_handler(ProblemError, on_problem)
    app.add_exception_handler(StarletteHTTPException, on_http)
    app.add_exception_handler(RequestValidationError, on_validation)
    for exc_type in unavailable:
        app.add_exception_handler(exc_type, on_unavailable)
    app.add_exception_handler(Exception, on_crash)
