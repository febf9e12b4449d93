"""Bearer-token authentication for the HTTP services, with a short-TTL in-process cache.

Tokens are looked up by hash (constant-time with respect to the secret). Valid and invalid
results are cached for `ttl_s` (default 5 s), so a revoked token stops working within that
time while the database sees at most one lookup per token per TTL.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable

from services.common.registry import Principal
from services.common.tokens import hash_token

Lookup = Callable[[str], Awaitable[Principal | None]]


class TokenCache:
    def __init__(self, lookup: Lookup, ttl_s: float = 5.0, max_entries: int = 10_000) -> None:
        self._lookup = lookup
        self.ttl_s = ttl_s
        self.max_entries = max_entries
        self._entries: OrderedDict[bytes, tuple[float, Principal | None]] = OrderedDict()

    async def principal(self, token: str) -> Principal | None:
        key = hash_token(token)  # never keep raw secrets in memory longer than the request
        now = time.monotonic()
        hit = self._entries.get(key)
        if hit is not None and hit[0] > now:
            return hit[1]
        principal = await self._lookup(token)
        self._entries[key] = (now + self.ttl_s, principal)
        self._entries.move_to_end(key)
        while len(self._entries) > self.max_entries:
            self._entries.popitem(last=False)
        return principal

    def clear(self) -> None:
        self._entries.clear()


def bearer_token(authorization: str | None) -> str | None:
    """The token of an `Authorization: Bearer <token>` header, or None."""
    if not authorization:
        return None
    scheme, _, token = authorization.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    return token.strip()
