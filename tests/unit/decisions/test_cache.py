"""The GET response cache never serves a body computed before a change notification."""

from __future__ import annotations

from services.decisions.cache import ResponseCache


def test_a_body_computed_before_an_invalidation_is_never_stored():
    cache = ResponseCache(ttl_s=60)
    version = cache.version
    cache.invalidate()  # a NOTIFY arrived while the body was being computed
    cache.put("k", b"old", '"e"', version)
    assert cache.get("k") is None


def test_invalidation_drops_entries_and_ttl_zero_disables_caching():
    cache = ResponseCache(ttl_s=60)
    cache.put("k", b"body", '"e"', cache.version)
    assert cache.get("k") is not None and cache.get("k").body == b"body"
    cache.invalidate()
    assert cache.get("k") is None
    off = ResponseCache(ttl_s=0)
    off.put("k", b"body", '"e"', off.version)
    assert off.get("k") is None
