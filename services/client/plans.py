"""The driver's short plan file -> a chargeflow plan; decisions -> charging windows (pure).

The short file (YAML or JSON)::

    vehicle: V001
    day: 2026-11-26          # optional: the next delivery day open for plans
    area: PL                 # optional when the service has one market area
    soc_kwh: 12              # optional: the charge on arrival at the first stop
    stops:
      - point: P-HOME-01
        arrive: "00:00"      # a wall time on the day (24:00 = the end of the day),
        leave: "07:00"       # or ISO 8601 with an offset
        trip_kwh: 6          # the drive after leaving (optional)
    bid:                     # optional: without it, the operator's default bid
      - {kwh: 10, eur_mwh: 400}

A file with ``plan_id`` (a whole chargeflow plan) or ``electric_vehicle`` (the original
system's format) is sent as it is.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

CLIENT_NAMESPACE = uuid.uuid5(uuid.NAMESPACE_URL, "urn:chargeflow:client-plan")
_WALL = re.compile(r"^([01]?\d|2[0-4]):([0-5]\d)$")
SHORT_KEYS = {"vehicle", "day", "area", "soc_kwh", "stops", "bid"}


class PlanFileError(ValueError):
    """The file cannot be read as a plan: the message says where and why."""


def kind_of(document: object) -> str:
    """ "original", "plan" (sent as is) or "short"."""
    if not isinstance(document, dict):
        raise PlanFileError("the file must hold one object (a mapping), not a list or a value")
    if "electric_vehicle" in document or "point_schedules" in document:
        return "original"
    if "plan_id" in document:
        return "plan"
    return "short"


def plan_id_for(vehicle: str, area: str, day: date) -> uuid.UUID:
    """The same vehicle, area and day: the same plan (a new submission is a new revision)."""
    return uuid.uuid5(CLIENT_NAMESPACE, f"{vehicle}/{area}/{day.isoformat()}")


def _instant(value: object, day: date, tz: ZoneInfo, where: str) -> str:
    text = str(value).strip()
    wall = _WALL.match(text)
    if wall:
        hours, minutes = int(wall[1]), int(wall[2])
        if hours == 24 and minutes:
            raise PlanFileError(f"{where}: {text} is past the end of the day (24:00)")
        if hours == 24:  # the end of the day: the next local midnight
            return datetime.combine(day + timedelta(days=1), time(0), tzinfo=tz).isoformat()
        return datetime.combine(day, time(hours, minutes), tzinfo=tz).isoformat()
    try:
        instant = datetime.fromisoformat(text)
    except ValueError as exc:
        raise PlanFileError(f"{where}: {text!r} is neither HH:MM nor ISO 8601") from exc
    if instant.tzinfo is None:
        raise PlanFileError(f"{where}: {text!r} needs an offset (or write HH:MM)")
    return instant.isoformat()


def _number(value: object, where: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise PlanFileError(f"{where}: a number is needed, got {value!r}")
    return float(value)


def short_plan(
    document: Mapping[str, Any], area: str, timezone: str, day: date, revision: int
) -> dict[str, Any]:
    """The chargeflow plan of a short file (``area``, ``day``: the file's or the defaults)."""
    unknown = sorted(set(document) - SHORT_KEYS)
    if unknown:
        raise PlanFileError(
            f"unknown keys {', '.join(unknown)}; known: {', '.join(sorted(SHORT_KEYS))}"
        )
    vehicle = document.get("vehicle")
    if not isinstance(vehicle, str | int) or isinstance(vehicle, bool):
        raise PlanFileError("vehicle: the vehicle's id is needed")
    stops = document.get("stops")
    if not isinstance(stops, list) or not stops:
        raise PlanFileError("stops: a list of at least one stop is needed")
    tz = ZoneInfo(timezone)
    plan: dict[str, Any] = {
        "plan_id": str(plan_id_for(str(vehicle), area, day)),
        "revision": revision,
        "vehicle_id": str(vehicle),
        "market_area": area,
        "delivery_day": day.isoformat(),
        "stops": [_stop(s, i, day, tz) for i, s in enumerate(stops)],
    }
    if document.get("soc_kwh") is not None:
        plan["initial_soc_kwh"] = _number(document["soc_kwh"], "soc_kwh")
    if document.get("bid") is not None:
        plan["bid"] = [_step(s, i) for i, s in enumerate(_list(document["bid"], "bid"))]
    return plan


def _list(value: object, where: str) -> list[Any]:
    if not isinstance(value, list):
        raise PlanFileError(f"{where}: a list is needed")
    return value


def _stop(stop: object, i: int, day: date, tz: ZoneInfo) -> dict[str, Any]:
    where = f"stops[{i}]"
    if not isinstance(stop, dict) or not {"point", "arrive", "leave"} <= set(stop):
        raise PlanFileError(f"{where}: point, arrive and leave are needed")
    return {
        "charging_point_id": str(stop["point"]),
        "arrival": _instant(stop["arrive"], day, tz, f"{where}.arrive"),
        "departure": _instant(stop["leave"], day, tz, f"{where}.leave"),
        "trip_kwh_after": _number(stop.get("trip_kwh", 0), f"{where}.trip_kwh"),
    }


def _step(step: object, i: int) -> dict[str, float]:
    if not isinstance(step, dict) or not {"kwh", "eur_mwh"} <= set(step):
        raise PlanFileError(f"bid[{i}]: kwh and eur_mwh are needed")
    return {
        "energy_kwh": _number(step["kwh"], f"bid[{i}].kwh"),
        "price_eur_mwh": _number(step["eur_mwh"], f"bid[{i}].eur_mwh"),
    }


@dataclass(frozen=True)
class Window:
    point: str
    start: datetime
    end: datetime
    energy_kwh: float


def windows(decision: Mapping[str, Any], mtu_minutes: int) -> list[Window]:
    """The decision's charging windows per point: the service's own when it sends them
    (``windows``), else merged from consecutive per-MTU allocations."""
    given = decision.get("windows") or decision.get("charging_windows")
    if isinstance(given, list) and given:
        return sorted(
            (
                Window(
                    str(w["charging_point_id"]),
                    datetime.fromisoformat(w["start"]),
                    datetime.fromisoformat(w["end"]),
                    float(w["energy_kwh"]),
                )
                for w in given
            ),
            key=lambda w: (w.start, w.point),
        )
    step = timedelta(minutes=mtu_minutes)
    by_point: dict[str, list[tuple[datetime, float]]] = {}
    for a in decision.get("allocations") or []:
        if a["energy_kwh"] > 0:
            start = datetime.fromisoformat(a["mtu_start"])
            by_point.setdefault(a["charging_point_id"], []).append((start, a["energy_kwh"]))
    out: list[Window] = []
    for point, slots in by_point.items():
        for start, energy in sorted(slots):
            last = out[-1] if out and out[-1].point == point else None
            if last is not None and last.end == start:
                out[-1] = Window(point, last.start, start + step, last.energy_kwh + energy)
            else:
                out.append(Window(point, start, start + step, energy))
    return sorted(out, key=lambda w: (w.start, w.point))


def table(rows: Sequence[Sequence[str]]) -> str:
    """Columns left-aligned, two spaces apart."""
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    return "\n".join(
        "  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip() for r in rows
    )
