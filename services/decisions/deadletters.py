"""Dead letters of the decisions consumer: every unusable record to `<its topic>.dlq`.

Publishing is at-least-once: the consumer publishes a batch's dead letters and waits for the
broker's acknowledgement *before* the transaction that stores the batch's offsets commits.
A crash in between re-reads the records and publishes the same dead letters again (same
event id, from topic/partition/offset: `services.common.dlq`); a crash can never lose one.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

from aiokafka import AIOKafkaProducer

from services.common.clock import Clock
from services.common.dlq import dead_letter_of, dead_letter_record
from services.decisions import metrics
from services.decisions.records import BadRecord, Kind, identity


class DeadLetterFailure(Exception):
    """The dead letters could not be published (broker down, ...): not about any record, so
    the write fails as a whole and its offsets are not stored."""


class DeadLetters:
    def __init__(
        self, producer: AIOKafkaProducer, kinds: dict[str, Kind], clock: Clock, service: str
    ) -> None:
        self.producer = producer
        self.kinds = kinds  # topic -> what it carries (to find a plan's identity again)
        self.clock = clock
        self.service = service

    async def publish(self, bad: Sequence[BadRecord]) -> None:
        """Send every dead letter and wait until the broker acknowledged them all."""
        try:
            await self._publish(bad)
        except Exception as exc:
            raise DeadLetterFailure(f"dead letters not published: {exc!r}") from exc

    async def _publish(self, bad: Sequence[BadRecord]) -> None:
        sent = []
        for b in bad:
            kind = self.kinds.get(b.topic)
            ident = identity(kind, b.value) if kind is not None else {}
            event = dead_letter_of(b, b.reasons, self.clock.now(), **ident)
            topic, key, value = dead_letter_record(event, b.key)
            sent.append(await self.producer.send(topic, value, key=key))
        await asyncio.gather(*sent)  # a broker failure raises here: the batch is not committed
        for b in bad:
            metrics.DLQ_EVENTS.labels(self.service, b.topic).inc()
