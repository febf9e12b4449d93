"""FastAPI dependencies: the gateway, the pool, the authenticated (and rate-limited) caller."""

from __future__ import annotations

from typing import Annotated

import asyncpg
from fastapi import Depends, Request

from services.common.auth import TokenCache, bearer_token
from services.common.registry import Principal
from services.ingest.gateway import Gateway
from services.ingest.limits import PrincipalLimits
from services.ingest.problems import ProblemError
from services.ingest.storage import storage_errors


# async on purpose: FastAPI runs plain `def` dependencies in a thread pool, a thread
# hand-off per request (its Condition notify/wait were ~10% of the profile samples).
async def get_gateway(request: Request) -> Gateway:
    gateway: Gateway = request.app.state.gateway
    return gateway


async def get_pool(request: Request) -> asyncpg.Pool:
    pool: asyncpg.Pool = request.app.state.pool
    return pool


GatewayDep = Annotated[Gateway, Depends(get_gateway)]
PoolDep = Annotated[asyncpg.Pool, Depends(get_pool)]

_CHALLENGE = {"WWW-Authenticate": 'Bearer realm="chargeflow"'}


async def current_user(request: Request) -> Principal:
    """The caller behind the bearer token (401 otherwise), within its request rate (429);
    the routes that take bodies charge their bytes and plans too (limits.py).

    Reads the header itself rather than through fastapi.security.HTTPBearer (one dependency
    and one pydantic model less per request); the OpenAPI security scheme is declared in
    openapi.py."""
    token = bearer_token(request.headers.get("authorization"))
    if token is None:
        raise ProblemError(401, "missing bearer token", headers=_CHALLENGE)
    tokens: TokenCache = request.app.state.tokens
    async with storage_errors():
        principal = await tokens.principal(token)
    if principal is None:
        raise ProblemError(401, "invalid or revoked token", headers=_CHALLENGE)
    limits: PrincipalLimits = request.app.state.limits
    limits.charge_request(principal.token_id)
    return principal


CurrentUser = Annotated[Principal, Depends(current_user)]
