"""In-memory cache of computed GET bodies, dropped when the database says data changed.

Every write transaction of the consumer ends with `pg_notify('chargeflow_decisions')`;
every replica LISTENs and bumps its version, so cached bodies are never served after a
change committed by any replica. A TTL bounds staleness should a notification be missed
(e.g. while the listening connection reconnects) and covers registry changes (ownership).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import time
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

import asyncpg

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Entry:
    version: int
    expires: float
    body: bytes
    etag: str


class ResponseCache:
    def __init__(self, ttl_s: float = 2.0, max_entries: int = 50_000) -> None:
        self.ttl_s = ttl_s
        self.max_entries = max_entries
        self.version = 0
        self._entries: OrderedDict[Any, Entry] = OrderedDict()

    def get(self, key: Any) -> Entry | None:
        entry = self._entries.get(key)
        if entry is None or entry.version != self.version or entry.expires < time.monotonic():
            return None
        return entry

    def put(self, key: Any, body: bytes, etag: str, version: int) -> None:
        """Store a body computed while `version` was current (older versions never stick)."""
        if self.ttl_s <= 0 or version != self.version:
            return
        # Jittered expiry: entries filled in the same burst must not all expire (and hit the
        # database) in the same instant; staleness stays bounded by ttl_s.
        expires = time.monotonic() + self.ttl_s * random.uniform(0.5, 1.0)
        self._entries[key] = Entry(version, expires, body, etag)
        self._entries.move_to_end(key)
        while len(self._entries) > self.max_entries:
            self._entries.popitem(last=False)

    def invalidate(self, *_: object) -> None:
        self.version += 1
        self._entries.clear()


async def listen(url: str, channel: str, cache: ResponseCache, retry_s: float = 1.0) -> None:
    """Keep a LISTEN connection open until cancelled; invalidate on every notification."""
    while True:
        try:
            conn = await asyncpg.connect(url)
        except (OSError, asyncpg.PostgresError) as exc:
            log.warning("cache listener cannot connect (%s); retrying", exc)
            await asyncio.sleep(retry_s)
            continue
        lost = asyncio.Event()
        conn.add_termination_listener(lambda _c, lost=lost: lost.set())
        try:
            await conn.add_listener(channel, cache.invalidate)
            cache.invalidate()  # anything may have changed while we were not listening
            await lost.wait()
            cache.invalidate()
        finally:
            with contextlib.suppress(Exception):
                await conn.close()
