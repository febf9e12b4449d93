"""Ingest metrics (DESIGN §9). HTTP request counts/latency come from services.common.metrics."""

from __future__ import annotations

from prometheus_client import Counter, Histogram

from services.common.metrics import LATENCY_BUCKETS

PLANS_ACCEPTED = Counter(
    "chargeflow_plans_accepted_total", "Plans acknowledged by the broker and answered 202"
)
PLANS_REJECTED = Counter(
    "chargeflow_plans_rejected_total",
    "Plans not accepted, by reason "
    "(invalid, forbidden, late, stale_revision, unavailable, duplicate)",
    ["reason"],
)
PLANS_LATE = Counter(
    "chargeflow_plans_late_total", "Plans and cancellations refused because gate closure passed"
)
PLANS_CANCELLED = Counter("chargeflow_plans_cancelled_total", "Cancellations published")
EVENTS_PUBLISHED = Counter(
    "chargeflow_events_published_total", "Events acknowledged by the broker, by topic", ["topic"]
)
PUBLISH_LATENCY = Histogram(
    "chargeflow_ingest_publish_duration_seconds",
    "From send to broker acknowledgement (acks=all), per publish call",
    buckets=LATENCY_BUCKETS,
)
BROKER_ERRORS = Counter(
    "chargeflow_ingest_broker_errors_total", "Failed or timed-out publishes, by error", ["error"]
)
REVISION_WRITE_ERRORS = Counter(
    "chargeflow_ingest_revision_write_errors_total",
    "Accepted revisions that could not be recorded after the broker ack (plan is still stored)",
)
