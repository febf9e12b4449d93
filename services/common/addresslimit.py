"""A rate limit per client address, before authentication (pure ASGI middleware).

Per-token limits only apply once a token has been looked up; this one bounds what a single
address can make the service do before that: token lookups in the database (a flood of
random tokens), body reading, parsing. It answers 429 problem+json with Retry-After.

The address is the ASGI scope's ``client``. Behind a reverse proxy that is the proxy's
address, unless uvicorn rewrites it from ``X-Forwarded-For``, which it does only for
connections from ``forwarded_allow_ips`` (the services' ``CHARGEFLOW_FORWARDED_ALLOW_IPS``,
default 127.0.0.1): set it to the proxy's address, or every client shares the proxy's
bucket. IPv6 clients are counted per /64 (one host usually owns a whole /64, so per-/128
buckets would not limit anybody).
"""

from __future__ import annotations

import ipaddress

from starlette.types import ASGIApp, Receive, Scope, Send

from services.common.problems import problem_response
from services.common.ratelimit import RateLimiter, retry_after_header

# Liveness and scraping stay answerable under a flood: they do no work worth limiting.
EXEMPT = frozenset({"/healthz", "/metrics"})


def address_key(host: str | None) -> str:
    """The bucket of a client address: the address itself, or its /64 for IPv6."""
    if not host or ":" not in host:
        return host or "unknown"
    try:
        network = ipaddress.IPv6Network((host.split("%", 1)[0], 64), strict=False)
    except ValueError:
        return host
    return str(network)


class AddressLimitMiddleware:
    def __init__(self, app: ASGIApp, limiter: RateLimiter) -> None:
        self.app = app
        self.limiter = limiter

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not self.limiter.enabled or scope["path"] in EXEMPT:
            await self.app(scope, receive, send)
            return
        client = scope.get("client")
        wait = self.limiter.retry_after(address_key(client[0] if client else None))
        if wait <= 0:
            await self.app(scope, receive, send)
            return
        response = problem_response(
            429,
            f"too many requests from this address: the limit is {self.limiter.rate:g} "
            f"requests/s (burst {self.limiter.burst:g})",
            headers={"Retry-After": retry_after_header(wait)},
            instance=scope["path"],
        )
        await response(scope, receive, send)
