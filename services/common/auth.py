"""Bearer-token authentication for the HTTP services, with a short-TTL in-process cache.

Tokens are looked up by hash (constant-time with respect to the secret). Results are cached
for `ttl_s` (default 5 s), so a revoked token stops working within that time.

Known and unknown tokens are cached apart, each in its own bounded LRU: a flood of random
tokens fills only the negative cache, so it can neither evict valid tokens (which would
send every honest request to the database) nor grow memory without bound. Concurrent
requests with the same uncached token share one lookup, so the database sees at most one
lookup per distinct token per TTL (unknown tokens included) as long as the negative cache
holds it; a flood of more distinct unknown tokens than it holds costs one lookup each,
which the per-address limit (addresslimit.py) bounds.
"""

from __future__ import annotations

import asyncio
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable

from services.common.registry import Principal
from services.common.tokens import hash_token

Lookup = Callable[[str], Awaitable[Principal | None]]

# Longer "tokens" are never looked up: real ones are 46 characters (tokens.py).
MAX_TOKEN_CHARS = 512


class TokenCache:
    def __init__(
        self,
        lookup: Lookup,
        ttl_s: float = 5.0,
        max_entries: int = 10_000,
        max_unknown: int = 10_000,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._lookup = lookup
        self.ttl_s = ttl_s
        self.max_entries = max_entries
        self.max_unknown = max_unknown
        self._clock = clock
        self._known: OrderedDict[bytes, tuple[float, Principal]] = OrderedDict()
        self._unknown: OrderedDict[bytes, float] = OrderedDict()  # hash -> expiry
        self._pending: dict[bytes, asyncio.Task[Principal | None]] = {}
        self.lookups = 0  # database lookups made (for tests and curiosity)

    async def principal(self, token: str) -> Principal | None:
        if len(token) > MAX_TOKEN_CHARS:
            return None
        key = hash_token(token)  # never keep raw secrets in memory longer than the request
        now = self._clock()
        hit = self._known.get(key)
        if hit is not None and hit[0] > now:
            return hit[1]
        expires = self._unknown.get(key)
        if expires is not None and expires > now:
            return None
        task = self._pending.get(key)
        if task is None:  # else the same token is being looked up: share its answer
            task = asyncio.get_running_loop().create_task(self._fetch(key, token))
            task.add_done_callback(_retrieve)
            self._pending[key] = task
        # shield: a request that gives up (cancelled) does not cancel the others' lookup
        return await asyncio.shield(task)

    async def _fetch(self, key: bytes, token: str) -> Principal | None:
        try:
            self.lookups += 1
            principal = await self._lookup(token)
        finally:
            del self._pending[key]
        self._store(key, principal, self._clock() + self.ttl_s)
        return principal

    def _store(self, key: bytes, principal: Principal | None, expires: float) -> None:
        if self.ttl_s <= 0:
            return
        if principal is None:
            self._known.pop(key, None)  # revoked since: forget the valid entry
            self._unknown[key] = expires
            self._unknown.move_to_end(key)
            while len(self._unknown) > self.max_unknown:
                self._unknown.popitem(last=False)
        else:
            self._unknown.pop(key, None)
            self._known[key] = (expires, principal)
            self._known.move_to_end(key)
            while len(self._known) > self.max_entries:
                self._known.popitem(last=False)

    def sizes(self) -> tuple[int, int]:
        """(valid tokens cached, unknown tokens cached)."""
        return len(self._known), len(self._unknown)

    def clear(self) -> None:
        self._known.clear()
        self._unknown.clear()


def _retrieve(task: asyncio.Task[Principal | None]) -> None:
    # Mark a failed lookup's exception as seen even when every waiter was cancelled.
    if not task.cancelled():
        task.exception()


def bearer_token(authorization: str | None) -> str | None:
    """The token of an `Authorization: Bearer <token>` header, or None. The original
    system's scheme, `Authorization: Token <token>` (DESIGN §7.1), is taken alike."""
    if not authorization:
        return None
    scheme, _, token = authorization.partition(" ")
    if scheme.lower() not in ("bearer", "token") or not token.strip():
        return None
    return token.strip()
