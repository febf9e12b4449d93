"""A decision's per-MTU allocations as charging windows, and as the original system's
decision (coverage % and time ranges). Pure functions: no I/O, no framework, no clock.

A **charging window** is a maximal run of consecutive MTUs in which a plan has energy at one
charging point: it starts at the first MTU's start and ends at the last MTU's end, and its
energy is the sum of theirs. MTUs are consecutive when the next starts exactly one MTU
length after the previous one, compared as instants (UTC), so the hours around a DST change
(23- and 25-hour days, the repeated autumn hour) merge like any others.

An MTU's energy may be less than the point could deliver in the whole MTU (a *partial*
MTU): the window still covers the whole MTU. A window says *when* the vehicle may draw its
energy, not that it draws at full power throughout: the charger spreads each MTU's energy
over the MTU (the OCPP profile's limit is kWh / MTU hours). Where the plan's stop at that
point is known, the window is clipped to it: it never starts before the vehicle arrives nor
ends after it leaves (the auction gives an MTU only the energy its overlap with the stop
allows).

The original system's decision of a vehicle and day is ``{"coverage",
"schedule_decision_date_ranges"}``: coverage = 100 × accepted / requested kWh over the day's
decisions, and the windows of all of them, merged per charging point where they touch or
overlap, sorted by start.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, tzinfo
from typing import Any

# A window's energy is rounded to the mWh: sums of floats otherwise show 0.30000000000000004.
ENERGY_DECIMALS = 6
COVERAGE_DECIMALS = 2


@dataclass(frozen=True)
class Window:
    charging_point_id: str
    start: datetime
    end: datetime
    energy_kwh: float


@dataclass(frozen=True)
class DayDecision:
    """What the original decision is made of: one chargeflow decision's kWh and windows."""

    requested_kwh: float
    accepted_kwh: float
    windows: Sequence[Window]


Slot = tuple[str, datetime, float]  # (charging point, MTU start, kWh)
StopSpan = tuple[str, datetime, datetime]  # (charging point, arrival, departure)


def charging_windows(
    slots: Iterable[Slot], mtu: timedelta, stops: Iterable[StopSpan] = ()
) -> list[Window]:
    """The windows of one decision, sorted by start then point.

    ``slots`` are the allocations (MTUs without energy are ignored; a point and MTU given
    twice count once with their energies summed); ``mtu`` is the MTU length; ``stops`` are
    the plan's stops, when known, to clip each window to the stop it lies in.
    """
    if mtu <= timedelta(0):
        raise ValueError(f"the MTU length must be positive, got {mtu}")
    energy: dict[tuple[str, datetime], float] = {}
    for point, start, kwh in slots:
        if start.tzinfo is None:
            raise ValueError(f"naive MTU start {start.isoformat()} at {point}")
        if kwh > 0:
            key = (point, start.astimezone(UTC))
            energy[key] = energy.get(key, 0.0) + kwh
    runs: list[Window] = []
    for point, start in sorted(energy):
        kwh = energy[(point, start)]
        last = runs[-1] if runs else None
        if last is not None and last.charging_point_id == point and last.end == start:
            runs[-1] = Window(point, last.start, start + mtu, last.energy_kwh + kwh)
        else:
            runs.append(Window(point, start, start + mtu, kwh))
    spans = [(p, a.astimezone(UTC), d.astimezone(UTC)) for p, a, d in stops]
    windows = [_clipped(w, spans) for w in runs]
    return sorted(windows, key=lambda w: (w.start, w.charging_point_id, w.end))


def _clipped(window: Window, stops: list[tuple[str, datetime, datetime]]) -> Window:
    """The window within the stops at its point that overlap it (unchanged without any)."""
    overlapping = [
        (arrival, departure)
        for point, arrival, departure in stops
        if point == window.charging_point_id and arrival < window.end and departure > window.start
    ]
    energy = round(window.energy_kwh, ENERGY_DECIMALS)
    if not overlapping:
        return Window(window.charging_point_id, window.start, window.end, energy)
    start = max(window.start, min(a for a, _ in overlapping))
    end = min(window.end, max(d for _, d in overlapping))
    return Window(window.charging_point_id, start, end, energy)


def coverage_percent(decisions: Sequence[DayDecision]) -> float:
    """100 × accepted / requested kWh over the decisions (0 when nothing was requested)."""
    requested = sum(d.requested_kwh for d in decisions)
    if requested <= 0:
        return 0.0
    accepted = sum(d.accepted_kwh for d in decisions)
    return round(100 * accepted / requested, COVERAGE_DECIMALS)


def merged_ranges(windows: Iterable[Window]) -> list[tuple[datetime, datetime]]:
    """The windows' time ranges merged per charging point where they touch or overlap,
    sorted by start (then end); ranges of different points are never merged."""
    by_point: dict[str, list[tuple[datetime, datetime]]] = {}
    for w in windows:
        by_point.setdefault(w.charging_point_id, []).append(
            (w.start.astimezone(UTC), w.end.astimezone(UTC))
        )
    ranges: list[tuple[datetime, datetime]] = []
    for spans in by_point.values():
        spans.sort()
        merged = [spans[0]]
        for start, end in spans[1:]:
            first, last = merged[-1]
            if start <= last:
                merged[-1] = (first, max(last, end))
            else:
                merged.append((start, end))
        ranges.extend(merged)
    return sorted(ranges)


def local(at: datetime, tz: tzinfo) -> str:
    """ISO 8601 in the area's local offset, e.g. 2026-11-26T01:00:00+01:00."""
    return at.astimezone(tz).isoformat()


def windows_json(windows: Iterable[Window], tz: tzinfo) -> list[dict[str, Any]]:
    """Windows as chargeflow's API shows them: {charging_point_id, start, end, energy_kwh}."""
    return [
        {
            "charging_point_id": w.charging_point_id,
            "start": local(w.start, tz),
            "end": local(w.end, tz),
            "energy_kwh": w.energy_kwh,
        }
        for w in windows
    ]


def original_decision(decisions: Sequence[DayDecision], tz: tzinfo) -> dict[str, Any]:
    """The original system's decision of one vehicle and day, from that day's decisions."""
    ranges = merged_ranges(w for d in decisions for w in d.windows)
    return {
        "coverage": coverage_percent(decisions),
        "schedule_decision_date_ranges": [
            {"start_time": local(start, tz), "end_time": local(end, tz)} for start, end in ranges
        ],
    }
