"""Months of operation in a minute: 40 accelerated delivery days of 200 plans each. The
aggregator forgets each day after the retention window (tombstones in the changelog), so
what it holds in memory and what a restart reads back stay flat while the changelog's
history keeps growing (the embedded broker does not compact it: checkpoint.py)."""

from __future__ import annotations

import asyncio
import contextlib
import time
from datetime import date, timedelta
from typing import Any

import pytest

from services.aggregator import metrics
from services.aggregator.checkpoint import read_checkpoints
from services.aggregator.restore import restore
from services.aggregator.state import Table
from services.aggregator.topics import Names
from services.aggregator.worker import Worker
from services.common.clock import Clock
from tests.integration.aggregator.fleet import (
    config,
    end_offsets,
    market_service,
    plan,
    plan_records,
    send_all,
    settings,
)

pytestmark = pytest.mark.integration

FIRST = date(2026, 11, 26)
DAYS = 40
PLANS = 200
RETENTION_DAYS = 2
CHECKPOINT_MIN = 300
# Closed at the clock's closure of day k: days k, k-1, k-2 are live (a day goes at gate
# closure + marker lookback 2 + 1 day, since retention 2 after done ends earlier).
LIVE_DAYS = 3


async def until(check: Any, wait_s: float = 60.0) -> None:
    deadline = time.monotonic() + wait_s
    while not check():
        if time.monotonic() > deadline:
            raise TimeoutError("condition not met")
        await asyncio.sleep(0.05)


def done(worker: Worker, day: date) -> bool:
    for p in worker.owner.assigned:
        found = worker.owner.table.find(p, ("PL", day))
        if found is not None and found.record is not None and found.record.status == "done":
            return True
    return False


def held(worker: Worker) -> tuple[int, set[date]]:
    owner = worker.owner
    entries = sum(owner.table.entry_count(p) for p in owner.assigned)
    return entries, {ad[1] for _, ad, _ in owner.table.days()}


async def read_back(bootstrap: str, n: Names) -> tuple[int, Table]:
    """What a restarted worker reads: from each partition's checkpoint to its end."""
    table = Table()
    start = await read_checkpoints(bootstrap, n.checkpoint_group, n.changelog, [0, 1])
    counts = await restore(bootstrap, n.changelog, [0, 1], table, start)
    return sum(counts.values()), table


async def test_memory_and_restore_stay_flat_over_40_days(kafka_bootstrap, prefix, producer, tasks):
    n = Names(prefix)
    days = [FIRST + timedelta(days=k) for k in range(DAYS)]
    cfg = config(days=days, vehicles=PLANS)
    await send_all(producer, n.config, [(b"PL", cfg.model_dump_json().encode())])
    s = settings(
        kafka_bootstrap,
        prefix,
        aggregator_retention_days=RETENTION_DAYS,
        aggregator_checkpoint_min_records=CHECKPOINT_MIN,
    )
    clock = Clock.fixed(cfg.gate_closure_for(FIRST) - timedelta(hours=2))
    worker = Worker(s, clock)
    task = tasks(worker.run())
    tasks(market_service(kafka_bootstrap, prefix, clock).run())

    samples = []
    t0 = time.monotonic()
    for k, day in enumerate(days):
        await send_all(producer, n.plans, plan_records([plan(i, day) for i in range(PLANS)]))
        clock.set(cfg.gate_closure_for(day) + timedelta(seconds=1))
        await until(lambda day=day: done(worker, day))
        oldest = day - timedelta(days=LIVE_DAYS - 1)
        if k >= LIVE_DAYS:  # the lookback days closed empty at the first closure went too
            await until(lambda oldest=oldest: min(held(worker)[1]) >= oldest)
        if (k + 1) % 10 == 0:
            entries, kept = held(worker)
            read, table = await read_back(kafka_bootstrap, n)
            history = sum((await end_offsets(kafka_bootstrap, n.changelog)).values())
            owner = worker.owner
            samples.append(
                {
                    "day": k + 1,
                    "entries": entries,
                    "days": len(kept),
                    "restore_read": read,
                    "restored_entries": sum(table.entry_count(p) for p in (0, 1)),
                    "changelog_records": history,
                    "caches": (
                        len(owner._days),
                        len(owner._horizons),
                        len(owner.runs.cache),
                        len(worker.leader.sent),
                    ),
                    "wall_s": round(time.monotonic() - t0, 1),
                }
            )
    print("\n".join(str(sample) for sample in samples))

    live = LIVE_DAYS * (PLANS + 1)  # plan entries and one day record per live day
    for sample in samples:
        assert sample["entries"] == live and sample["days"] == LIVE_DAYS, sample
        assert sample["restored_entries"] == live, sample  # a restore holds the same
        # Read back: the live entries, plus at most as many again and the floor per
        # partition since the last checkpoint (and the day being written meanwhile).
        assert sample["restore_read"] <= 2 * live + 2 * CHECKPOINT_MIN + 2 * (PLANS + 1), sample
        assert all(size <= LIVE_DAYS + 1 for size in sample["caches"]), sample
    # ... while the history the broker keeps grows with every day.
    assert samples[-1]["changelog_records"] > 3 * samples[0]["changelog_records"]
    assert samples[-1]["restore_read"] < samples[-1]["changelog_records"] / 5

    # A real restart restores from the checkpoints: the same state, as little read.
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task
    restarted = Worker(s, clock)
    tasks(restarted.run())
    await asyncio.wait_for(restarted.owner.recovered.wait(), 30)
    await until(lambda: restarted.owner.assigned == {0, 1})
    assert held(restarted) == (live, set(days[-LIVE_DAYS:]))
    read = sum(
        metrics.REGISTRY.get_sample_value(
            "chargeflow_aggregator_restored_records", {"partition": p}
        )
        or 0
        for p in ("0", "1")
    )
    assert 0 < read <= 2 * live + 2 * CHECKPOINT_MIN + 2 * (PLANS + 1)
