"""A poison record on every topic the aggregator consumes, read by a real worker process:
it survives them, commits past them, and a restarted worker does not meet them again."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import date, datetime, time
from pathlib import Path

import orjson
import pytest

from schemas.market_day import zone
from services.aggregator import topics
from services.aggregator.topics import Names
from services.common.clock import Clock
from tests.integration.aggregator.fleet import (
    WorkerProcess,
    committed,
    config,
    end_offsets,
    market_service,
    plan,
    plan_records,
    read_until,
    send_all,
)

pytestmark = pytest.mark.integration

DAY = date(2026, 11, 26)
TZ = zone("Europe/Warsaw")
BEFORE = datetime.combine(date(2026, 11, 25), time(10), tzinfo=TZ)
AFTER = datetime.combine(date(2026, 11, 25), time(12, 0, 1), tzinfo=TZ)
KEY = b"PL/2026-11-26"


@pytest.fixture
def worker(kafka_bootstrap: str, prefix: str, tmp_path: Path) -> Iterator[WorkerProcess]:
    w = WorkerProcess(kafka_bootstrap, prefix, tmp_path / "worker.log")
    try:
        yield w
    finally:
        w.kill()
        if w.log.exists():  # shown by pytest only when the test failed
            print(w.log.read_text()[-20000:])


async def test_poison_on_every_topic_does_not_kill_the_worker_nor_its_restart(
    kafka_bootstrap, prefix, producer, tasks, worker
):
    n = Names(prefix)
    await send_all(producer, n.config, [(b"PL", config(days=[DAY]).model_dump_json().encode())])
    # The plan for the last representable day is the one that made the aggregator exit
    # (OverflowError); on the by-day topic it reaches the owner stage directly.
    last_day = orjson.dumps(plan(40, date(9999, 12, 31)))
    poison = {
        n.plans: last_day,
        n.market: b"\x00\xff",
        n.commands: b'{"event_type": "WhatIfRequested"}',
        n.by_day: last_day,
    }
    for topic, value in poison.items():
        headers = [("k", topics.KIND_PLAN)] if topic == n.by_day else []
        await producer.send_and_wait(topic, value, key=b"PL/9999-12-31", headers=headers)
    honest = [plan(i, DAY) for i in range(10)]
    await send_all(producer, n.plans, plan_records(honest))

    worker.start(BEFORE)
    await worker.ready()
    dlqs = [f"{topic}.dlq" for topic in poison]
    for dlq in dlqs:
        await read_until(kafka_bootstrap, dlq, lambda v: len(v) >= 1, 30)
    # Both groups commit past the poison (the honest plans behind it are in the state).
    await read_until(kafka_bootstrap, n.changelog, lambda v: len(v) >= 10, 30, bytes)
    for group, topic in ((n.intake_group, n.plans), (n.owner_group, n.by_day)):
        for _ in range(100):
            done = await committed(kafka_bootstrap, group, topic)
            ends = await end_offsets(kafka_bootstrap, topic)
            if all((done.get(p) or 0) >= end for p, end in ends.items()):
                break
            await asyncio.sleep(0.1)
        else:
            raise AssertionError(f"{group} did not commit past the poison: {done} < {ends}")
    assert worker.alive()
    worker.kill()

    # Restarted (after the gate closure): alive, no poison read again, the day clears.
    tasks(market_service(kafka_bootstrap, prefix, Clock.fixed(AFTER)).run())
    worker.start(AFTER)
    await worker.ready()
    decisions = await read_until(
        kafka_bootstrap,
        n.decisions,
        lambda v: {d["plan_id"] for d in v} >= {h["plan_id"] for h in honest},
        60,
    )
    ids = {h["plan_id"] for h in honest}
    assert all(d["status"] == "accepted" for d in decisions if d["plan_id"] in ids)
    assert worker.alive()
    for dlq in dlqs:  # one dead letter each: the restart did not meet the poison again
        assert len(await read_until(kafka_bootstrap, dlq, lambda v: len(v) >= 1)) == 1, dlq
