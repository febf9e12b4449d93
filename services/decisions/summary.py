"""Day summary for the operator panel: per (area, day) totals, energy per MTU vs capacity."""

from __future__ import annotations

import json
from datetime import date
from typing import Any

import asyncpg

from services.decisions.queries import local

RUNS = """
SELECT run_id, phase, fallback, what_if, mtu_minutes, mtu_starts, prices_eur_mwh, welfare_eur,
       total_requested_kwh, total_accepted_kwh, coverage, plans_total, plans_accepted,
       aggregate::text AS aggregate, occurred_at
FROM auction_runs WHERE market_area = $1 AND delivery_day = $2
ORDER BY what_if, phase DESC, occurred_at DESC, run_id
"""
NODES = """
SELECT r.node_id, n.capacity_kw, array_agg(r.energy_kwh ORDER BY r.mtu_index) AS energy_kwh,
       array_agg(r.price_eur_mwh ORDER BY r.mtu_index) AS price_eur_mwh,
       array_agg(r.congestion_eur_mwh ORDER BY r.mtu_index) AS congestion_eur_mwh
FROM auction_node_results r LEFT JOIN nodes n ON n.id = r.node_id
WHERE r.market_area = $1 AND r.delivery_day = $2 AND r.run_id = $3
GROUP BY r.node_id, n.capacity_kw ORDER BY r.node_id
"""
PLANS = """
SELECT count(*) FILTER (WHERE status = 'submitted') AS submitted,
       count(*) FILTER (WHERE status = 'cancelled') AS cancelled,
       count(DISTINCT vehicle_id) FILTER (WHERE status = 'submitted') AS vehicles,
       coalesce(sum(requested_kwh) FILTER (WHERE status = 'submitted'), 0) AS requested_kwh
FROM plans WHERE market_area = $1 AND delivery_day = $2
"""
DECISIONS = """
SELECT count(*) FILTER (WHERE status = 'accepted') AS accepted,
       count(*) FILTER (WHERE status = 'rejected') AS rejected,
       coalesce(sum(requested_kwh), 0) AS requested_kwh,
       coalesce(sum(accepted_kwh), 0) AS accepted_kwh,
       coalesce(sum(cost_eur), 0) AS cost_eur
FROM schedule_decisions WHERE market_area = $1 AND delivery_day = $2
"""


async def day_summary(pool: asyncpg.Pool, area: str, day: date) -> dict[str, Any] | None:
    """The summary, or None when nothing at all is known about (area, day)."""
    async with pool.acquire() as conn:
        tz = await conn.fetchval("SELECT timezone FROM market_areas WHERE id = $1", area) or "UTC"
        runs = await conn.fetch(RUNS, area, day)
        plans = await conn.fetchrow(PLANS, area, day)
        decisions = await conn.fetchrow(DECISIONS, area, day)
        current = next((r for r in runs if not r["what_if"]), None)
        nodes = await conn.fetch(NODES, area, day, current["run_id"]) if current else []
    assert plans is not None and decisions is not None
    if (
        not runs
        and not plans["submitted"]
        and not plans["cancelled"]
        and not (decisions["accepted"] or decisions["rejected"])
    ):
        return None
    return {
        "market_area": area,
        "delivery_day": day.isoformat(),
        "timezone": tz,
        "plans": dict(plans),
        "decisions": dict(decisions),
        "run": _run(current, nodes, tz) if current else None,
        "runs": [
            {"run_id": r["run_id"], "phase": r["phase"], "fallback": r["fallback"],
             "what_if": r["what_if"], "welfare_eur": r["welfare_eur"],
             "coverage": r["coverage"], "occurred_at": local(r["occurred_at"], tz)}
            for r in runs
        ],
    }  # fmt: skip


def _run(run: asyncpg.Record, nodes: list[asyncpg.Record], tz: str) -> dict[str, Any]:
    hours = run["mtu_minutes"] / 60
    return {
        "run_id": run["run_id"], "phase": run["phase"], "fallback": run["fallback"],
        "occurred_at": local(run["occurred_at"], tz), "mtu_minutes": run["mtu_minutes"],
        "welfare_eur": run["welfare_eur"], "total_requested_kwh": run["total_requested_kwh"],
        "total_accepted_kwh": run["total_accepted_kwh"], "coverage": run["coverage"],
        "plans_total": run["plans_total"], "plans_accepted": run["plans_accepted"],
        "mtu_starts": [local(t, tz) for t in run["mtu_starts"]],
        "prices_eur_mwh": list(run["prices_eur_mwh"]),
        "aggregate": json.loads(run["aggregate"]) if run["aggregate"] else None,
        "energy_kwh": [sum(v) for v in zip(*(n["energy_kwh"] for n in nodes), strict=True)]
        if nodes else [0.0] * len(run["mtu_starts"]),
        "nodes": [
            {"node_id": n["node_id"], "capacity_kw": n["capacity_kw"],
             # capacity per MTU in energy, comparable with energy_kwh (None: node unknown)
             "capacity_kwh": n["capacity_kw"] * hours if n["capacity_kw"] is not None else None,
             "energy_kwh": list(n["energy_kwh"]), "price_eur_mwh": list(n["price_eur_mwh"]),
             "congestion_eur_mwh": list(n["congestion_eur_mwh"])}
            for n in nodes
        ],
    }  # fmt: skip
