"""A decision as OCPP 2.0.1 `ChargingProfile`s, one per charging point (pure functions).

Each profile is a TxProfile with an Absolute schedule in W: one period per MTU from the
first to the last MTU with energy at that point (MTUs without energy in between get limit
0), `startSchedule` = first MTU start (UTC), `duration` = the span. The limit of a period is
the MTU's energy spread evenly over the MTU: W = kWh × 1000 / hours. OCPP allows one
decimal in a limit, so W is rounded to 0.1 (≤ 0.05 W × MTU hours of energy error per MTU).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID


def profile_id(plan_id: UUID, charging_point_id: str) -> int:
    """A stable positive int32 per (plan, point): the CSMS replaces it on a new revision."""
    digest = hashlib.sha256(f"{plan_id}/{charging_point_id}".encode()).digest()
    return int.from_bytes(digest[:4], "big") & 0x7FFFFFFF or 1


def _utc(at: datetime) -> str:
    return at.astimezone(UTC).isoformat().replace("+00:00", "Z")


def charging_profile(
    plan_id: UUID,
    charging_point_id: str,
    energies: dict[datetime, float],
    mtu: timedelta,
    stack_level: int = 0,
) -> dict[str, Any]:
    """The ChargingProfile of one point; `energies` maps MTU start -> kWh (non-empty)."""
    starts = sorted(energies, key=lambda t: t.astimezone(UTC))
    first, last = starts[0].astimezone(UTC), starts[-1].astimezone(UTC)
    hours = mtu.total_seconds() / 3600
    n = int((last - first) / mtu) + 1
    by_start = {t.astimezone(UTC): e for t, e in energies.items()}
    periods = []
    for i in range(n):
        kwh = by_start.get(first + i * mtu, 0.0)
        periods.append(
            {"startPeriod": int((i * mtu).total_seconds()), "limit": round(kwh * 1000 / hours, 1)}
        )
    end = first + n * mtu
    pid = profile_id(plan_id, charging_point_id)
    return {
        "id": pid,
        "stackLevel": stack_level,
        "chargingProfilePurpose": "TxProfile",
        "chargingProfileKind": "Absolute",
        "validFrom": _utc(first),
        "validTo": _utc(end),
        "chargingSchedule": [
            {
                "id": pid,
                "startSchedule": _utc(first),
                "duration": int((end - first).total_seconds()),
                "chargingRateUnit": "W",
                "chargingSchedulePeriod": periods,
            }
        ],
    }


def profiles(
    plan_id: UUID, allocations: Iterable[tuple[str, datetime, float]], mtu: timedelta
) -> list[dict[str, Any]]:
    """One entry per charging point with energy: the point, its kWh and its ChargingProfile."""
    per_point: dict[str, dict[datetime, float]] = {}
    for point, start, kwh in allocations:
        if kwh > 0:
            slots = per_point.setdefault(point, {})
            slots[start] = slots.get(start, 0.0) + kwh
    return [
        {
            "charging_point_id": point,
            "energy_kwh": sum(slots.values()),
            "charging_profile": charging_profile(plan_id, point, slots, mtu),
        }
        for point, slots in sorted(per_point.items())
    ]


def profile_energy_kwh(profile: dict[str, Any]) -> float:
    """Energy a profile delivers at its limits: Σ W × period seconds (for checks and tests)."""
    schedule = profile["chargingSchedule"][0]
    periods = schedule["chargingSchedulePeriod"]
    total = 0.0
    for i, p in enumerate(periods):
        end = periods[i + 1]["startPeriod"] if i + 1 < len(periods) else schedule["duration"]
        total += p["limit"] * (end - p["startPeriod"]) / 3600 / 1000
    return total
