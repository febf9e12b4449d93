"""Self-service account routes, served by both HTTP services (DESIGN §7 Accounts, §7.1).

- ``POST /auth/token``: OAuth2 password form (``username``, ``password``) -> a new API token
  ``{access_token, token_type: "bearer", expires_in}``; refusals in RFC 6749 §5.2's shape.
- ``POST /api-token-auth/``: the original system's login (JSON or form) -> ``{"token"}``;
  bad credentials -> ``400 {"non_field_errors": [...]}`` as Django REST framework answers.
- ``GET /auth/tokens``, ``DELETE /auth/tokens/{id}``: the caller's own tokens.

Logins are throttled per address and per user name before the password is checked (argon2
costs ~50-300 ms of CPU on purpose: unthrottled, logins would be a cheap way to load the
service); a throttled login gets 429 with Retry-After whatever the password.
"""

from collections.abc import Awaitable, Callable
from datetime import datetime
from http import HTTPStatus
from typing import Annotated, Any

import asyncpg
from fastapi import APIRouter, Depends, Form, Path, Request
from pydantic import BaseModel, Field
from starlette.responses import JSONResponse, Response

from services.common import accounts, registry
from services.common.problems import PROBLEM_JSON, ProblemError
from services.common.ratelimit import RateLimiter, retry_after_header
from services.common.registry import Principal

GetPool = Callable[[Request], Awaitable[asyncpg.Pool]]
CurrentUser = Callable[..., Awaitable[Principal]]

_BAD_LOGIN = "Unable to log in with provided credentials."  # DRF's own words


class TokenGrant(BaseModel):
    access_token: str = Field(description="Send it as `Authorization: Bearer <token>`")
    token_type: str = Field(default="bearer", pattern="^bearer$")
    expires_in: int = Field(description="Seconds until the token expires")


class LegacyToken(BaseModel):
    token: str = Field(description="Send it as `Authorization: Token <token>`")


class OwnToken(BaseModel):
    id: int
    prefix: str = Field(description="The token's first characters, to tell tokens apart")
    label: str
    created_at: datetime
    expires_at: datetime | None
    revoked_at: datetime | None
    active: bool


class OAuthError(BaseModel):
    """RFC 6749 §5.2: what an OAuth2 client expects when a password grant is refused."""

    error: str = Field(pattern="^invalid_grant$")
    error_description: str


def _problems(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """problem+json answers (the Problem schema both services document)."""
    out: dict[int | str, dict[str, Any]] = {}
    for status in statuses:
        response: dict[str, Any] = {
            "description": HTTPStatus(status).phrase,
            "content": {PROBLEM_JSON: {"schema": {"$ref": "#/components/schemas/Problem"}}},
        }
        if status in (429, 503):
            response["headers"] = {"Retry-After": {"schema": {"type": "integer"}}}
        out[status] = response
    return out


_DRF_ERRORS = {
    "description": "Django REST framework validation errors: field -> messages",
    "content": {
        "application/json": {
            "schema": {
                "type": "object",
                "additionalProperties": {"type": "array", "items": {"type": "string"}},
            }
        }
    },
}
_LOGIN_BODY = {
    "type": "object",
    "properties": {
        "username": {"type": "string", "minLength": 1, "maxLength": 128},
        "password": {"type": "string", "minLength": 1, "maxLength": 1024},
    },
    "required": ["username", "password"],
}


class LoginThrottle:
    """Token buckets per client address and per user name, for login attempts."""

    def __init__(self, per_address_per_min: float = 20, per_user_per_min: float = 10) -> None:
        self.address = RateLimiter(per_address_per_min / 60, per_address_per_min)
        self.user = RateLimiter(per_user_per_min / 60, per_user_per_min / 2)

    def check(self, request: Request, name: str) -> None:
        client = request.client.host if request.client else "unknown"
        wait = max(self.address.retry_after(client), self.user.retry_after(name.lower()[:128]))
        if wait > 0:
            raise ProblemError(
                429,
                "too many login attempts; try again later",
                headers={"Retry-After": retry_after_header(wait)},
            )


def account_router(
    get_pool: GetPool, current_user: CurrentUser, throttle: LoginThrottle | None = None
) -> APIRouter:
    """The routes above, with the service's own pool and authentication dependency."""
    router = APIRouter(tags=["accounts"])
    limits = throttle or LoginThrottle()
    Pool = Annotated[asyncpg.Pool, Depends(get_pool)]
    Caller = Annotated[Principal, Depends(current_user)]

    async def issue(pool: asyncpg.Pool, request: Request, name: str, password: str) -> str | None:
        limits.check(request, name)
        user = await accounts.login(pool, name, password)
        if user is None:
            return None
        _, token = await registry.create_token(
            pool, user.name, "login", expires_in=accounts.DEFAULT_TOKEN_LIFETIME
        )
        return token

    @router.post(
        "/auth/token",
        response_model=TokenGrant,
        responses={
            400: {"description": "invalid_grant (RFC 6749 §5.2)", "model": OAuthError},
            **_problems(413, 422, 429, 503),
        },
    )
    async def token(
        request: Request,
        pool: Pool,
        username: Annotated[str, Form(min_length=1, max_length=128)],
        password: Annotated[str, Form(min_length=1, max_length=accounts.MAX_PASSWORD_CHARS)],
        grant_type: Annotated[str | None, Form(pattern="^password$")] = None,
    ) -> Any:
        """Log in with a user name and password; a new API token (expires in 90 days)."""
        issued = await issue(pool, request, username, password)
        if issued is None:
            return JSONResponse(
                {"error": "invalid_grant", "error_description": "wrong user name or password"},
                400,
            )
        lifetime = int(accounts.DEFAULT_TOKEN_LIFETIME.total_seconds())
        return TokenGrant(access_token=issued, expires_in=lifetime)

    @router.post(
        "/api-token-auth/",
        response_model=LegacyToken,
        responses={400: _DRF_ERRORS, **_problems(413, 429, 503)},
        openapi_extra={
            "requestBody": {
                "required": True,
                "content": {
                    "application/json": {"schema": _LOGIN_BODY},
                    "application/x-www-form-urlencoded": {"schema": _LOGIN_BODY},
                },
            }
        },
    )
    async def legacy_token(request: Request, pool: Pool) -> Any:
        """The original system's login: {"username", "password"} -> {"token"}."""
        data = await _form_or_json(request)
        missing = {
            f: ["This field is required."] for f in ("username", "password") if not data.get(f)
        }
        if missing:
            return JSONResponse(missing, 400)
        issued = await issue(pool, request, str(data["username"]), str(data["password"]))
        if issued is None:
            return JSONResponse({"non_field_errors": [_BAD_LOGIN]}, 400)
        return LegacyToken(token=issued)

    @router.get("/auth/tokens", response_model=list[OwnToken], responses=_problems(401, 429, 503))
    async def own_tokens(pool: Pool, caller: Caller) -> Any:
        """The caller's API tokens (never the secrets themselves)."""
        return [OwnToken(**t.__dict__) for t in await accounts.tokens_of(pool, caller.user_id)]

    @router.delete(
        "/auth/tokens/{token_id}",
        status_code=204,
        responses=_problems(401, 404, 422, 429, 503),
    )
    async def revoke(
        pool: Pool, caller: Caller, token_id: Annotated[int, Path(ge=1, le=2**63 - 1)]
    ) -> Response:
        """Revoke one of the caller's own tokens (takes effect within the token cache TTL)."""
        if not await accounts.revoke_own_token(pool, caller, token_id):
            raise ProblemError(404, "no active token with this id is yours")
        return Response(status_code=204)

    return router


async def _form_or_json(request: Request) -> dict[str, Any]:
    if request.headers.get("content-type", "").startswith("application/json"):
        try:
            body = await request.json()
        except ValueError:
            return {}
        return body if isinstance(body, dict) else {}
    form = await request.form()
    return {k: v for k, v in form.items() if isinstance(v, str)}
