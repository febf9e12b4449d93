"""The aggregator's state table: every plan individually, per (market area, delivery day).

Pure: no Kafka here. Each change returns the changelog record (key, value) that makes it
durable; :meth:`Table.restore` replays such records after a restart. One entry per plan
(latest revision wins; a cancellation leaves a small marker so an older revision that is
replayed cannot resurrect the plan) and one record per day (its clearing status) — never
one growing value per day.

Changelog keys: ``{area}/{day}/p/{plan_id}`` (plan entry) and ``{area}/{day}/d`` (day).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Literal

import orjson

AreaDay = tuple[str, date]
DayStatus = Literal["closed", "bid", "done"]


@dataclass
class PlanEntry:
    revision: int
    vehicle_id: str
    seq: int  # by-day offset: the arrival order, used to pick one plan per vehicle
    raw: bytes | None  # the PlanSubmitted JSON; None once cancelled

    @property
    def live(self) -> bool:
        return self.raw is not None


@dataclass
class DayRecord:
    """Clearing status of a day: closed (frozen) -> bid (phase 1 sent) -> done (phase 2)."""

    status: DayStatus
    gate_closure: str  # ISO instant of the gate closure
    closed_at: str  # clock time the marker was processed
    run_id: str | None = None
    bid_at: str | None = None
    fallback: bool = False


@dataclass
class DayState:
    plans: dict[str, PlanEntry] = field(default_factory=dict)
    record: DayRecord | None = None

    def live_plans(self) -> list[PlanEntry]:
        return [p for p in self.plans.values() if p.live]


Change = tuple[bytes, bytes | None]  # changelog (key, value)


def _prefix(area_day: AreaDay) -> str:
    return f"{area_day[0]}/{area_day[1].isoformat()}"


def plan_key(area_day: AreaDay, plan_id: str) -> bytes:
    return f"{_prefix(area_day)}/p/{plan_id}".encode()


def day_key(area_day: AreaDay) -> bytes:
    return f"{_prefix(area_day)}/d".encode()


def _parse_key(key: bytes) -> tuple[AreaDay, str, str]:
    area, day, kind, *rest = key.decode().split("/")
    return (area, date.fromisoformat(day)), kind, rest[0] if rest else ""


Outcome = Literal["stored", "cancelled", "stale", "duplicate"]


class Table:
    """Per-partition state: partition -> (area, day) -> DayState."""

    def __init__(self) -> None:
        self.partitions: dict[int, dict[AreaDay, DayState]] = {}

    def day(self, partition: int, area_day: AreaDay) -> DayState:
        return self.partitions.setdefault(partition, {}).setdefault(area_day, DayState())

    def find(self, partition: int, area_day: AreaDay) -> DayState | None:
        return self.partitions.get(partition, {}).get(area_day)

    def drop(self, partition: int) -> None:
        self.partitions.pop(partition, None)

    def days(self) -> list[tuple[int, AreaDay, DayState]]:
        return [(p, ad, d) for p, days in self.partitions.items() for ad, d in days.items()]

    def live_count(self, partition: int) -> int:
        return sum(len(d.live_plans()) for d in self.partitions.get(partition, {}).values())

    def submit(
        self,
        partition: int,
        area_day: AreaDay,
        plan_id: str,
        revision: int,
        vehicle_id: str,
        seq: int,
        raw: bytes,
    ) -> tuple[Outcome, Change | None]:
        day = self.day(partition, area_day)
        old = day.plans.get(plan_id)
        if old is not None and old.revision >= revision:
            # Same revision again is a redelivery; a lower one arrived out of order.
            return ("duplicate" if old.revision == revision else "stale"), None
        entry = PlanEntry(revision, vehicle_id, seq, raw)
        day.plans[plan_id] = entry
        return "stored", (plan_key(area_day, plan_id), _encode_plan(entry))

    def cancel(
        self,
        partition: int,
        area_day: AreaDay,
        plan_id: str,
        revision: int,
        vehicle_id: str,
        seq: int,
    ) -> tuple[Outcome, Change | None]:
        day = self.day(partition, area_day)
        old = day.plans.get(plan_id)
        if old is not None and (old.revision > revision or not old.live):
            return ("stale" if old.live else "duplicate"), None
        entry = PlanEntry(revision, vehicle_id, seq, None)
        day.plans[plan_id] = entry
        return "cancelled", (plan_key(area_day, plan_id), _encode_plan(entry))

    def set_record(self, partition: int, area_day: AreaDay, record: DayRecord) -> Change:
        self.day(partition, area_day).record = record
        return day_key(area_day), orjson.dumps(record.__dict__)

    def restore(self, partition: int, key: bytes, value: bytes | None) -> None:
        """Apply one changelog record (recovery after a restart or a rebalance)."""
        area_day, kind, plan_id = _parse_key(key)
        day = self.day(partition, area_day)
        if kind == "d":
            day.record = None if value is None else DayRecord(**orjson.loads(value))
        elif value is None:
            day.plans.pop(plan_id, None)
        else:
            v = orjson.loads(value)
            raw = v.get("raw")
            day.plans[plan_id] = PlanEntry(
                v["rev"], v["vid"], v["seq"], None if raw is None else raw.encode()
            )


def _encode_plan(entry: PlanEntry) -> bytes:
    raw = None if entry.raw is None else entry.raw.decode()
    return orjson.dumps(
        {"rev": entry.revision, "vid": entry.vehicle_id, "seq": entry.seq, "raw": raw}
    )
