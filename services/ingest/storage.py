"""Database failures become a 503 problem (the registry or revision table is unreachable)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import asyncpg

from services.ingest.problems import ProblemError

RETRY_AFTER_S = 2


@asynccontextmanager
async def storage_errors() -> AsyncIterator[None]:
    try:
        yield
    except (asyncpg.PostgresError, asyncpg.InterfaceError, OSError, TimeoutError) as exc:
        raise ProblemError(
            503,
            f"registry database unavailable ({type(exc).__name__}); nothing was stored",
            slug="database-unavailable",
            headers={"Retry-After": str(RETRY_AFTER_S)},
        ) from exc
