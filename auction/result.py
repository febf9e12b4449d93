"""Turn the numeric outcome of a clearing run into the §6 result model.

Per-plan figures (requested, accepted, cost, reasons) are computed with bincount over the
arrays; only the final assembly of the JSON objects walks plans and their allocations.
One document, two uses: the aggregator validates it into the model (`to_result`), the
offline CLI writes it as JSON straight away (`result_json`).
"""

from __future__ import annotations

from datetime import timedelta, timezone
from typing import Any

import numpy as np
import numpy.typing as npt
import pydantic_core

from auction.outcome import Cleared
from schemas.auction import AuctionResult, PlanStatus
from schemas.fastinstance import InstanceLike

E = 6  # decimals of energies (kWh), costs and welfare (EUR) in the JSON
REASONS = (
    "price",
    "node_capacity",
    "point_capacity",
    "awarded_quantity",
    "battery",
    "charging_time",
)


def _round(a: npt.NDArray[Any], d: int = E) -> list[float]:
    return [float(v) for v in np.round(a, d) + 0.0]  # + 0.0 turns -0.0 into 0.0


def _reasons(cl: Cleared, short: npt.NDArray[np.bool_]) -> list[list[str]]:
    """Why plans got less than they asked, from which capacities are exhausted."""
    pb, net, f = cl.pb, cl.net, cl.sol.flow
    n = pb.n_plans
    sat = f >= net.cap
    free = ~sat[net.x_arc]
    nt = sat[net.nt_arc][pb.x_node * pb.T + pb.x_t]
    pt_sat = np.zeros((len(pb.point_cap_kwh), pb.T), dtype=bool)
    pt_sat[net.pt_point, net.pt_t] = sat[net.pt_arc]
    pt = pt_sat[pb.x_point, pb.x_t]
    aw = sat[net.award_arc][pb.x_t] if pb.award_kwh is not None else np.zeros_like(nt)

    def any_per_plan(flag: npt.NDArray[np.bool_], owner: npt.NDArray[np.int64]) -> npt.NDArray:
        return np.bincount(owner[flag], minlength=n) > 0

    xp = pb.x_plan
    flags = {
        "price": any_per_plan(free & ~nt & ~pt & ~aw, xp),
        "node_capacity": any_per_plan(free & nt, xp),
        "point_capacity": any_per_plan(free & pt, xp),
        "awarded_quantity": any_per_plan(free & aw, xp),
        "battery": any_per_plan((net.battery_arc >= 0) & sat[net.battery_arc], pb.stop_plan),
        "charging_time": ~any_per_plan(free, xp),
    }
    # A full battery blocks every further kWh, so free capacity is then no price signal.
    flags["price"] &= ~flags["battery"]
    out: list[list[str]] = [[] for _ in range(n)]
    for i in np.flatnonzero(short):
        out[i] = [r for r in REASONS if flags[r][i]]
    return out


def result_document(inst: InstanceLike, cl: Cleared) -> dict[str, Any]:
    """The §6 result as plain JSON data (dicts, lists, floats, datetimes) in the field order
    of `AuctionResult`: what `to_result` validates and `result_json` serializes as is."""
    pb, pr, params = cl.pb, cl.prices, cl.params
    unit, tick = params.energy_unit_kwh, params.price_tick_eur_mwh
    n, T = pb.n_plans, pb.T
    step_cap = cl.net.cap[cl.net.step_arc]
    req_u = np.bincount(pb.step_plan, weights=step_cap, minlength=n)
    acc_u = np.bincount(pb.step_plan, weights=cl.y_units, minlength=n)
    req_kwh = np.bincount(pb.step_plan, weights=pb.step_kwh, minlength=n)
    x_ticks = pr.node_ticks[pb.x_node, pb.x_t]
    cost = np.bincount(pb.x_plan, weights=cl.x_units * x_ticks.astype(np.float64), minlength=n)
    cost_eur = cost * unit * tick / 1000.0
    acc_kwh = acc_u * unit
    short = acc_u < req_u
    reasons = _reasons(cl, short)
    # Fixed offsets (same JSON) validate far faster than ZoneInfo datetimes.
    starts = [s.replace(tzinfo=timezone(s.utcoffset() or timedelta(0))) for s in pb.grid.starts()]
    # Allocations per (plan, MTU, point), summed over stops.
    used = cl.x_units > 0
    n_pts = len(pb.point_cap_kwh)
    key = (pb.x_plan[used] * T + pb.x_t[used]) * n_pts + pb.x_point[used]
    ukey, inv = np.unique(key, return_inverse=True)
    alloc_kwh = _round(np.bincount(inv, weights=cl.x_units[used]) * unit)
    a_plan = ukey // (T * n_pts)
    a_t = (ukey // n_pts) % T
    a_point = ukey % n_pts
    bounds = np.searchsorted(a_plan, np.arange(n + 1)).tolist()
    point_ids = [cp.id for cp in inst.charging_points]
    acc_r, cost_r, req_r = _round(acc_kwh), _round(cost_eur), _round(req_kwh)
    cov = _round(np.divide(acc_kwh, req_kwh, out=np.zeros(n), where=req_kwh > 0))
    marg = pr.plan_marginal_ticks * tick
    allocs = [
        {"charging_point_id": point_ids[p], "mtu_start": starts[t], "energy_kwh": e}
        for p, t, e in zip(a_point.tolist(), a_t.tolist(), alloc_kwh, strict=True)
    ]
    status: list[PlanStatus] = [
        "rejected" if a == 0 else ("partial" if s else "accepted")
        for a, s in zip(acc_u.tolist(), short.tolist(), strict=True)
    ]
    plans = [
        {
            "plan_id": plan.plan_id,
            "vehicle_id": plan.vehicle_id,
            "status": status[i],
            "requested_kwh": req_r[i],
            "accepted_kwh": acc_r[i],
            "coverage": cov[i],
            "cost_eur": cost_r[i],
            "marginal_price_eur_mwh": None if np.isnan(marg[i]) else round(float(marg[i]), 6),
            "reasons": reasons[i],
            "allocations": allocs[bounds[i] : bounds[i + 1]],
        }
        for i, plan in enumerate(inst.plans)
    ]
    node_e = np.zeros((len(inst.nodes), T))
    np.add.at(node_e, (pb.x_node, pb.x_t), cl.x_units * unit)
    nodes = [
        {
            "node_id": node.id,
            "energy_kwh": _round(node_e[k]),
            "price_eur_mwh": _round(pr.node_ticks[k] * tick),
            "congestion_eur_mwh": _round(pr.congestion_ticks[k] * tick),
        }
        for k, node in enumerate(inst.nodes)
    ]
    total_req, total_acc = float(req_kwh.sum()), float(acc_kwh.sum())
    return {
        "market_area": inst.market_area,
        "delivery_day": inst.delivery_day,
        "phase": 1 if cl.phase == 1 else 2,
        "welfare_eur": round(cl.welfare_eur, E),
        "total_requested_kwh": round(total_req, E),
        "total_accepted_kwh": round(total_acc, E),
        "coverage": round(total_acc / total_req, E) if total_req > 0 else 0.0,
        "mtu_starts": starts,
        "mtu_prices_eur_mwh": _round(pr.mtu_ticks * tick),
        "aggregate": {
            "demand_kwh": _round(node_e.sum(axis=0)),
            "bid_curves": [
                [{"price_eur_mwh": p, "quantity_mwh": q} for p, q in curve]
                for curve in cl.curves.steps
            ],
        },
        "nodes": nodes,
        "plans": plans,
        "rounding": {
            "energy_unit_kwh": unit,
            "price_tick_eur_mwh": tick,
            "lot_mwh": params.lot_mwh,
            "welfare_error_bound_eur": round(cl.error_bound_eur, E),
            "bid_volume_rounding_mwh": cl.curves.rounding_mwh,
            "bid_steps_merged": cl.curves.merged,
        },
    }


def to_result(inst: InstanceLike, cl: Cleared) -> AuctionResult:
    """The result as a validated model (what the aggregator publishes)."""
    return AuctionResult.model_validate(result_document(inst, cl))


def result_json(inst: InstanceLike, cl: Cleared) -> bytes:
    """The result's JSON without building the model: pydantic-core writes the document
    with the model serializer's own formats (floats, timestamps, UUIDs), so the bytes are
    those of `to_result(...).model_dump_json()` (tested); the engine guarantees what
    validation would check (types, finite numbers, non-negative energies), and skipping
    it saves most of the result's cost at N = 30 000 (docs/auction.md)."""
    return pydantic_core.to_json(result_document(inst, cl))
