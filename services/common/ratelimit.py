"""Token buckets per key: per API token, per client address (DESIGN §7, issue 10).

One bucket holds up to ``burst`` units and refills at ``rate`` units per second; a request
costs ``cost`` units (1 per request, or its plans, or its bytes). Buckets live in process
memory, so with N worker processes or replicas every limit is N times higher.
"""

from __future__ import annotations

import math
import time
from collections import OrderedDict
from collections.abc import Callable, Hashable


class RateLimiter:
    """Token bucket per key: ``rate`` units/s sustained, bursts up to ``burst``; 0 disables.

    At most ``max_keys`` buckets are kept (least recently used dropped first): a flood of
    new keys costs bounded memory, and a dropped key only gets a full bucket back."""

    def __init__(
        self,
        rate: float,
        burst: float,
        max_keys: int = 100_000,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.rate = rate
        self.burst = burst
        self._max_keys = max_keys
        self._clock = clock
        self._buckets: OrderedDict[Hashable, tuple[float, float]] = OrderedDict()

    @property
    def enabled(self) -> bool:
        return self.rate > 0

    def retry_after(self, key: Hashable, cost: float = 1.0) -> float:
        """0 when allowed (and the cost is taken), else the seconds until it would be."""
        if self.rate <= 0:
            return 0.0
        now = self._clock()
        tokens, last = self._buckets.get(key, (float(self.burst), now))
        tokens = min(float(self.burst), tokens + (now - last) * self.rate)
        if tokens >= cost:
            self._buckets[key] = (tokens - cost, now)
            self._buckets.move_to_end(key)
            if len(self._buckets) > self._max_keys:
                self._buckets.popitem(last=False)
            return 0.0
        self._buckets[key] = (tokens, now)
        return (cost - tokens) / self.rate

    def __len__(self) -> int:
        return len(self._buckets)


def retry_after_header(seconds: float) -> str:
    """Whole seconds, at least 1 (Retry-After takes an integer)."""
    return str(max(1, math.ceil(seconds)))
