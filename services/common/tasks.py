"""Running a worker's concurrent stages: the first to end (or fail) stops them all."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Coroutine
from typing import Any

import uvicorn


def http_stage(app: Any, host: str, port: int) -> Coroutine[Any, Any, None]:
    """A small HTTP server (health, metrics) run as one stage beside the Kafka loops."""
    config = uvicorn.Config(app, host=host, port=port, log_level="warning", lifespan="off")
    return uvicorn.Server(config).serve()


async def run_stages(tasks: list[asyncio.Task[Any]]) -> None:
    """Wait for the first stage to end; re-raise its error; cancel and await the others."""
    try:
        done, _ = await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
        for t in done:
            t.result()  # a crashed stage (or SIGTERM via uvicorn) stops the worker
    finally:
        for t in tasks:
            t.cancel()
        for t in tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await t
