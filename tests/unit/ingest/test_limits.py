"""Rate limits: token buckets, what a principal is charged, the per-address limit, settings."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from services.common.addresslimit import AddressLimitMiddleware, address_key
from services.common.proxies import check_forwarded_allow_ips
from services.common.ratelimit import RateLimiter, retry_after_header
from services.ingest.limits import PrincipalLimits
from services.ingest.problems import ProblemError
from services.ingest.settings import MIB, Settings


def test_rate_limiter_allows_a_burst_then_refills():
    clock = [100.0]
    limiter = RateLimiter(rate=2.0, burst=3, clock=lambda: clock[0])
    assert [limiter.retry_after("t") for _ in range(3)] == [0.0, 0.0, 0.0]
    wait = limiter.retry_after("t")
    assert wait == pytest.approx(0.5) and retry_after_header(wait) == "1"
    assert limiter.retry_after("other") == 0.0  # per key
    clock[0] += 0.5
    assert limiter.retry_after("t") == 0.0
    assert RateLimiter(rate=0, burst=1).retry_after("t") == 0.0  # disabled


def test_a_cost_is_taken_whole_or_not_at_all():
    clock = [0.0]
    limiter = RateLimiter(rate=100.0, burst=1_000, clock=lambda: clock[0])
    assert limiter.retry_after("t", 900) == 0.0
    assert limiter.retry_after("t", 200) == pytest.approx(1.0)  # 100 left, 100 more in 1 s
    assert limiter.retry_after("t", 100) == 0.0  # the refused request took nothing


def test_the_number_of_buckets_is_bounded():
    limiter = RateLimiter(rate=1.0, burst=1, max_keys=50)
    for i in range(10_000):
        limiter.retry_after(f"10.0.{i // 256}.{i % 256}")
    assert len(limiter) == 50


def test_a_batch_costs_its_plans_and_bytes_not_one_request():
    clock = [0.0]
    limits = PrincipalLimits(
        requests=RateLimiter(100, 200, clock=lambda: clock[0]),
        plans=RateLimiter(1_000, 10_000, clock=lambda: clock[0]),
        bytes=RateLimiter(MIB, 16 * MIB, clock=lambda: clock[0]),
    )
    limits.charge_request(7)
    limits.charge_plans(7, 10_000)  # one full batch passes
    with pytest.raises(ProblemError) as caught:
        limits.charge_plans(7, 1)
    assert caught.value.status == 429 and caught.value.headers["Retry-After"] == "1"
    assert "1000 plans/s" in caught.value.detail
    limits.charge_body(7, 16 * MIB)
    with pytest.raises(ProblemError) as caught:
        limits.charge_body(7, MIB)
    assert caught.value.headers["Retry-After"] == "1"
    limits.charge_plans(8, 10_000)  # another token has its own buckets
    clock[0] += 10.0
    limits.charge_plans(7, 10_000)  # refilled


def test_ipv6_clients_share_a_bucket_per_64():
    assert address_key("2001:db8:1:2:aaaa::1") == address_key("2001:db8:1:2:ffff::9")
    assert address_key("2001:db8:1:2::1") != address_key("2001:db8:1:3::1")
    assert address_key("203.0.113.7") == "203.0.113.7"
    assert address_key(None) == "unknown"


async def test_the_address_limit_answers_429_problem_before_the_app_runs():
    reached = []

    async def app(scope, receive, send):
        reached.append(scope["path"])
        await send({"type": "http.response.start", "status": 204, "headers": []})
        await send({"type": "http.response.body", "body": b""})

    limited = AddressLimitMiddleware(app, RateLimiter(rate=1.0, burst=2))
    sent: list[dict] = []

    async def send(message):
        sent.append(message)

    async def receive():
        return {"type": "http.request", "body": b""}

    def scope(path: str, host: str) -> dict:
        return {"type": "http", "path": path, "client": (host, 5000), "method": "GET"}

    for _ in range(3):
        await limited(scope("/charging-schedules/", "198.51.100.1"), receive, send)
    await limited(scope("/charging-schedules/", "198.51.100.2"), receive, send)
    await limited(scope("/healthz", "198.51.100.1"), receive, send)  # exempt
    statuses = [m["status"] for m in sent if m["type"] == "http.response.start"]
    assert statuses == [204, 204, 429, 204, 204]
    assert len(reached) == 4
    refused = next(m for m in sent if m.get("status") == 429)
    headers = dict(refused["headers"])
    assert headers[b"content-type"] == b"application/problem+json"
    assert headers[b"retry-after"] == b"1"


def test_forwarded_allow_ips_must_be_addresses_or_networks():
    assert check_forwarded_allow_ips(" 10.0.0.1, 192.168.0.0/16 ") == "10.0.0.1,192.168.0.0/16"
    assert check_forwarded_allow_ips("*") == "*"
    for bad in ("", "proxy.local", "10.0.0.300"):
        with pytest.raises(ValueError):
            check_forwarded_allow_ips(bad)


def test_settings_refuse_bursts_smaller_than_the_largest_request():
    with pytest.raises(ValidationError, match="rate_limit_plans_burst"):
        Settings(max_batch_plans=10_000, rate_limit_plans_burst=5_000)
    with pytest.raises(ValidationError, match="rate_limit_bytes_burst"):
        Settings(rate_limit_bytes_burst=MIB)
    Settings(rate_limit_plans_per_s=0, rate_limit_plans_burst=1)  # disabled: any burst
    with pytest.raises(ValidationError):
        Settings(forwarded_allow_ips="not-an-ip")
