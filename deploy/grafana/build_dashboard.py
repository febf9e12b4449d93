"""Writes deploy/grafana/dashboards/chargeflow.json: `python deploy/grafana/build_dashboard.py`.

Panels are listed here (title, unit, PromQL) so the dashboard stays reviewable; a unit test
checks that every metric it queries is exported by a service.
"""

from __future__ import annotations

import json
from pathlib import Path

PANELS: list[tuple[str, str, list[tuple[str, str]]]] = [
    (
        "HTTP requests/s by service and status",
        "reqps",
        [
            (
                "sum by (service, status) (rate(chargeflow_http_requests_total[1m]))",
                "{{service}} {{status}}",
            ),
        ],
    ),
    (
        "HTTP p99 latency by route",
        "s",
        [
            (
                "histogram_quantile(0.99, sum by (le, service, route) "
                "(rate(chargeflow_http_request_duration_seconds_bucket[5m])))",
                "{{service}} {{route}}",
            ),
        ],
    ),
    (
        "Plans accepted / rejected / late per s",
        "ops",
        [
            ("sum(rate(chargeflow_plans_accepted_total[1m]))", "accepted"),
            ("sum by (reason) (rate(chargeflow_plans_rejected_total[1m]))", "rejected {{reason}}"),
            ("sum(rate(chargeflow_plans_late_total[1m]))", "late"),
        ],
    ),
    (
        "Ingest publish latency p99",
        "s",
        [
            (
                "histogram_quantile(0.99, sum by (le) (rate(chargeflow_ingest_publish_duration_seconds_bucket[5m])))",
                "p99",
            ),
        ],
    ),
    (
        "Broker errors (ingest)",
        "ops",
        [
            ("sum(rate(chargeflow_ingest_broker_errors_total[5m]))", "errors"),
        ],
    ),
    (
        "Events published / consumed by topic",
        "ops",
        [
            ("sum by (topic) (rate(chargeflow_events_published_total[1m]))", "published {{topic}}"),
            ("sum by (topic) (rate(chargeflow_events_consumed_total[1m]))", "consumed {{topic}}"),
        ],
    ),
    (
        "Consumer lag",
        "short",
        [
            ("max by (topic) (chargeflow_consumer_lag)", "{{topic}}"),
        ],
    ),
    (
        "Invalid plans and DLQ events per s",
        "ops",
        [
            ("sum(rate(chargeflow_plans_invalid_total[5m]))", "invalid"),
            ("sum(rate(chargeflow_dlq_events_total[5m]))", "dlq"),
        ],
    ),
    (
        "Plans held per (area, day) partition",
        "short",
        [
            ("sum by (partition) (chargeflow_aggregator_table_plans)", "partition {{partition}}"),
            ("sum(chargeflow_aggregator_table_days)", "days"),
        ],
    ),
    (
        "Auction clearing duration p95",
        "s",
        [
            (
                "histogram_quantile(0.95, sum by (le, phase) "
                "(rate(chargeflow_auction_clearing_duration_seconds_bucket[1h])))",
                "phase {{phase}}",
            ),
        ],
    ),
    (
        "Welfare and plans per run",
        "short",
        [
            (
                "max by (market_area, phase) (chargeflow_auction_welfare_eur)",
                "welfare EUR {{market_area}} p{{phase}}",
            ),
            (
                "max by (market_area, phase) (chargeflow_auction_plans)",
                "plans {{market_area}} p{{phase}}",
            ),
        ],
    ),
    (
        "Clearing refused / fallbacks",
        "short",
        [
            (
                "sum by (market_area, reason) (increase(chargeflow_auction_refused_total[1h]))",
                "refused {{reason}}",
            ),
            (
                "sum by (market_area) (increase(chargeflow_auction_fallback_total[1h]))",
                "fallback {{market_area}}",
            ),
            (
                "max by (market_area) (chargeflow_aggregator_config_missing)",
                "config missing {{market_area}}",
            ),
        ],
    ),
    (
        "Decisions persisted per s",
        "ops",
        [
            ("sum(rate(chargeflow_decisions_persisted_total[1m]))", "decisions"),
        ],
    ),
    (
        "Gate closure to decisions (s)",
        "s",
        [
            (
                "histogram_quantile(0.5, sum by (le) (rate(chargeflow_gate_closure_to_decisions_seconds_bucket[1h])))",
                "median",
            ),
        ],
    ),
]


def dashboard() -> dict[str, object]:
    panels = []
    for i, (title, unit, queries) in enumerate(PANELS):
        panels.append(
            {
                "id": i + 1,
                "type": "timeseries",
                "title": title,
                "datasource": {"type": "prometheus", "uid": "prometheus"},
                "gridPos": {"h": 8, "w": 12, "x": 12 * (i % 2), "y": 8 * (i // 2)},
                "fieldConfig": {"defaults": {"unit": unit}, "overrides": []},
                "targets": [
                    {"refId": chr(65 + j), "expr": expr, "legendFormat": legend}
                    for j, (expr, legend) in enumerate(queries)
                ],
            }
        )
    return {
        "uid": "chargeflow",
        "title": "chargeflow",
        "schemaVersion": 39,
        "time": {"from": "now-6h", "to": "now"},
        "refresh": "30s",
        "panels": panels,
    }


if __name__ == "__main__":
    target = Path(__file__).parent / "dashboards" / "chargeflow.json"
    target.write_text(json.dumps(dashboard(), indent=2) + "\n")
    print(target)
