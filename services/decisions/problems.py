"""The decisions service's problem documents: the common RFC 9457 problems
(services/common/problems.py), and an unreachable database is a retryable 503, not a 500."""

from __future__ import annotations

import asyncpg
from fastapi import FastAPI

from services.common import problems
from services.common.problems import ProblemError, problem_response

__all__ = ["UNAVAILABLE", "ProblemError", "install", "problem_response"]

# PostgreSQL down or unreachable: a 503 the client may retry, not a 500.
UNAVAILABLE: tuple[type[Exception], ...] = (
    OSError,
    TimeoutError,
    asyncpg.PostgresConnectionError,
    asyncpg.InterfaceError,
    asyncpg.CannotConnectNowError,
)


def install(app: FastAPI) -> None:
    problems.install(
        app,
        unavailable=UNAVAILABLE,
        unavailable_detail="the database is unavailable; retry shortly",
        retry_after_s=2,
    )
