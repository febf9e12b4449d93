"""Request limits of the gateway: the body size (pure ASGI) and, per principal, the rate of
requests, plans and bytes (token buckets of services/common/ratelimit.py)."""

from __future__ import annotations

from dataclasses import dataclass

import orjson
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from services.common.ratelimit import RateLimiter, retry_after_header
from services.ingest.problems import PROBLEM_JSON, ProblemError, problem_body

__all__ = [
    "BodyLimitMiddleware",
    "BodyTooLarge",
    "PrincipalLimits",
    "RateLimiter",
    "retry_after_header",
]


@dataclass(frozen=True)
class PrincipalLimits:
    """What one API token may spend: requests, plans and body bytes per second.

    A request is charged its bytes once the body is read and its plans once they are
    counted (before they are parsed into models or published), so a batch of 10 000 plans
    costs 10 000 and a 16 MiB body 16 MiB, not one request each."""

    requests: RateLimiter
    plans: RateLimiter
    bytes: RateLimiter

    def charge_request(self, token_id: int) -> None:
        self._charge(self.requests, token_id, 1, "requests", "requests/s")

    def charge_body(self, token_id: int, nbytes: int) -> None:
        self._charge(self.bytes, token_id, nbytes, "body bytes", "bytes/s")

    def charge_plans(self, token_id: int, plans: int) -> None:
        self._charge(self.plans, token_id, plans, "plans", "plans/s")

    @staticmethod
    def _charge(limiter: RateLimiter, key: int, cost: float, what: str, unit: str) -> None:
        wait = limiter.retry_after(key, cost)
        if wait > 0:
            raise ProblemError(
                429,
                f"rate limit of {limiter.rate:g} {unit} (burst {limiter.burst:g}) exceeded "
                f"by this request's {cost:g} {what}",
                headers={"Retry-After": retry_after_header(wait)},
            )


class BodyTooLarge(Exception):
    pass


class BodyLimitMiddleware:
    """413 for bodies over the limit: by Content-Length up front, else while streaming.

    ``limits`` maps a path suffix to its own limit (the batch endpoint); others get
    ``default``. Streaming overruns raise BodyTooLarge inside the app's receive, which the
    app turns into a 413 problem (see app.py).
    """

    def __init__(self, app: ASGIApp, default: int, limits: dict[str, int]) -> None:
        self.app = app
        self.default = default
        self.limits = limits

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.limits.get(scope["path"], self.default)
        for name, value in scope["headers"]:
            if name == b"content-length":
                try:
                    declared = int(value)
                except ValueError:
                    declared = 0
                if declared > limit:
                    await _send_413(send, limit, scope["path"])
                    return
                break
        seen = 0

        async def limited_receive() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > limit:
                    raise BodyTooLarge(limit)
            return message

        await self.app(scope, limited_receive, send)


async def _send_413(send: Send, limit: int, path: str) -> None:
    body = orjson.dumps(
        problem_body(413, f"request body exceeds the limit of {limit} bytes", instance=path)
    )
    headers = [(b"content-type", PROBLEM_JSON.encode()), (b"content-length", b"%d" % len(body))]
    await send({"type": "http.response.start", "status": 413, "headers": headers})
    await send({"type": "http.response.body", "body": body})
