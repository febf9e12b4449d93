"""Coalescer: concurrent callers share one call; errors reach every caller of that call."""

from __future__ import annotations

import asyncio

import pytest

from services.ingest.coalesce import Coalescer


async def test_concurrent_callers_share_calls_and_each_gets_the_result():
    calls: list[list[int]] = []

    async def total(items: list[int]) -> int:
        calls.append(items)
        await asyncio.sleep(0.01)
        return sum(items)

    c: Coalescer[int, int] = Coalescer(total)
    assert await c.run([7]) == 7  # a lone caller: no timer, no waiting for company
    first = asyncio.gather(*(c.run([i]) for i in range(10)))
    await asyncio.sleep(0.005)  # while that call is in flight, more callers queue up
    second = asyncio.gather(*(c.run([i]) for i in range(10, 13)))
    assert await first == [45] * 10 and await second == [33] * 3
    assert [sorted(x) for x in calls] == [[7], list(range(10)), [10, 11, 12]]


async def test_an_error_fails_the_callers_of_that_call_only():
    seen = 0

    async def flaky(items: list[int]) -> int:
        nonlocal seen
        seen += 1
        await asyncio.sleep(0)
        if seen == 1:
            raise ConnectionError("database went away")
        return len(items)

    c: Coalescer[int, int] = Coalescer(flaky)
    with pytest.raises(ConnectionError):
        await c.run([1])
    assert await c.run([1, 2]) == 2


async def test_max_items_splits_large_queues():
    sizes: list[int] = []

    async def count(items: list[int]) -> int:
        sizes.append(len(items))
        await asyncio.sleep(0)
        return 0

    c: Coalescer[int, int] = Coalescer(count, max_items=5)
    await asyncio.gather(*(c.run([1, 2, 3]) for _ in range(4)))
    assert sizes == [3, 3, 3, 3]
