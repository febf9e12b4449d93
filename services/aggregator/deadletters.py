"""Dead letters of the aggregator's two stages (intake and owner).

A record a stage cannot use goes to ``<topic>.dlq`` of the topic it was read from
(``services.common.dlq``), is counted in ``chargeflow_dlq_events_total{service, topic}``
and logged; the stage then goes on with the next record. The letter is queued on the
stage's own batches, so the record's offset is committed only after its dead letter was
acknowledged (at-least-once: a crash re-reads the record and writes the identical letter,
whose id depends only on topic, partition and offset).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from aiokafka.structs import ConsumerRecord

from schemas.base import FieldError
from services.aggregator import metrics as m
from services.aggregator.batching import Batches
from services.common.dlq import dead_letter_of, dead_letter_record

log = logging.getLogger(__name__)

# A letter whose reasons are too long for one record batch keeps only the first few.
_FEW_REASONS = 5


class Unusable(Exception):
    """A record a stage cannot apply, and why (the dead letter's reasons)."""

    def __init__(self, loc: str, reason: str) -> None:
        super().__init__(f"{loc}: {reason}" if loc else reason)
        self.reasons = [FieldError(loc=loc[:256], reason=reason[:2000])]


def failure_reason(exc: BaseException) -> str:
    """``OverflowError: date value out of range``: what broke, for people and the DLQ."""
    text = str(exc) or repr(exc)
    return f"{type(exc).__name__}: {text}"[:1900]


def count_topics(topics: Iterable[str]) -> None:
    """Create the counter's series for the topics a stage reads: dashboards show 0, not
    nothing, until the first dead letter."""
    for topic in topics:
        m.DLQ_EVENTS.labels(m.SERVICE, topic)


async def send_dead_letter(
    out: Batches,
    r: ConsumerRecord[bytes, bytes],
    reasons: list[FieldError],
    now: datetime,
    what: str,
    **identity: Any,
) -> None:
    """Queue the dead letter of ``r`` on ``out``, count it and say so in the log."""
    letter = dead_letter_of(r, reasons, now, **identity)
    topic, key, value = dead_letter_record(letter, r.key)
    try:
        await out.add(topic, key, value)
    except ValueError:  # the letter does not fit a record batch: its reasons were huge
        letter = letter.model_copy(update={"reasons": letter.reasons[:_FEW_REASONS]})
        topic, key, value = dead_letter_record(letter, r.key)
        await out.add(topic, key, value)
    m.DLQ_EVENTS.labels(m.SERVICE, r.topic).inc()
    log.warning(
        "%s %s[%d]@%d to %s: %s",
        what,
        r.topic,
        r.partition,
        r.offset,
        topic,
        "; ".join(str(e) for e in reasons[:5]),
    )
