"""Dead letters: a record a consumer cannot use goes to ``<topic>.dlq`` with every reason.

Every consumer stage (aggregator intake and owner, decisions consumer, market adapter)
uses this one builder, so a dead letter looks the same whoever wrote it: a
``schemas.events.RejectedEvent`` keyed like the original record, its event id derived from
(topic, partition, offset) so a replay writes the identical record again, and the original
bytes cut so that the dead letter always fits the broker's record limit (1 MiB by default
on Kafka and Tansu): a poison record must never become a second, unpublishable one.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any, Protocol

from schemas.base import FieldError
from schemas.events import RejectedEvent

DLQ_SUFFIX = ".dlq"
# Base64 grows the value by 4/3: 256 KiB of original bytes -> ~350 KB, plus at most
# MAX_REASONS reasons of <= 2 256 characters each: ~580 KB in all, below 1 MiB.
MAX_VALUE_BYTES = 256 * 1024
MAX_KEY_BYTES = 1024
MAX_REASONS = 100
_NS = uuid.UUID("5e0c7d2a-8b1f-4c39-9a6e-2f4d8c1b0a97")


def dlq_topic(topic: str) -> str:
    """``charging-plans`` -> ``charging-plans.dlq``."""
    return topic + DLQ_SUFFIX


def dead_letter_id(topic: str, partition: int, offset: int) -> uuid.UUID:
    """The same record always gets the same dead letter id (consumers dedupe on it)."""
    return uuid.uuid5(_NS, f"{topic}/{partition}/{offset}")


def dead_letter(
    *,
    topic: str,
    partition: int,
    offset: int,
    key: bytes | None,
    value: bytes | None,
    reasons: Sequence[FieldError],
    now: datetime,
    **identity: Any,
) -> RejectedEvent:
    """The RejectedEvent for one record; ``identity`` may add plan_id, revision, vehicle_id."""
    raw = value or b""
    cut = [
        FieldError(loc=r.loc[:256], reason=r.reason[:2000])
        for r in (reasons or [FieldError(loc="", reason="unusable record")])[:MAX_REASONS]
    ]
    if len(reasons) > MAX_REASONS:
        cut[-1] = FieldError(loc="", reason=f"... and {len(reasons) - MAX_REASONS + 1} more")
    return RejectedEvent.from_record(
        topic=topic,
        partition=partition,
        offset=offset,
        key=None if key is None else key[:MAX_KEY_BYTES],
        value=raw[:MAX_VALUE_BYTES],
        value_size=len(raw),
        value_truncated=len(raw) > MAX_VALUE_BYTES,
        reasons=cut,
        event_id=dead_letter_id(topic, partition, offset),
        occurred_at=now,
        **identity,
    )


class RecordLike(Protocol):
    """What a dead letter needs of a consumed record (aiokafka's ConsumerRecord has it)."""

    @property
    def topic(self) -> str: ...
    @property
    def partition(self) -> int: ...
    @property
    def offset(self) -> int: ...
    @property
    def key(self) -> bytes | None: ...
    @property
    def value(self) -> bytes | None: ...


def dead_letter_of(
    record: RecordLike, reasons: Sequence[FieldError], now: datetime, **identity: Any
) -> RejectedEvent:
    """:func:`dead_letter` of a consumed record."""
    return dead_letter(
        topic=record.topic,
        partition=record.partition,
        offset=record.offset,
        key=record.key,
        value=record.value,
        reasons=reasons,
        now=now,
        **identity,
    )


def dead_letter_record(event: RejectedEvent, key: bytes | None) -> tuple[str, bytes | None, bytes]:
    """(topic, key, value) to publish: the DLQ of the record's topic, the original key."""
    return (
        dlq_topic(event.topic),
        None if key is None else key[:MAX_KEY_BYTES],
        (event.model_dump_json().encode()),
    )
