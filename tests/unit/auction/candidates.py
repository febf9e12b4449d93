"""Candidate arcs for the arc pricing of `auction.flow.solve_flow` (a test helper).

Production clears with `graph.useful_arcs` only (one round, docs/auction.md); a smaller
start subset is a tested, exact option: the arc pricing adds back whatever the optimum
needs. The tests use this one to prove it.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from auction.graph import Network
from auction.problem import Problem


def candidate_arcs(pb: Problem, net: Network, cover: float = 2.0) -> npt.NDArray[np.bool_]:
    """Arc mask to start arc pricing with: every arc except the stop-MTU arcs a plan is
    unlikely to use. Per stop, MTUs are taken cheapest first until their capacity covers
    `cover` times the plan's whole bid; arc pricing adds anything else the optimum needs.
    """
    mask = np.ones(len(net.tail), dtype=bool)
    if len(pb.x_stop) == 0:
        return mask
    order = np.lexsort((pb.x_t, pb.price[pb.x_t], pb.x_stop))
    cap = pb.x_cap_kwh[order]
    stop = pb.x_stop[order]
    cum = np.cumsum(cap)
    start = np.flatnonzero(np.r_[True, stop[1:] != stop[:-1]])
    run_len = np.diff(np.r_[start, len(stop)])
    before = cum - cap - np.repeat(cum[start] - cap[start], run_len)
    bid = np.bincount(pb.step_plan, weights=pb.step_kwh, minlength=pb.n_plans)
    keep = np.empty(len(order), dtype=bool)
    keep[order] = before < cover * bid[pb.stop_plan[stop]]
    mask[net.x_arc] = keep
    return mask
