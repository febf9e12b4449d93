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
    validated_with: str | None = None  # event_id of the auction-config the intake used

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
    live: int = 0  # number of live (not cancelled) plans, kept up to date by Table

    def put(self, plan_id: str, entry: PlanEntry) -> None:
        old = self.plans.get(plan_id)
        self.live += int(entry.live) - int(old is not None and old.live)
        self.plans[plan_id] = entry

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
        return sum(d.live for d in self.partitions.get(partition, {}).values())

    def submit(
        self,
        partition: int,
        area_day: AreaDay,
        plan_id: str,
        revision: int,
        vehicle_id: str,
        seq: int,
        raw: bytes,
        validated_with: str | None = None,
    ) -> tuple[Outcome, Change | None]:
        day = self.day(partition, area_day)
        old = day.plans.get(plan_id)
        if old is not None and old.revision >= revision:
            # Same revision again is a redelivery; a lower one arrived out of order.
            return ("duplicate" if old.revision == revision else "stale"), None
        entry = PlanEntry(revision, vehicle_id, seq, raw, validated_with)
        day.put(plan_id, entry)
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
        day.put(plan_id, entry)
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
            day.put(plan_id, PlanEntry(-1, "", -1, None))  # keeps the live count right
            del day.plans[plan_id]
        else:
            # "<meta JSON>\n<plan JSON>": the plan bytes are stored as they are (no escaping).
            meta, _, raw = value.partition(b"\n")
            v = orjson.loads(meta)
            day.put(
                plan_id,
                PlanEntry(
                    v["rev"], v["vid"], v["seq"], raw if v.get("live") else None, v.get("cfg")
                ),
            )


def _encode_plan(entry: PlanEntry) -> bytes:
    meta = {
        "rev": entry.revision,
        "vid": entry.vehicle_id,
        "seq": entry.seq,
        "live": entry.live,
        "cfg": entry.validated_with,
    }
    return orjson.dumps(meta) + b"\n" + (entry.raw or b"")
