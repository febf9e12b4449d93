"""Fixtures of the aggregator integration tests: topics with a unique prefix, in-process
workers and market adapters (as asyncio tasks, cancelled at teardown)."""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import AsyncIterator, Callable, Coroutine
from typing import Any

import pytest

from services.aggregator.topics import OWN_TOPICS
from services.common.kafka import ensure_topics


@pytest.fixture
async def prefix(kafka_bootstrap: str) -> str:
    p = f"t{uuid.uuid4().hex[:8]}-"
    await ensure_topics(kafka_bootstrap, OWN_TOPICS, partitions=2, prefix=p)
    return p


@pytest.fixture
async def tasks() -> AsyncIterator[Callable[[Coroutine[Any, Any, Any]], asyncio.Task[Any]]]:
    started: list[asyncio.Task[Any]] = []

    def start(coro: Coroutine[Any, Any, Any]) -> asyncio.Task[Any]:
        task = asyncio.create_task(coro)
        started.append(task)
        return task

    yield start
    for task in started:
        task.cancel()
    for task in started:
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await task
