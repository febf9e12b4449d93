"""Kafka plumbing shared by the services: topic names, topic creation, client defaults.

The dev broker (Tansu) has no idempotent producer, so producers use acks=all without
idempotence; duplicates are possible on retry and every consumer dedupes (DESIGN §4).

Every client is built here from a `BrokerAccess` (services.common.kafka_access): the
service's one principal and its credentials are applied to all of them alike.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import TopicAlreadyExistsError

from services.common.kafka_access import Broker, access

log = logging.getLogger(__name__)

CHARGING_PLANS = "charging-plans"
CHARGING_PLANS_DLQ = "charging-plans.dlq"
AUCTION_CONFIG = "auction-config"
AGGREGATE_BIDS = "aggregate-bids"
MARKET_RESULTS = "market-results"
AUCTION_RESULTS = "auction-results"
SCHEDULE_DECISIONS = "schedule-decisions"


@dataclass(frozen=True)
class TopicSpec:
    name: str
    compacted: bool = False


TOPICS = (
    TopicSpec(CHARGING_PLANS),
    TopicSpec(CHARGING_PLANS_DLQ),
    TopicSpec(AUCTION_CONFIG, compacted=True),
    TopicSpec(AGGREGATE_BIDS),
    TopicSpec(MARKET_RESULTS),
    TopicSpec(AUCTION_RESULTS),
    TopicSpec(SCHEDULE_DECISIONS),
)


async def ensure_topics(
    bootstrap: Broker,
    topics: tuple[TopicSpec, ...] = TOPICS,
    partitions: int = 4,
    replication_factor: int = 1,
    prefix: str = "",
) -> list[str]:
    """Create the topics that are missing; existing ones are left as they are."""
    admin = AIOKafkaAdminClient(**access(bootstrap).client_options())  # type: ignore[arg-type]
    await admin.start()
    try:
        existing = set(await admin.list_topics())
        new = [
            NewTopic(
                prefix + t.name,
                partitions,
                replication_factor,
                topic_configs={"cleanup.policy": "compact"} if t.compacted else {},
            )
            for t in topics
            if prefix + t.name not in existing
        ]
        if new:
            try:
                await admin.create_topics(new)
            except TopicAlreadyExistsError:
                pass  # created concurrently by another service: fine
            log.info("created topics %s", [t.name for t in new])
        return [prefix + t.name for t in topics]
    finally:
        await admin.close()


def make_consumer(bootstrap: Broker, **options: object) -> AIOKafkaConsumer:
    """A plain reader (no group unless ``group_id`` is given), e.g. for restores and probes."""
    return AIOKafkaConsumer(**(access(bootstrap).client_options() | options))  # type: ignore[arg-type]


def make_group_consumer(
    *topics: str,
    bootstrap: Broker,
    group_id: str,
    session_timeout_ms: int,
    heartbeat_ms: int,
    pattern: str | None = None,
    **overrides: object,
) -> AIOKafkaConsumer:
    """A consumer-group member that commits itself (after its work is durable) and starts
    new groups at the earliest record. With ``pattern`` (a regex, instead of ``topics``) it
    subscribes to every matching topic, including ones created later (found on the next
    metadata refresh, ``metadata_max_age_ms``).

    Tansu completes a (re)join only after about a session timeout, so the services keep it
    short (6 s; tests 1 s) and use it as the rebalance timeout too; heavy work must not block
    the event loop that long (solves run in a thread) or the member is evicted."""
    options: dict[str, object] = {
        **access(bootstrap).client_options(),
        "group_id": group_id,
        "enable_auto_commit": False,
        "auto_offset_reset": "earliest",
        "session_timeout_ms": session_timeout_ms,
        "heartbeat_interval_ms": heartbeat_ms,
        "rebalance_timeout_ms": session_timeout_ms,
    }
    options.update(overrides)
    if pattern is not None:
        if topics:
            raise ValueError("give topics or a pattern, not both")
        consumer = AIOKafkaConsumer(**options)  # type: ignore[arg-type]
        consumer.subscribe(pattern=pattern)
        return consumer
    return AIOKafkaConsumer(*topics, **options)  # type: ignore[arg-type]


def make_producer(bootstrap: Broker, **overrides: object) -> AIOKafkaProducer:
    """A producer that answers only after all in-sync replicas have the record."""
    options: dict[str, object] = {
        **access(bootstrap).client_options(),
        "acks": "all",
        "enable_idempotence": False,
        "linger_ms": 2,
        "request_timeout_ms": 10_000,
    }
    options.update(overrides)
    return AIOKafkaProducer(**options)  # type: ignore[arg-type]
