"""The auction model of DESIGN §6 as flat numpy arrays, shared by the flow and the LP.

This only extracts data (indices, capacities in kWh, prices); it encodes no formulation.
`graph.py` turns it into a min-cost-flow network, `lp.py` into a linear programme.

Conventions (docs/auction.md):
- A missing initial_soc_kwh counts as 0 kWh: the bid is then the only limit on energy
  besides the battery capacity itself.
- An inactive charging point delivers nothing (its stop-MTU pairs get no capacity).
- Phase 1 ignores awarded_mwh; phase 2 caps total energy per MTU by it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from auction.mtu import DayGrid, day_grid, stop_mtu_overlaps
from schemas.fastinstance import InstanceLike

F = npt.NDArray[np.float64]
I = npt.NDArray[np.int64]  # noqa: E741 - index arrays


@dataclass(frozen=True)
class Problem:
    grid: DayGrid
    price: F  # (T,) market price EUR/MWh
    award_kwh: F | None  # (T,) phase 2 cap on total energy per MTU
    node_cap_kwh: F  # (nodes, T) node capacity x MTU hours
    point_node: I  # (points,) node index of each point
    point_cap_kwh: F  # (points,) point power x MTU hours
    n_plans: int
    battery_kwh: F  # (plans,)
    soc0_kwh: F  # (plans,)
    stop_plan: I  # (stops,) plans' stops are contiguous and in order
    stop_point: I  # (stops,)
    stop_trip_kwh: F  # (stops,) trip_kwh_after
    x_stop: I  # (pairs,) stop-MTU pairs: the decision variables of the LP
    x_t: I
    x_cap_kwh: F  # min(vehicle, point power) x overlap hours
    step_plan: I  # (steps,) bid steps in plan order, prices non-increasing per plan
    step_kwh: F
    step_price: F

    @property
    def T(self) -> int:
        return self.grid.count

    @property
    def n_stops(self) -> int:
        return len(self.stop_plan)

    @property
    def x_point(self) -> I:
        return self.stop_point[self.x_stop]

    @property
    def x_node(self) -> I:
        return self.point_node[self.x_point]

    @property
    def x_plan(self) -> I:
        return self.stop_plan[self.x_stop]

    def stop_first(self) -> npt.NDArray[np.bool_]:
        """True for the first stop of each plan."""
        first = np.ones(self.n_stops, dtype=bool)
        first[1:] = self.stop_plan[1:] != self.stop_plan[:-1]
        return first

    def stop_last(self) -> npt.NDArray[np.bool_]:
        last = np.ones(self.n_stops, dtype=bool)
        last[:-1] = self.stop_plan[1:] != self.stop_plan[:-1]
        return last


def build_problem(inst: InstanceLike, phase: int) -> Problem:
    """Arrays of a validated instance (run check_instance first)."""
    grid = day_grid(inst.delivery_day, inst.timezone, inst.mtu_minutes)
    T, h = grid.count, grid.mtu_hours
    node_index = {n.id: i for i, n in enumerate(inst.nodes)}
    node_cap = (
        np.array(
            [
                n.capacity_kw_by_mtu if n.capacity_kw_by_mtu is not None else [n.capacity_kw] * T
                for n in inst.nodes
            ],
            dtype=np.float64,
        ).reshape(len(inst.nodes), T)
        * h
    )
    point_index = {p.id: i for i, p in enumerate(inst.charging_points)}
    point_node = np.array([node_index[p.node_id] for p in inst.charging_points], dtype=np.int64)
    point_kw = np.array(
        [p.max_power_kw if p.active else 0.0 for p in inst.charging_points], dtype=np.float64
    )
    vehicles = {v.id: v for v in inst.vehicles}

    # One pass over plans and stops (not over arcs) to gather the raw columns.
    plan_of_stop: list[int] = []
    point_of_stop: list[int] = []
    arr: list[float] = []
    dep: list[float] = []
    trip: list[float] = []
    vkw: list[float] = []
    step_plan: list[int] = []
    step_kwh: list[float] = []
    step_price: list[float] = []
    battery = np.empty(len(inst.plans))
    soc0 = np.empty(len(inst.plans))
    for i, plan in enumerate(inst.plans):
        v = vehicles[plan.vehicle_id]
        battery[i] = v.battery_kwh
        soc0[i] = plan.initial_soc_kwh or 0.0
        for s in plan.stops:
            plan_of_stop.append(i)
            point_of_stop.append(point_index[s.charging_point_id])
            arr.append(grid.seconds(s.arrival))
            dep.append(grid.seconds(s.departure))
            trip.append(s.trip_kwh_after)
            vkw.append(v.max_power_kw)
        for b in plan.bid:
            step_plan.append(i)
            step_kwh.append(b.energy_kwh)
            step_price.append(b.price_eur_mwh)

    stop_point = np.array(point_of_stop, dtype=np.int64)
    x_stop, x_t, hours = stop_mtu_overlaps(
        np.array(arr, dtype=np.float64), np.array(dep, dtype=np.float64), grid.mtu_seconds, T
    )
    power = np.minimum(np.array(vkw, dtype=np.float64), point_kw[stop_point])
    x_cap = power[x_stop] * hours
    keep = x_cap > 0
    award = None
    if phase == 2 and inst.awarded_mwh is not None:
        award = np.array(inst.awarded_mwh, dtype=np.float64) * 1000.0
    return Problem(
        grid=grid,
        price=np.array(inst.prices_eur_mwh, dtype=np.float64),
        award_kwh=award,
        node_cap_kwh=node_cap,
        point_node=point_node,
        point_cap_kwh=point_kw * h,
        n_plans=len(inst.plans),
        battery_kwh=battery,
        soc0_kwh=soc0,
        stop_plan=np.array(plan_of_stop, dtype=np.int64),
        stop_point=stop_point,
        stop_trip_kwh=np.array(trip, dtype=np.float64),
        x_stop=x_stop[keep],
        x_t=x_t[keep],
        x_cap_kwh=x_cap[keep],
        step_plan=np.array(step_plan, dtype=np.int64),
        step_kwh=np.array(step_kwh, dtype=np.float64),
        step_price=np.array(step_price, dtype=np.float64),
    )
