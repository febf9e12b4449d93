"""Decision rows as the APIs show them: chargeflow's items (with charging windows) and the
original system's day decisions. The SQL below gives every decision row what the pure
conversions (services/decisions/windows.py) need; this module only adapts rows to them.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date, datetime, timedelta
from typing import Any

import orjson

from schemas.market_day import zone
from services.decisions.windows import (
    DayDecision,
    Window,
    charging_windows,
    local,
    original_decision,
    windows_json,
)

# Columns of a decision row `d` (schedule_decisions) for the conversions, with JOINS below:
# the area's timezone (UTC when the area is unknown, as the allocations were always shown),
# the MTU length (the run's, else the area's, else 60 min), the allocations as three
# aligned arrays by MTU and point (asyncpg decodes them without JSON), and the plan's stops
# when the service holds the decided revision of the plan. The allocations' JSON is written
# here, not by PostgreSQL: its iso_local() costs ≈ 25 µs per allocation (a SQL function
# that is not inlined), Python's isoformat ≈ 1.5 µs (a page of 30 decisions of 19
# allocations: 15 ms of PostgreSQL against ≈ 1 ms here).
INPUT_COLUMNS = """
    coalesce(a.timezone, 'UTC') AS tz,
    coalesce(r.mtu_minutes, a.mtu_minutes, 60) AS mtu_minutes,
    al.points, al.starts, al.energies, st.stop_points, st.arrivals, st.departures"""
INPUT_JOINS = """
    LEFT JOIN market_areas a ON a.id = d.market_area
    LEFT JOIN auction_runs r ON (r.market_area, r.delivery_day, r.run_id)
                              = (d.market_area, d.delivery_day, d.run_id)
    LEFT JOIN LATERAL (
        SELECT array_agg(x.charging_point_id ORDER BY x.mtu_start, x.charging_point_id) AS points,
               array_agg(x.mtu_start ORDER BY x.mtu_start, x.charging_point_id) AS starts,
               array_agg(x.energy_kwh ORDER BY x.mtu_start, x.charging_point_id) AS energies
        FROM jsonb_to_recordset(d.allocations)
            AS x(charging_point_id text, mtu_start timestamptz, energy_kwh double precision)
    ) al ON true
    LEFT JOIN LATERAL (
        SELECT array_agg(s.charging_point_id ORDER BY s.seq) AS stop_points,
               array_agg(s.arrival ORDER BY s.seq) AS arrivals,
               array_agg(s.departure ORDER BY s.seq) AS departures
        FROM plans p JOIN plan_stops s ON s.plan_id = p.plan_id
        WHERE p.plan_id = d.plan_id AND p.revision = d.revision
    ) st ON true"""


def _allocations(row: Mapping[str, Any]) -> Iterable[tuple[str, datetime, float]]:
    """(point, MTU start, kWh) of a decision row, by MTU and point (aligned arrays)."""
    return zip(row["points"] or (), row["starts"] or (), row["energies"] or (), strict=True)


def windows_of(row: Mapping[str, Any]) -> list[Window]:
    """The charging windows of a decision row (INPUT_COLUMNS)."""
    if not row["points"]:
        return []
    # aligned arrays of one query: equal lengths
    stops = zip(
        row["stop_points"] or (), row["arrivals"] or (), row["departures"] or (), strict=True
    )
    return charging_windows(
        _allocations(row),
        timedelta(minutes=int(row["mtu_minutes"])),
        stops,
    )


def decision_item(row: Mapping[str, Any]) -> dict[str, Any]:
    """One decided plan of chargeflow's list: its fields, allocations and windows."""
    tz = zone(row["tz"])
    return {
        "plan_id": str(row["plan_id"]),  # asyncpg's UUID type is not orjson's
        "revision": row["revision"],
        "vehicle_id": row["vehicle_id"],
        "market_area": row["market_area"],
        "delivery_day": row["delivery_day"],
        "status": row["status"],
        "reasons": orjson.Fragment(row["reasons"]),
        "requested_kwh": row["requested_kwh"],
        "accepted_kwh": row["accepted_kwh"],
        "coverage": row["coverage"],
        "cost_eur": row["cost_eur"],
        "run_id": row["run_id"],
        "phase": row["phase"],
        "decided_at": local(row["occurred_at"], tz),
        "allocations": [
            {"charging_point_id": p, "mtu_start": local(t, tz), "energy_kwh": e}
            for p, t, e in _allocations(row)
        ],
        "windows": windows_json(windows_of(row), tz),
    }


def undecided_item(row: Mapping[str, Any]) -> dict[str, Any]:
    """A plan seen on charging-plans without a decision yet: pending, or cancelled."""
    return {
        "plan_id": str(row["plan_id"]),  # asyncpg's UUID type is not orjson's
        "revision": row["revision"],
        "vehicle_id": row["vehicle_id"],
        "market_area": row["market_area"],
        "delivery_day": row["delivery_day"],
        "status": "pending" if row["status"] == "submitted" else "cancelled",
        "reasons": [],
        "requested_kwh": row["requested_kwh"],
        "accepted_kwh": 0.0,
        "coverage": 0.0,
        "cost_eur": 0.0,
        "run_id": None,
        "phase": None,
        "decided_at": None,
        "allocations": [],
        "windows": [],
    }


def original_days(rows: Iterable[Mapping[str, Any]]) -> list[tuple[date, dict[str, Any]]]:
    """The original system's decision per delivery day, from a vehicle's decision rows
    (several plans of one day make one decision), by day."""
    days: dict[date, list[Mapping[str, Any]]] = {}
    for row in rows:
        days.setdefault(row["delivery_day"], []).append(row)
    out = []
    for day in sorted(days):
        decided = [
            DayDecision(r["requested_kwh"], r["accepted_kwh"], windows_of(r)) for r in days[day]
        ]
        out.append((day, original_decision(decided, zone(days[day][0]["tz"]))))
    return out
