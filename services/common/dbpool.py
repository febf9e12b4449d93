"""An asyncpg pool whose every acquire has a timeout, for pools that serve HTTP requests.

asyncpg's ``create_pool(timeout=...)`` is the *connect* timeout; ``pool.acquire()``,
``pool.fetchrow()`` and the like wait for a free connection without limit. Under overload
requests then queue behind the pool for as long as clients wait. Here every acquire (the
pool's own shortcuts included: they call ``self.acquire()``) gives up after
``acquire_timeout_s`` with ``TimeoutError``, which the services answer with 503 and
Retry-After (ingest: storage.py; decisions: problems.py).
"""

from __future__ import annotations

from typing import Any

import asyncpg
from asyncpg.pool import PoolAcquireContext


class BoundedPool(asyncpg.Pool):
    """``asyncpg.Pool`` with a default acquire timeout (an explicit ``timeout`` wins)."""

    acquire_timeout_s: float | None = None

    def acquire(self, *, timeout: float | None = None) -> PoolAcquireContext:
        return super().acquire(timeout=self.acquire_timeout_s if timeout is None else timeout)


def create_pool(dsn: str, *, acquire_timeout_s: float, **kwargs: Any) -> BoundedPool:
    """Like ``asyncpg.create_pool`` (await the result), with ``acquire_timeout_s``."""
    options: dict[str, Any] = {
        # asyncpg.create_pool's defaults; the Pool constructor has none of its own
        "min_size": 10,
        "max_size": 10,
        "max_queries": 50_000,
        "max_inactive_connection_lifetime": 300.0,
        "loop": None,
        "connection_class": asyncpg.Connection,
        "record_class": asyncpg.Record,
    }
    options.update(kwargs)
    pool = BoundedPool(dsn, **options)
    pool.acquire_timeout_s = acquire_timeout_s
    return pool
