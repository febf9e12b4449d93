"""The token cache bounds database lookups and lets revocation take effect after the TTL."""

from __future__ import annotations

import asyncio

import pytest

from services.common.auth import TokenCache, bearer_token
from services.common.registry import Principal


class FakeRegistry:
    def __init__(self) -> None:
        self.valid = {"cf_good": Principal(1, "anna", "vehicle", 7)}
        self.lookups = 0

    async def lookup(self, token: str) -> Principal | None:
        self.lookups += 1
        return self.valid.get(token)


async def test_cache_hits_skip_the_database():
    fake = FakeRegistry()
    cache = TokenCache(fake.lookup, ttl_s=60)
    for _ in range(5):
        assert (await cache.principal("cf_good")).name == "anna"
        assert await cache.principal("cf_bad") is None
    assert fake.lookups == 2


async def test_revocation_takes_effect_after_ttl():
    fake = FakeRegistry()
    now = [1000.0]
    cache = TokenCache(fake.lookup, ttl_s=5, clock=lambda: now[0])
    assert await cache.principal("cf_good") is not None
    del fake.valid["cf_good"]  # revoked in the database
    now[0] += 4.9
    assert await cache.principal("cf_good") is not None
    now[0] += 0.2
    assert await cache.principal("cf_good") is None


async def test_cache_is_bounded():
    fake = FakeRegistry()
    fake.valid.update({f"cf_{i}": Principal(i, f"u{i}", "vehicle", i) for i in range(10)})
    cache = TokenCache(fake.lookup, ttl_s=60, max_entries=3, max_unknown=4)
    for i in range(10):
        await cache.principal(f"cf_{i}")
        await cache.principal(f"cf_unknown_{i}")
    assert cache.sizes() == (3, 4)


async def test_a_flood_of_unknown_tokens_never_evicts_a_valid_one():
    fake = FakeRegistry()
    cache = TokenCache(fake.lookup, ttl_s=60, max_entries=10, max_unknown=100)
    assert await cache.principal("cf_good") is not None
    for i in range(10_000):
        assert await cache.principal(f"cf_random_{i}") is None
    assert cache.sizes() == (1, 100)  # memory bounded by max_unknown
    lookups = fake.lookups
    assert (await cache.principal("cf_good")).name == "anna"
    assert fake.lookups == lookups  # still cached: the flood cost the database, not anna


async def test_concurrent_requests_with_one_unknown_token_cost_one_lookup_per_ttl():
    slow = FakeRegistry()
    gate = asyncio.Event()

    async def lookup(token: str) -> Principal | None:
        await gate.wait()
        return await slow.lookup(token)

    now = [0.0]
    cache = TokenCache(lookup, ttl_s=5, clock=lambda: now[0])
    waiting = [asyncio.create_task(cache.principal("cf_nobody")) for _ in range(200)]
    waiting += [asyncio.create_task(cache.principal("cf_good")) for _ in range(200)]
    await asyncio.sleep(0)
    gate.set()
    results = await asyncio.gather(*waiting)
    assert results[:200] == [None] * 200 and all(r is not None for r in results[200:])
    assert slow.lookups == 2  # one per distinct token, shared by every concurrent request
    for _ in range(100):
        await cache.principal("cf_nobody")
    assert slow.lookups == 2  # negative cache
    now[0] += 5.1
    await cache.principal("cf_nobody")
    assert slow.lookups == 3  # once more per TTL


async def test_a_failed_lookup_is_not_cached_and_reaches_every_waiter():
    calls = []

    async def broken(token: str) -> Principal | None:
        calls.append(token)
        await asyncio.sleep(0.01)
        raise ConnectionError("database down")

    cache = TokenCache(broken, ttl_s=60)
    results = await asyncio.gather(
        *(cache.principal("cf_x") for _ in range(5)), return_exceptions=True
    )
    assert all(isinstance(r, ConnectionError) for r in results) and len(calls) == 1
    with pytest.raises(ConnectionError):
        await cache.principal("cf_x")  # not cached: tried again
    assert len(calls) == 2 and cache.sizes() == (0, 0)


async def test_absurdly_long_tokens_are_not_looked_up():
    fake = FakeRegistry()
    cache = TokenCache(fake.lookup)
    assert await cache.principal("x" * 100_000) is None
    assert fake.lookups == 0


def test_bearer_header_parsing():
    assert bearer_token("Bearer cf_abc") == "cf_abc"
    assert bearer_token("bearer  cf_abc ") == "cf_abc"
    assert bearer_token("Basic xyz") is None
    assert bearer_token("Bearer ") is None
    assert bearer_token(None) is None
