"""Prometheus metrics of the decisions service (DESIGN §9); HTTP metrics come from common."""

from __future__ import annotations

from typing import Any

from prometheus_client import REGISTRY, Counter, Gauge, Histogram


def _shared_counter(name: str, doc: str, labels: list[str]) -> Counter:
    """Other services in the same process (tests, demo) may register the same shared name."""
    existing: Any = REGISTRY._names_to_collectors.get(name.removesuffix("_total"))
    return existing if existing is not None else Counter(name, doc, labels)


EVENTS_CONSUMED = _shared_counter(
    "chargeflow_events_consumed_total", "Kafka records consumed, by service and topic",
    ["service", "topic"],
)  # fmt: skip
EVENTS_INVALID = _shared_counter(
    "chargeflow_events_invalid_total",
    "Consumed records that could not be read (stored in consume_errors), by service and topic",
    ["service", "topic"],
)
DLQ_EVENTS = _shared_counter(
    "chargeflow_dlq_events_total",
    "Records sent to the dead-letter topic <topic>.dlq, by service and the topic read from",
    ["service", "topic"],
)
DECISIONS_PERSISTED = Counter(
    "chargeflow_decisions_persisted_total",
    "Schedule decisions written (new, or newer than the stored one)",
)
PLANS_PERSISTED = Counter("chargeflow_decisions_plans_persisted_total", "Plans written")
RUNS_PERSISTED = Counter("chargeflow_decisions_runs_persisted_total", "Auction runs written")
_lag: Any = REGISTRY._names_to_collectors.get("chargeflow_consumer_lag")
CONSUMER_LAG: Gauge = _lag if _lag is not None else Gauge(
    "chargeflow_consumer_lag", "Records behind the partition end, by service, topic, partition",
    ["service", "topic", "partition"],
)  # fmt: skip
BATCH_SECONDS = Histogram(
    "chargeflow_decisions_batch_seconds",
    "Time to write one consumed batch (one transaction)",
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0),
)
GATE_TO_SERVED = Histogram(
    "chargeflow_gate_closure_to_decisions_seconds",
    "Clock time from gate closure to the first phase-2 decisions of a run being served",
    buckets=(1, 5, 15, 30, 60, 120, 300, 900, 1800, 3600, 7200),
)
