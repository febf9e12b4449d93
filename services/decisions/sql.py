"""SQL of the write path. Staging tables are per connection and emptied at each commit.

Every upsert has a `WHERE (new order) > (stored order)` guard, so an older or identical event
never overwrites a newer row; the ids of the rows actually applied go to `stage_applied*`
so that their child rows (stops) are replaced and nothing else is touched.
"""

from __future__ import annotations

STAGING_TABLES = (
    "CREATE TEMP TABLE IF NOT EXISTS stage_decisions "
    "(LIKE schedule_decisions INCLUDING DEFAULTS) ON COMMIT DELETE ROWS",
    "CREATE TEMP TABLE IF NOT EXISTS stage_plans (LIKE plans INCLUDING DEFAULTS) "
    "ON COMMIT DELETE ROWS",
    "CREATE TEMP TABLE IF NOT EXISTS stage_stops (LIKE plan_stops) ON COMMIT DELETE ROWS",
    "CREATE TEMP TABLE IF NOT EXISTS stage_applied_plans (plan_id uuid PRIMARY KEY, "
    "status text NOT NULL) ON COMMIT DELETE ROWS",
)

STAGING = ("stage_decisions", "stage_plans", "stage_stops", "stage_applied_plans")

_DECISION_SET = ", ".join(
    f"{c} = EXCLUDED.{c}"
    for c in (
        "revision", "vehicle_id", "market_area", "delivery_day", "run_id", "phase", "status",
        "reasons", "requested_kwh", "accepted_kwh", "coverage", "cost_eur", "event_id",
        "occurred_at", "allocations",
    )
)  # fmt: skip

# The allocations are a column of the decision (jsonb), so one upsert replaces a
# decision with all its allocations; there are no child rows to delete and insert.
UPSERT_DECISIONS = f"""
INSERT INTO schedule_decisions AS d
    (plan_id, revision, vehicle_id, market_area, delivery_day, run_id, phase, status,
     reasons, requested_kwh, accepted_kwh, coverage, cost_eur, event_id, occurred_at,
     allocations)
SELECT plan_id, revision, vehicle_id, market_area, delivery_day, run_id, phase, status,
       reasons, requested_kwh, accepted_kwh, coverage, cost_eur, event_id, occurred_at,
       allocations
FROM stage_decisions
ON CONFLICT (plan_id) DO UPDATE SET {_DECISION_SET}, stored_at = now()
WHERE (EXCLUDED.revision, EXCLUDED.phase, EXCLUDED.occurred_at, EXCLUDED.event_id)
    > (d.revision, d.phase, d.occurred_at, d.event_id)
"""

_PLAN_SET = ", ".join(
    f"{c} = EXCLUDED.{c}"
    for c in (
        "revision", "vehicle_id", "market_area", "delivery_day", "status", "event_id",
        "occurred_at",
    )
)  # fmt: skip

# A cancellation keeps the submitted bid and initial SoC (COALESCE / CASE below).
UPSERT_PLANS = f"""
WITH up AS (
    INSERT INTO plans AS p
        (plan_id, revision, vehicle_id, market_area, delivery_day, status, initial_soc_kwh,
         requested_kwh, bid, source, event_id, occurred_at)
    SELECT plan_id, revision, vehicle_id, market_area, delivery_day, status, initial_soc_kwh,
           requested_kwh, bid, source, event_id, occurred_at
    FROM stage_plans
    ON CONFLICT (plan_id) DO UPDATE SET {_PLAN_SET}, stored_at = now(),
        initial_soc_kwh = CASE WHEN EXCLUDED.status = 'cancelled' THEN p.initial_soc_kwh
                               ELSE EXCLUDED.initial_soc_kwh END,
        requested_kwh = CASE WHEN EXCLUDED.status = 'cancelled' THEN p.requested_kwh
                             ELSE EXCLUDED.requested_kwh END,
        bid = CASE WHEN EXCLUDED.status = 'cancelled' THEN p.bid ELSE EXCLUDED.bid END,
        source = COALESCE(EXCLUDED.source, p.source)
    WHERE (EXCLUDED.revision, EXCLUDED.status = 'cancelled')
        > (p.revision, p.status = 'cancelled')
    RETURNING plan_id, status
)
INSERT INTO stage_applied_plans SELECT plan_id, status FROM up
"""

DELETE_STOPS = (
    "DELETE FROM plan_stops s USING stage_applied_plans a "
    "WHERE s.plan_id = a.plan_id AND a.status = 'submitted'"
)
APPLY_STOPS = (
    "INSERT INTO plan_stops (plan_id, seq, charging_point_id, arrival, departure, trip_kwh_after) "
    "SELECT s.plan_id, s.seq, s.charging_point_id, s.arrival, s.departure, s.trip_kwh_after "
    "FROM stage_stops s JOIN stage_applied_plans a USING (plan_id) WHERE a.status = 'submitted'"
)

UPSERT_RUN = """
INSERT INTO auction_runs AS r
    (market_area, delivery_day, run_id, phase, fallback, what_if, mtu_minutes, mtu_starts,
     prices_eur_mwh, welfare_eur, total_requested_kwh, total_accepted_kwh, coverage,
     plans_total, plans_accepted, aggregate, event_id, occurred_at)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18)
ON CONFLICT (market_area, delivery_day, run_id) DO UPDATE SET
    phase = EXCLUDED.phase, fallback = EXCLUDED.fallback, what_if = EXCLUDED.what_if,
    mtu_minutes = EXCLUDED.mtu_minutes, mtu_starts = EXCLUDED.mtu_starts,
    prices_eur_mwh = EXCLUDED.prices_eur_mwh, welfare_eur = EXCLUDED.welfare_eur,
    total_requested_kwh = EXCLUDED.total_requested_kwh,
    total_accepted_kwh = EXCLUDED.total_accepted_kwh, coverage = EXCLUDED.coverage,
    plans_total = EXCLUDED.plans_total, plans_accepted = EXCLUDED.plans_accepted,
    aggregate = EXCLUDED.aggregate, event_id = EXCLUDED.event_id,
    occurred_at = EXCLUDED.occurred_at, stored_at = now()
WHERE (EXCLUDED.occurred_at, EXCLUDED.event_id) > (r.occurred_at, r.event_id)
RETURNING true
"""

UPSERT_NODE_RESULT = """
INSERT INTO auction_node_results
    (market_area, delivery_day, run_id, node_id, mtu_index, mtu_start, energy_kwh,
     price_eur_mwh, congestion_eur_mwh)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
ON CONFLICT (market_area, delivery_day, run_id, node_id, mtu_index) DO UPDATE SET
    mtu_start = EXCLUDED.mtu_start, energy_kwh = EXCLUDED.energy_kwh,
    price_eur_mwh = EXCLUDED.price_eur_mwh, congestion_eur_mwh = EXCLUDED.congestion_eur_mwh
"""

# The partitions of a batch: $2 topics and $3 partitions, aligned arrays.
LOCK_OFFSETS = """
SELECT o.topic, o.partition, o.next_offset FROM consumed_offsets o
JOIN unnest($2::text[], $3::int[]) AS k(topic, partition)
    ON k.topic = o.topic AND k.partition = o.partition
WHERE o.consumer = $1
ORDER BY o.topic, o.partition
FOR UPDATE OF o
"""

UPSERT_OFFSET = """
INSERT INTO consumed_offsets (consumer, topic, partition, next_offset) VALUES ($1, $2, $3, $4)
ON CONFLICT (consumer, topic, partition) DO UPDATE
SET next_offset = GREATEST(consumed_offsets.next_offset, EXCLUDED.next_offset), updated_at = now()
"""
