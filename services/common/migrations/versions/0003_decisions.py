"""Decisions service: plans and stops as submitted, auction runs, node results per MTU,
schedule decisions, allocations, and the consumed Kafka offsets (stored with the writes).

Revision ID: 0003_decisions
Revises: 0002_ingest
Create Date: 2026-11-25
"""

from __future__ import annotations

from alembic import op

from services.common.migrate import execute_script

# An aware timestamp as ISO 8601 in a zone's local offset, e.g. 2026-11-26T01:00:00+01:00:
# the vehicle API builds its JSON in one query (see services/decisions/queries.py).
ISO_LOCAL = """
CREATE FUNCTION iso_local(ts timestamptz, tz text) RETURNS text
LANGUAGE sql STABLE PARALLEL SAFE AS $$
    SELECT to_char(ts AT TIME ZONE tz, 'YYYY-MM-DD"T"HH24:MI:SS')
        || CASE WHEN o < 0 THEN '-' ELSE '+' END
        || lpad((abs(o) / 3600)::text, 2, '0') || ':' || lpad((abs(o) % 3600 / 60)::text, 2, '0')
    FROM (SELECT extract(epoch FROM (ts AT TIME ZONE tz) - (ts AT TIME ZONE 'UTC'))::int AS o) s
$$
"""

revision = "0003_decisions"
down_revision = "0002_ingest"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Allocations are stored with their decision, as one jsonb array of
    # {charging_point_id, mtu_start, energy_kwh} (one entry per point and MTU), and read
    # through the view decision_allocations.
    # A separate table (one row per point and MTU, primary key index) was the largest cost
    # of the write path: COPY + DELETE + INSERT of the allocations ≈ 37 of ≈ 60 µs of
    # PostgreSQL time per decision with 4 allocations (measured, see docs/decisions.md);
    # a decision is also always replaced with all its allocations at once. jsonb rather than
    # three aligned arrays: the arrays' binary COPY encoding cost 17 µs more per decision.
    # schedule_decisions has no (market_area, delivery_day) index: every index is written
    # per decision (≈ 3.5 µs of a ≈ 16 µs upsert); the day summary, which reads a whole
    # day anyway, uses (delivery_day, vehicle_id).
    execute_script(
        """
        CREATE TABLE plans (
            plan_id          uuid PRIMARY KEY,
            revision         integer NOT NULL,
            vehicle_id       text NOT NULL,
            market_area      text NOT NULL,
            delivery_day     date NOT NULL,
            status           text NOT NULL CHECK (status IN ('submitted', 'cancelled')),
            initial_soc_kwh  double precision,
            requested_kwh    double precision NOT NULL DEFAULT 0,
            bid              jsonb NOT NULL DEFAULT '[]',
            source           text,
            event_id         uuid NOT NULL,
            occurred_at      timestamptz NOT NULL,
            stored_at        timestamptz NOT NULL DEFAULT now()
        );
        CREATE INDEX plans_day_vehicle_idx ON plans (delivery_day, vehicle_id);
        CREATE INDEX plans_area_day_idx ON plans (market_area, delivery_day);
        CREATE TABLE plan_stops (
            plan_id            uuid NOT NULL REFERENCES plans(plan_id) ON DELETE CASCADE,
            seq                integer NOT NULL,
            charging_point_id  text NOT NULL,
            arrival            timestamptz NOT NULL,
            departure          timestamptz NOT NULL,
            trip_kwh_after     double precision NOT NULL DEFAULT 0,
            PRIMARY KEY (plan_id, seq)
        );
        CREATE TABLE auction_runs (
            market_area          text NOT NULL,
            delivery_day         date NOT NULL,
            run_id               text NOT NULL,
            phase                smallint NOT NULL CHECK (phase IN (1, 2)),
            fallback             boolean NOT NULL DEFAULT false,
            what_if              boolean NOT NULL DEFAULT false,
            mtu_minutes          integer NOT NULL,
            mtu_starts           timestamptz[] NOT NULL,
            prices_eur_mwh       double precision[] NOT NULL,
            welfare_eur          double precision NOT NULL,
            total_requested_kwh  double precision NOT NULL,
            total_accepted_kwh   double precision NOT NULL,
            coverage             double precision NOT NULL,
            plans_total          integer NOT NULL DEFAULT 0,
            plans_accepted       integer NOT NULL DEFAULT 0,
            aggregate            jsonb,
            parameters           jsonb,
            event_id             uuid NOT NULL,
            occurred_at          timestamptz NOT NULL,
            stored_at            timestamptz NOT NULL DEFAULT now(),
            PRIMARY KEY (market_area, delivery_day, run_id)
        );
        CREATE TABLE auction_node_results (
            market_area         text NOT NULL,
            delivery_day        date NOT NULL,
            run_id              text NOT NULL,
            node_id             text NOT NULL,
            mtu_index           integer NOT NULL,
            mtu_start           timestamptz NOT NULL,
            energy_kwh          double precision NOT NULL,
            price_eur_mwh       double precision NOT NULL,
            congestion_eur_mwh  double precision,
            PRIMARY KEY (market_area, delivery_day, run_id, node_id, mtu_index),
            FOREIGN KEY (market_area, delivery_day, run_id)
                REFERENCES auction_runs (market_area, delivery_day, run_id) ON DELETE CASCADE
        );
        CREATE TABLE schedule_decisions (
            plan_id        uuid PRIMARY KEY,
            revision       integer NOT NULL,
            vehicle_id     text NOT NULL,
            market_area    text NOT NULL,
            delivery_day   date NOT NULL,
            run_id         text NOT NULL,
            phase          smallint NOT NULL CHECK (phase IN (1, 2)),
            status         text NOT NULL CHECK (status IN ('accepted', 'rejected')),
            reasons        jsonb NOT NULL DEFAULT '[]',
            requested_kwh  double precision NOT NULL,
            accepted_kwh   double precision NOT NULL,
            coverage       double precision NOT NULL,
            cost_eur       double precision NOT NULL,
            event_id       uuid NOT NULL,
            occurred_at    timestamptz NOT NULL,
            allocations    jsonb NOT NULL DEFAULT '[]',
            stored_at      timestamptz NOT NULL DEFAULT now()
        );
        CREATE INDEX schedule_decisions_day_vehicle_idx
            ON schedule_decisions (delivery_day, vehicle_id);
        CREATE VIEW decision_allocations AS
            SELECT d.plan_id, a.charging_point_id, a.mtu_start, a.energy_kwh
            FROM schedule_decisions d,
                 jsonb_to_recordset(d.allocations)
                     AS a(charging_point_id text, mtu_start timestamptz,
                          energy_kwh double precision);
        CREATE TABLE consumed_offsets (
            consumer     text NOT NULL,
            topic        text NOT NULL,
            partition    integer NOT NULL,
            next_offset  bigint NOT NULL,
            updated_at   timestamptz NOT NULL DEFAULT now(),
            PRIMARY KEY (consumer, topic, partition)
        );
        CREATE TABLE consume_errors (
            id          bigserial PRIMARY KEY,
            consumer    text NOT NULL,
            topic       text NOT NULL,
            partition   integer NOT NULL,
            "offset"    bigint NOT NULL,
            reasons     jsonb NOT NULL,
            value       bytea,
            stored_at   timestamptz NOT NULL DEFAULT now(),
            UNIQUE (consumer, topic, partition, "offset")
        )
        """
    )
    op.execute(ISO_LOCAL)  # one statement with a body: not through execute_script


def downgrade() -> None:
    op.execute("DROP FUNCTION iso_local(timestamptz, text)")
    execute_script(
        "DROP VIEW decision_allocations; "
        "DROP TABLE consume_errors, consumed_offsets, schedule_decisions, "
        "auction_node_results, auction_runs, plan_stops, plans"
    )
