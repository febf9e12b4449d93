"""RFC 9457 problem details: one exception type, one JSON shape, handlers for every error.

Every error the gateway returns is ``application/problem+json`` with a ``type`` URN, the
HTTP ``status``, a human ``detail`` and ``errors``: every field error found ({loc, reason}).
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

# status -> problem type slug (the machine-readable part clients switch on)
SLUGS = {
    400: "bad-request",
    401: "unauthorized",
    403: "forbidden",
    404: "not-found",
    405: "method-not-allowed",
    409: "conflict",
    413: "payload-too-large",
    415: "unsupported-media-type",
    422: "invalid-plan",
    429: "rate-limited",
    500: "internal-error",
    503: "broker-unavailable",
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
        self.slug = slug or SLUGS.get(status, "error")
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
) -> dict[str, object]:
    return {
        "type": TYPE_PREFIX + (slug or SLUGS.get(status, "error")),
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
) -> Response:
    body = dumps(problem_body(status, detail, errors, slug, instance))
    return Response(body, status, headers=dict(headers or {}), media_type=PROBLEM_JSON)


async def _on_problem(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, ProblemError)
    return problem_response(
        exc.status,
        exc.detail,
        exc.errors,
        slug=exc.slug,
        headers=exc.headers,
        instance=request.url.path,
    )


async def _on_http(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, StarletteHTTPException)
    return problem_response(
        exc.status_code, str(exc.detail), headers=exc.headers, instance=request.url.path
    )


async def _on_validation(request: Request, exc: Exception) -> Response:
    # Only path/query/header parameters reach here: bodies are parsed by the routes.
    assert isinstance(exc, RequestValidationError)
    errors = [
        FieldError(loc=loc_path([str(p) for p in e["loc"]]), reason=str(e["msg"]))
        for e in exc.errors()
    ]
    return problem_response(
        422, "invalid request parameters", errors, slug="invalid-request", instance=request.url.path
    )


async def _on_crash(request: Request, exc: Exception) -> Response:
    log.exception("unhandled error on %s %s", request.method, request.url.path)
    return problem_response(500, "internal error; it has been logged", instance=request.url.path)


def install(app: FastAPI) -> None:
    app.add_exception_handler(ProblemError, _on_problem)
    app.add_exception_handler(StarletteHTTPException, _on_http)
    app.add_exception_handler(RequestValidationError, _on_validation)
    app.add_exception_handler(Exception, _on_crash)
