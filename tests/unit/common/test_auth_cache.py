"""The token cache bounds database lookups and lets revocation take effect after the TTL."""

from __future__ import annotations

import time

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


async def test_revocation_takes_effect_after_ttl(monkeypatch):
    fake = FakeRegistry()
    cache = TokenCache(fake.lookup, ttl_s=5)
    now = [1000.0]
    monkeypatch.setattr(time, "monotonic", lambda: now[0])
    assert await cache.principal("cf_good") is not None
    del fake.valid["cf_good"]  # revoked in the database
    now[0] += 4.9
    assert await cache.principal("cf_good") is not None
    now[0] += 0.2
    assert await cache.principal("cf_good") is None


async def test_cache_is_bounded():
    fake = FakeRegistry()
    cache = TokenCache(fake.lookup, ttl_s=60, max_entries=3)
    for i in range(10):
        await cache.principal(f"cf_{i}")
    assert len(cache._entries) == 3


def test_bearer_header_parsing():
    assert bearer_token("Bearer cf_abc") == "cf_abc"
    assert bearer_token("bearer  cf_abc ") == "cf_abc"
    assert bearer_token("Basic xyz") is None
    assert bearer_token("Bearer ") is None
    assert bearer_token(None) is None
