"""Reading what the gateway published."""

from __future__ import annotations

import asyncio
import time
from typing import Any

from aiokafka import AIOKafkaConsumer

from schemas.parsing import parse_plan_event


async def read_events(
    consumer: AIOKafkaConsumer, expected: int, settle_s: float = 0.7, timeout_s: float = 15.0
) -> list[tuple[bytes | None, Any]]:
    """Records until `expected` arrived, then `settle_s` more to catch any extra."""
    out: list[tuple[bytes | None, Any]] = []
    deadline = time.monotonic() + timeout_s
    settle_until: float | None = None
    while time.monotonic() < (settle_until or deadline):
        batch = await consumer.getmany(timeout_ms=200)
        for records in batch.values():
            for r in records:
                event, errors = parse_plan_event(r.value)
                assert event is not None, errors
                out.append((r.key, event))
        if len(out) >= expected and settle_until is None:
            settle_until = time.monotonic() + settle_s
        await asyncio.sleep(0)
    return out
