"""Prometheus metrics of the aggregator (DESIGN §9), in the aggregator's own registry.

Its own registry keeps the names free of clashes with other services imported into the
same process (tests); each service process exports only its own metrics anyway.
"""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

SERVICE = "aggregator"
REGISTRY = CollectorRegistry()

PLANS_RECEIVED = Counter(
    "chargeflow_plans_received_total",
    "Plan events read from charging-plans, by kind",
    ["service", "kind"],
    registry=REGISTRY,
)
PLANS_INVALID = Counter(
    "chargeflow_plans_invalid_total",
    "Plan events rejected to the DLQ",
    ["service"],
    registry=REGISTRY,
)
DLQ_EVENTS = Counter(
    "chargeflow_dlq_events_total",
    "Records a stage could not use, sent to <topic>.dlq; topic: the topic they were read from",
    ["service", "topic"],
    registry=REGISTRY,
)
PLANS_LATE = Counter(
    "chargeflow_plans_late_total",
    "Plans that arrived after gate closure (rejected gate_closed)",
    ["service"],
    registry=REGISTRY,
)
PLANS_STALE = Counter(
    "chargeflow_plans_ignored_total",
    "Plan events ignored: duplicate or older revision",
    ["service", "why"],
    registry=REGISTRY,
)
TABLE_PLANS = Gauge(
    "chargeflow_aggregator_table_plans",
    "Live plans in the state table, by partition",
    ["partition"],
    registry=REGISTRY,
)
TABLE_DAYS = Gauge(
    "chargeflow_aggregator_table_days",
    "(area, day) entries in the state table",
    [],
    registry=REGISTRY,
)
EVENTS_PUBLISHED = Counter(
    "chargeflow_events_published_total",
    "Records published, by topic",
    ["service", "topic"],
    registry=REGISTRY,
)
EVENTS_CONSUMED = Counter(
    "chargeflow_events_consumed_total",
    "Records consumed, by topic",
    ["service", "topic"],
    registry=REGISTRY,
)
CONSUMER_LAG = Gauge(
    "chargeflow_consumer_lag",
    "Records behind the partition end",
    ["service", "topic", "partition"],
    registry=REGISTRY,
)
CLEARING_SECONDS = Histogram(
    "chargeflow_auction_clearing_duration_seconds",
    "Wall time of one clearing run",
    ["phase"],
    buckets=(0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120),
    registry=REGISTRY,
)
CLEARING_PLANS = Gauge(
    "chargeflow_auction_plans",
    "Plans in the last run",
    ["market_area", "phase"],
    registry=REGISTRY,
)
WELFARE = Gauge(
    "chargeflow_auction_welfare_eur",
    "Welfare of the last run",
    ["market_area", "phase"],
    registry=REGISTRY,
)
CLOSURE_TO_DECISIONS = Histogram(
    "chargeflow_gate_closure_to_decisions_seconds",
    "Clock time from gate closure until every decision of the day was published",
    buckets=(1, 5, 10, 30, 60, 300, 900, 1800, 3600, 7200),
    registry=REGISTRY,
)
CLEARING_REFUSED = Counter(
    "chargeflow_auction_refused_total",
    "Clearings that could not run, by reason (no_config, no_forecast)",
    ["market_area", "reason"],
    registry=REGISTRY,
)
CONFIG_MISSING = Gauge(
    "chargeflow_aggregator_config_missing",
    "1 while a closed day of this area waits for an auction-config or forecast",
    ["market_area"],
    registry=REGISTRY,
)
CULPRITS = Counter(
    "chargeflow_auction_culprits_total",
    "Plans left out of a clearing because the engine failed with them (rejected, reason given)",
    ["market_area", "phase"],
    registry=REGISTRY,
)
CLEARING_SOLVES = Counter(
    "chargeflow_auction_isolation_solves_total",
    "Extra solves spent finding the plans that made a clearing fail",
    ["market_area"],
    registry=REGISTRY,
)
DAYS_FORGOTTEN = Counter(
    "chargeflow_aggregator_days_forgotten_total",
    "(area, day)s dropped from the state after the retention window (tombstoned)",
    ["expired"],
    registry=REGISTRY,
)
TABLE_ENTRIES = Gauge(
    "chargeflow_aggregator_table_entries",
    "Changelog keys held in memory (plan entries and day records), by partition",
    ["partition"],
    registry=REGISTRY,
)
RESTORED_RECORDS = Gauge(
    "chargeflow_aggregator_restored_records",
    "Changelog records read by the last restore of a partition",
    ["partition"],
    registry=REGISTRY,
)
CHECKPOINTS = Counter(
    "chargeflow_aggregator_changelog_checkpoints_total",
    "Live state re-written to the changelog so restores can start after the dead history",
    [],
    registry=REGISTRY,
)
FALLBACKS = Counter(
    "chargeflow_auction_fallback_total",
    "Phase 2 runs without a market result",
    ["market_area"],
    registry=REGISTRY,
)
