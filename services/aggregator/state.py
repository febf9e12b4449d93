"""The aggregator's state table: every plan individually, per (market area, delivery day).

Pure: no Kafka here. Each change returns the changelog record (key, value) that makes it
durable; :meth:`Table.restore` replays such records after a restart. One entry per plan
(latest revision wins; a cancellation leaves a small marker so an older revision that is
replayed cannot resurrect the plan) and one record per day (its clearing status) — never
one growing value per day.

Changelog keys: ``{area}/{day}/p/{plan_id}`` (plan entry) and ``{area}/{day}/d`` (day).

Days are forgotten after the retention window (:meth:`Table.forget`): a tombstone for each
of the day's keys, the day key last, and the day leaves memory. Restoring applies the
tombstones as it reads (a dead key leaves no entry behind, a day whose day key is
tombstoned leaves no empty day behind), so memory after a restore holds only live days even
when the broker has not compacted the changelog.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date
from typing import Any, Literal

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
    # (loc, reason)s when a clearing of the day left the plan out (the engine failed with it)
    excluded: tuple[tuple[str, str], ...] = ()

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
    done_at: str | None = None  # clock time the day became done (retention counts from it)


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


Outcome = Literal["stored", "cancelled", "stale", "duplicate", "taken"]


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
        if old is not None and old.vehicle_id != vehicle_id:
            return "taken", None  # another vehicle's plan: never replaced through its id
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
        if old is not None and old.vehicle_id != vehicle_id:
            return "taken", None  # nobody cancels another vehicle's plan through its id
        if old is not None and (old.revision > revision or not old.live):
            return ("stale" if old.live else "duplicate"), None
        entry = PlanEntry(revision, vehicle_id, seq, None)
        day.put(plan_id, entry)
        return "cancelled", (plan_key(area_day, plan_id), _encode_plan(entry))

    def exclude(
        self, partition: int, area_day: AreaDay, plan_id: str, reasons: list[tuple[str, str]]
    ) -> Change | None:
        """Mark a plan as left out of the day's clearing; None if it is gone or marked."""
        day = self.find(partition, area_day)
        entry = day.plans.get(plan_id) if day is not None else None
        if day is None or entry is None or entry.excluded:
            return None
        entry.excluded = tuple(reasons) or (("", "left out of the clearing"),)
        return plan_key(area_day, plan_id), _encode_plan(entry)

    def set_record(self, partition: int, area_day: AreaDay, record: DayRecord) -> Change:
        self.day(partition, area_day).record = record
        return day_key(area_day), orjson.dumps(record.__dict__)

    def forget(self, partition: int, area_day: AreaDay) -> list[Change]:
        """Drop a day from memory; the tombstones that drop it from the changelog too.

        The day key comes last: a restore that stops in between still has the day (with
        fewer plans), never plans without their day record.
        """
        days = self.partitions.get(partition, {})
        day = days.pop(area_day, None)
        if day is None:
            return []
        changes: list[Change] = [(plan_key(area_day, pid), None) for pid in day.plans]
        changes.append((day_key(area_day), None))
        return changes

    def entries(self, partition: int) -> Iterator[Change]:
        """Every live changelog record of the partition: what a compacted changelog holds."""
        for area_day, day in list(self.partitions.get(partition, {}).items()):
            for plan_id, entry in list(day.plans.items()):
                yield plan_key(area_day, plan_id), _encode_plan(entry)
            if day.record is not None:
                yield day_key(area_day), orjson.dumps(day.record.__dict__)

    def entry_count(self, partition: int) -> int:
        """Changelog keys held for the partition (plan entries and day records)."""
        days = self.partitions.get(partition, {}).values()
        return sum(len(d.plans) + (d.record is not None) for d in days)

    def restore(self, partition: int, key: bytes, value: bytes | None) -> None:
        """Apply one changelog record (recovery after a restart or a rebalance)."""
        area_day, kind, plan_id = _parse_key(key)
        if value is None:
            self._tombstone(partition, area_day, kind, plan_id)
            return
        day = self.day(partition, area_day)
        if kind == "d":
            record = orjson.loads(value)
            known = {k: v for k, v in record.items() if k in DayRecord.__dataclass_fields__}
            day.record = DayRecord(**known)
        else:
            # "<meta JSON>\n<plan JSON>": the plan bytes are stored as they are (no escaping).
            meta, _, raw = value.partition(b"\n")
            v = orjson.loads(meta)
            day.put(
                plan_id,
                PlanEntry(
                    v["rev"],
                    v["vid"],
                    v["seq"],
                    raw if v.get("live") else None,
                    v.get("cfg"),
                    tuple((loc, why) for loc, why in v.get("x") or ()),
                ),
            )

    def _tombstone(self, partition: int, area_day: AreaDay, kind: str, plan_id: str) -> None:
        """A dead key leaves nothing behind: no entry, and no empty day."""
        days = self.partitions.get(partition)
        day = days.get(area_day) if days is not None else None
        if days is None or day is None:
            return
        if kind == "d":
            day.record = None
        elif plan_id in day.plans:
            day.put(plan_id, PlanEntry(-1, "", -1, None))  # keeps the live count right
            del day.plans[plan_id]
        if day.record is None and not day.plans:
            del days[area_day]


def _encode_plan(entry: PlanEntry) -> bytes:
    meta: dict[str, Any] = {
        "rev": entry.revision,
        "vid": entry.vehicle_id,
        "seq": entry.seq,
        "live": entry.live,
        "cfg": entry.validated_with,
    }
    if entry.excluded:
        meta["x"] = [list(r) for r in entry.excluded]
    return orjson.dumps(meta) + b"\n" + (entry.raw or b"")
