"""Small builders shared by the schema tests: a registry context and a valid plan."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from schemas import ChargingPlan, ChargingPoint, Node, ValidationContext, Vehicle

DAY = date(2026, 11, 25)
PLAN_ID = "7d9f0a52-7a3c-4d8e-9a57-0c3a2f8f3e11"


def context(**overrides: Any) -> ValidationContext:
    """V1 (60 kWh, 11 kW), P1 22 kW and P2 3.7 kW on N1 in PL, P3 inactive, P4 in DE."""
    kwargs: dict[str, Any] = {
        "vehicles": [Vehicle(id="V1", battery_kwh=60.0, max_power_kw=11.0)],
        "nodes": [
            Node(id="N1", capacity_kw=400.0),
            Node(id="N2", capacity_kw=400.0, market_area="DE"),
        ],
        "charging_points": [
            ChargingPoint(id="P1", node_id="N1", max_power_kw=22.0),
            ChargingPoint(id="P2", node_id="N1", max_power_kw=3.7),
            ChargingPoint(id="P3", node_id="N1", max_power_kw=22.0, active=False),
            ChargingPoint(id="P4", node_id="N2", max_power_kw=22.0),
        ],
        "market_area": "PL",
    }
    kwargs.update(overrides)
    return ValidationContext.build(**kwargs)


def stop(point: str, arrival: str, departure: str, trip: float = 0.0) -> dict[str, Any]:
    return {
        "charging_point_id": point,
        "arrival": arrival,
        "departure": departure,
        "trip_kwh_after": trip,
    }


def plan_dict(**overrides: Any) -> dict[str, Any]:
    """The DESIGN §6 example plan: 08:00–16:30 at P1, bids 10 kWh @ 400 and 20 kWh @ 150."""
    raw: dict[str, Any] = {
        "plan_id": PLAN_ID,
        "revision": 1,
        "vehicle_id": "V1",
        "market_area": "PL",
        "delivery_day": DAY.isoformat(),
        "initial_soc_kwh": 12.0,
        "stops": [stop("P1", "2026-11-25T08:00:00+01:00", "2026-11-25T16:30:00+01:00", 6.0)],
        "bid": [
            {"energy_kwh": 10.0, "price_eur_mwh": 400.0},
            {"energy_kwh": 20.0, "price_eur_mwh": 150.0},
        ],
    }
    raw.update(overrides)
    return raw


def plan(**overrides: Any) -> ChargingPlan:
    return ChargingPlan.model_validate(plan_dict(**overrides))


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)
