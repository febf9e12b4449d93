"""FastAPI dependencies: the pool, the response cache, the areas' timezones, the
authenticated caller and its role."""

from __future__ import annotations

from typing import Annotated

import asyncpg
from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from services.common.auth import TokenCache, bearer_token
from services.common.ratelimit import RateLimiter, retry_after_header
from services.common.registry import Principal
from services.decisions.areas import AreaZones
from services.decisions.cache import ResponseCache
from services.decisions.problems import ProblemError

bearer = HTTPBearer(
    auto_error=False,
    description="API token from `POST /auth/token` or `chargeflow token create`; sent as "
    "`Authorization: Bearer cf_...` (or `Token cf_...`, the original system's scheme)",
)
_CHALLENGE = {"WWW-Authenticate": 'Bearer realm="chargeflow"'}


# Dependencies are `async def` on purpose: FastAPI runs plain `def` ones in a thread pool,
# which cost more than the whole cached request (measured with cProfile under load).
async def get_pool(request: Request) -> asyncpg.Pool:
    pool: asyncpg.Pool = request.app.state.pool
    return pool


async def get_cache(request: Request) -> ResponseCache:
    cache: ResponseCache = request.app.state.cache
    return cache


async def get_zones(request: Request) -> AreaZones:
    zones: AreaZones = request.app.state.zones
    return zones


async def current_user(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
) -> Principal:
    """The caller behind the bearer token (401 otherwise), within its request rate (429).
    ``credentials`` declares the scheme in OpenAPI; the header is read by bearer_token,
    which also takes the original system's ``Authorization: Token …`` (DESIGN §7.1)."""
    token = bearer_token(request.headers.get("authorization"))
    if token is None:
        raise ProblemError(401, "missing bearer token", headers=_CHALLENGE)
    tokens: TokenCache = request.app.state.tokens
    principal = await tokens.principal(token)
    if principal is None:
        raise ProblemError(401, "invalid or revoked token", headers=_CHALLENGE)
    limiter: RateLimiter = request.app.state.limiter
    wait = limiter.retry_after(principal.token_id)
    if wait > 0:
        raise ProblemError(
            429,
            f"rate limit of {limiter.rate:g} requests/s (burst {limiter.burst:g}) exceeded",
            headers={"Retry-After": retry_after_header(wait)},
        )
    return principal


async def operator_user(principal: Annotated[Principal, Depends(current_user)]) -> Principal:
    """The caller, who must be an operator or admin (403 otherwise)."""
    if principal.role not in ("operator", "admin"):
        raise ProblemError(403, "the operator or admin role is required")
    return principal


PoolDep = Annotated[asyncpg.Pool, Depends(get_pool)]
CacheDep = Annotated[ResponseCache, Depends(get_cache)]
ZonesDep = Annotated[AreaZones, Depends(get_zones)]
CurrentUser = Annotated[Principal, Depends(current_user)]
OperatorUser = Annotated[Principal, Depends(operator_user)]


def owner_filter(principal: Principal) -> int | None:
    """The owner id whose vehicles the caller may see; None = every vehicle (operator, admin)."""
    return principal.user_id if principal.role == "vehicle" else None
