"""Plans published straight to the broker by vehicle owners and chargers (DESIGN §4 Access).

The aggregator has no database, so it cannot ask who sent a record; the broker can: each
direct producer ``U`` (a registry user: a fleet, a driver, a charger operator) writes only
its own topic ``charging-plans.direct.U`` (a literal ACL for principal ``U``; see
docs/operations.md). The topic name is therefore the producer's authenticated identity, and
the intake accepts a plan or cancellation read from ``charging-plans.direct.U`` only for a
vehicle that belongs to ``U`` according to the ``vehicle_owners`` of the area's
auction-config (built from the registry by ``chargeflow config publish``).

Anything else -- someone else's vehicle, an unknown vehicle or area, an unreadable record
-- goes to ``charging-plans.direct.U.dlq`` (services.common.dlq) with the reason. The
vehicle's owner is told nothing (no ScheduleDecision): a forged plan neither reaches nor
disturbs anybody but the one who sent it, and the reason does not say whose vehicle it is.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable

from aiokafka.structs import ConsumerRecord

from schemas.base import FieldError
from schemas.events import PlanCancelled, PlanSubmitted
from schemas.parsing import parse_plan_event
from services.aggregator import metrics as m
from services.aggregator.batching import Batches
from services.aggregator.configs import ConfigView
from services.aggregator.settings import Settings
from services.aggregator.topics import Names
from services.common.clock import Clock
from services.common.dlq import dead_letter_of, dlq_topic
from services.common.kafka import TopicSpec, ensure_topics

log = logging.getLogger(__name__)

DIRECT = ".direct."
# A producer's name is a registry user name restricted to Kafka's topic characters without
# '.', so that `<direct topic>.dlq` never matches the pattern the intake subscribes to.
PRODUCER_NAME = r"[A-Za-z0-9_-]{1,200}"
_PRODUCER = re.compile(PRODUCER_NAME)
# The intake looks for new direct topics this often (a metadata refresh of every topic).
DISCOVERY_MS = 30_000


def direct_prefix(plans_topic: str) -> str:
    """``charging-plans`` -> ``charging-plans.direct.``"""
    return plans_topic + DIRECT


def direct_topic(plans_topic: str, producer: str) -> str:
    """The one topic ``producer`` may write its plans to."""
    if not _PRODUCER.fullmatch(producer):
        raise ValueError(f"{producer!r} cannot publish directly: use letters, digits, - and _")
    return direct_prefix(plans_topic) + producer


def producer_of(topic: str, plans_topic: str) -> str | None:
    """The producer whose direct topic ``topic`` is, or None for any other topic."""
    prefix = direct_prefix(plans_topic)
    if not topic.startswith(prefix):
        return None
    name = topic[len(prefix) :]
    return name if _PRODUCER.fullmatch(name) else None


def intake_pattern(names: Names) -> str:
    """The intake's subscription: its three fixed topics and every direct topic, also those
    created while it runs (found on the consumer's next metadata refresh)."""
    fixed = "|".join(re.escape(t) for t in (names.plans, names.market, names.commands))
    return rf"^(?:{fixed}|{re.escape(direct_prefix(names.plans))}{PRODUCER_NAME})$"


def plan_topics(names: Names, topics: Iterable[str]) -> list[str]:
    """``charging-plans`` and the direct topics among ``topics`` (what plans arrive on)."""
    return [names.plans] + sorted(t for t in topics if producer_of(t, names.plans) is not None)


def refusal(
    value: bytes | None, producer: str, topic: str, configs: ConfigView
) -> tuple[list[FieldError], PlanSubmitted | PlanCancelled | None]:
    """Why ``producer`` may not publish this record (empty: it may), and the parsed event.

    Parsed with the same parser as the intake uses afterwards, so the vehicle checked here
    is the vehicle the plan is stored for (no smuggling through duplicate JSON keys)."""
    event, errors = (
        parse_plan_event(value)
        if value
        else (None, [FieldError(loc="", reason="empty record value (no event)")])
    )
    if event is None:
        why = f"unreadable plan event on {topic}: its vehicle cannot be checked"
        return [FieldError(loc="", reason=why), *errors[:50]], None
    config = configs.get(event.market_area)
    if config is None:
        why = f"no auction-config for market area {event.market_area!r}: owners unknown"
        return [FieldError(loc="market_area", reason=why)], event
    if config.vehicle_owners.get(event.vehicle_id) != producer:
        # The same words for an unknown vehicle and someone else's: the DLQ of this topic
        # is the producer's to read, and it must not learn whose vehicle it is.
        why = f"vehicle {event.vehicle_id!r} is not registered to {producer!r}"
        return [FieldError(loc="vehicle_id", reason=why)], event
    return [], event


class DirectPlans:
    """The intake's gate for direct topics: ``screen`` lets a record through or dead-letters it."""

    def __init__(
        self, settings: Settings, names: Names, out: Batches, configs: ConfigView, clock: Clock
    ) -> None:
        self.s = settings
        self.names = names
        self.out = out
        self.configs = configs
        self.clock = clock
        self._dlqs: set[str] = set()  # dead-letter topics known to exist

    def producer_of(self, topic: str) -> str | None:
        return producer_of(topic, self.names.plans)

    async def screen(self, r: ConsumerRecord[bytes, bytes], producer: str) -> bool:
        """True when the record may go on to the intake's checks (the producer owns the
        vehicle); otherwise it is dead-lettered to ``<its topic>.dlq`` and False."""
        reasons, event = refusal(r.value, producer, r.topic, self.configs)
        if not reasons:
            return True
        ident = (
            {"plan_id": event.plan_id, "revision": event.revision, "vehicle_id": event.vehicle_id}
            if event is not None
            else {}
        )
        letter = dead_letter_of(r, reasons, self.clock.now(), **ident)
        target = dlq_topic(r.topic)
        await self._ensure(target)
        await self.out.add(target, r.key, letter.model_dump_json().encode())
        _count_dead_letter(r.topic)
        log.warning(
            "refused %s[%d]@%d from %s to %s: %s",
            r.topic,
            r.partition,
            r.offset,
            producer,
            target,
            reasons[0],
        )
        return False

    async def _ensure(self, topic: str) -> None:
        """A producer's DLQ is made on its first refusal (the aggregator may create topics
        under the direct prefix; the producer itself may not)."""
        if topic in self._dlqs:
            return
        await ensure_topics(
            self.s.kafka_access(),
            (TopicSpec(topic),),
            self.s.topic_partitions,
            self.s.topic_replication_factor,
        )
        self._dlqs.add(topic)


def _count_dead_letter(topic: str) -> None:
    # chargeflow_dlq_events_total is labelled (service) on main and gains (topic) with the
    # isolation work of the same issue: count under whichever labels it declares.
    labels = {"service": m.SERVICE, "topic": topic}
    names = getattr(m.DLQ_EVENTS, "_labelnames", ("service",))
    m.DLQ_EVENTS.labels(**{k: labels[k] for k in names}).inc()
