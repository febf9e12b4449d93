"""Turn a fetched Kafka batch into what one database transaction writes (pure, no I/O).

Within a batch only the newest event per natural key is kept (the database applies the
same order again, so older batches never overwrite newer rows):
- decisions by plan_id, ordered by (revision, phase, occurred_at, event_id);
- plans by plan_id, ordered by (revision, cancelled) — a cancellation of revision R beats
  a (re)delivery of the submission of R;
- auction runs by (market_area, delivery_day, run_id), ordered by (occurred_at, event_id).
Unreadable records become `BadRecord`s (stored with their reasons and sent to the DLQ of
their topic, never fatal): whatever parsing one record raises is that record's problem
(parsing is pure), and so is a value that parsed but cannot be stored: a non-finite
number, a time past year 9999 in UTC, an int beyond int4, a NUL in a text
(`services/common/usable.py`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, Literal, NamedTuple
from uuid import UUID

from pydantic import ValidationError

from schemas.base import FieldError
from schemas.events import PlanCancelled, PlanSubmitted
from schemas.market import AuctionCleared, ScheduleDecision
from schemas.parsing import errors_from, parse_plan_event
from services.common.usable import InvalidRecord, check
from services.decisions.fastpath import Decision, parse_decision

Kind = Literal["decisions", "results", "plans"]
PlanEvent = PlanSubmitted | PlanCancelled


class Record(NamedTuple):
    """The part of a Kafka record we need (aiokafka's ConsumerRecord has these attributes)."""

    topic: str
    partition: int
    offset: int
    value: bytes | None
    key: bytes | None = None  # only for the dead letter, which keeps the original key


@dataclass(frozen=True)
class BadRecord:
    topic: str
    partition: int
    offset: int
    reasons: list[FieldError]
    value: bytes | None
    key: bytes | None = None


@dataclass
class Batch:
    decisions: dict[UUID, Decision] = field(default_factory=dict)  # rows, see fastpath.py
    plans: dict[UUID, PlanEvent] = field(default_factory=dict)
    runs: dict[tuple[str, date, str], AuctionCleared] = field(default_factory=dict)
    bad: list[BadRecord] = field(default_factory=list)
    # (topic, partition) -> the next offset to read once this batch is committed
    offsets: dict[tuple[str, int], int] = field(default_factory=dict)
    consumed: dict[str, int] = field(default_factory=dict)  # records per topic

    def __len__(self) -> int:
        return len(self.decisions) + len(self.plans) + len(self.runs) + len(self.bad)


def decision_order(d: Decision) -> tuple[int, int, datetime, UUID]:
    return (d.revision, d.phase, d.occurred_at, d.event_id)


def plan_order(p: PlanEvent) -> tuple[int, bool]:
    return (p.revision, isinstance(p, PlanCancelled))


def run_order(r: AuctionCleared) -> tuple[datetime, UUID]:
    return (r.occurred_at, r.event_id)


def _reasons(exc: Exception) -> list[FieldError]:
    """Why the record was refused; never raises (describing an error must not fail)."""
    try:
        return _described(exc)
    except Exception:
        return [FieldError(loc="", reason=f"unreadable ({type(exc).__name__})")]


def _described(exc: Exception) -> list[FieldError]:
    if isinstance(exc, ValidationError):
        return errors_from(exc)
    if isinstance(exc, InvalidRecord):
        return exc.errors
    if isinstance(exc, ValueError):
        return [FieldError(loc="", reason=(str(exc) or type(exc).__name__)[:2000])]
    # Not a validation verdict: say what broke, so the dead letter explains itself.
    return [FieldError(loc="", reason=f"unreadable ({type(exc).__name__}: {exc})"[:2000])]


def _parse(kind: Kind, value: bytes) -> Any:
    if kind == "decisions":
        return parse_decision(value)  # checks finiteness itself, on its fast path
    if kind == "results":
        run = AuctionCleared.model_validate_json(value)
        check(run, postgres=True)
        return run
    event, errors = parse_plan_event(value)
    if event is None:
        raise InvalidRecord(errors)
    check(event, postgres=True)
    return event


def identity(kind: Kind, value: bytes | None) -> dict[str, Any]:
    """plan_id, revision and vehicle_id of a decision or plan that parses (for its dead
    letter, so the reason can reach the vehicle); {} for anything else."""
    try:
        event = _parse(kind, value or b"")
    except Exception:
        return {}
    if isinstance(event, Decision | PlanSubmitted | PlanCancelled):
        return {"plan_id": event.plan_id, "revision": event.revision,
                "vehicle_id": event.vehicle_id}  # fmt: skip
    return {}


def add(batch: Batch, kind: Kind, record: Record) -> None:
    """Parse one record into the batch; keep only the newest event per natural key."""
    key = (record.topic, record.partition)
    batch.offsets[key] = max(batch.offsets.get(key, 0), record.offset + 1)
    batch.consumed[record.topic] = batch.consumed.get(record.topic, 0) + 1
    if record.value is None:
        batch.bad.append(_bad(record, [FieldError(loc="", reason="empty record value")]))
        return
    try:
        event = _parse(kind, record.value)
    except Exception as exc:  # parsing is pure: whatever it raises concerns this record only
        batch.bad.append(_bad(record, _reasons(exc)))
        return
    if isinstance(event, Decision):
        old = batch.decisions.get(event.plan_id)
        if old is None or decision_order(event) > decision_order(old):
            batch.decisions[event.plan_id] = event
    elif isinstance(event, AuctionCleared):
        run_key = (event.market_area, event.delivery_day, event.run_id)
        old_run = batch.runs.get(run_key)
        if old_run is None or run_order(event) > run_order(old_run):
            batch.runs[run_key] = event
    else:
        old_plan = batch.plans.get(event.plan_id)
        if old_plan is None or plan_order(event) > plan_order(old_plan):
            batch.plans[event.plan_id] = event


def add_bad(batch: Batch, record: Record, reasons: list[FieldError]) -> None:
    """Count the record as consumed but unreadable (its offset still advances)."""
    key = (record.topic, record.partition)
    batch.offsets[key] = max(batch.offsets.get(key, 0), record.offset + 1)
    batch.consumed[record.topic] = batch.consumed.get(record.topic, 0) + 1
    batch.bad.append(_bad(record, reasons))


def _bad(record: Record, reasons: list[FieldError]) -> BadRecord:
    return BadRecord(
        record.topic, record.partition, record.offset, reasons, record.value, record.key
    )


def merged_allocations(d: ScheduleDecision) -> list[tuple[str, datetime, float]]:
    """Allocations summed per (point, MTU): one row per primary key, whatever the producer sent."""
    total: dict[tuple[str, datetime], float] = {}
    for a in d.allocations:
        k = (a.charging_point_id, a.mtu_start)
        total[k] = total.get(k, 0.0) + a.energy_kwh
    return [(p, t, e) for (p, t), e in total.items()]
