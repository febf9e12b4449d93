"""Database failures become a 503 problem (the registry or revision table is unreachable)."""

from __future__ import annotations

from types import TracebackType

import asyncpg

from services.ingest.problems import ProblemError

RETRY_AFTER_S = 2


_DB_ERRORS = (asyncpg.PostgresError, asyncpg.InterfaceError, OSError, TimeoutError)


class _StorageErrors:
    # A class, not @asynccontextmanager: entered up to three times per request, and the
    # generator-based manager was ~2.5% of the single-plan profile.
    async def __aenter__(self) -> None:
        return None

    async def __aexit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if isinstance(exc, _DB_ERRORS):
            raise ProblemError(
                503,
                f"registry database unavailable ({type(exc).__name__}); nothing was stored",
                slug="database-unavailable",
                headers={"Retry-After": str(RETRY_AFTER_S)},
            ) from exc


_STORAGE_ERRORS = _StorageErrors()  # stateless: one instance serves every request


def storage_errors() -> _StorageErrors:
    """``async with storage_errors():`` database failures inside become a 503 problem."""
    return _STORAGE_ERRORS
