"""Solve the auction network with OR-Tools SimpleMinCostFlow (exact int64 arithmetic).

Integer scaling: capacities are floored to multiples of `energy_unit_kwh` (default 1e-5
kWh = 0.01 Wh) and prices rounded to `price_tick_eur_mwh` (0.01 EUR/MWh). The solver is
then exact for that rounded problem, and its solution is feasible for the real one
(floors only shrink capacities). The welfare gap to the real optimum is bounded a
posteriori in `prices.welfare_error_bound`; see docs/auction.md.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from ortools.graph.python import min_cost_flow

from services.aggregator.auction.graph import Network


class FlowError(RuntimeError):
    """The solver did not reach an optimum (should not happen: the network is feasible)."""


@dataclass(frozen=True)
class FlowSolution:
    flow: npt.NDArray[np.int64]  # per arc, flow units
    cost_ticks: int  # optimal cost in price ticks x flow units


def solve_flow(net: Network) -> FlowSolution:
    smcf = min_cost_flow.SimpleMinCostFlow()
    smcf.add_arcs_with_capacity_and_unit_cost(net.tail, net.head, net.cap, net.cost)
    supplies = np.zeros(net.n_nodes, dtype=np.int64)
    supplies[0], supplies[1] = net.supply, -net.supply
    smcf.set_nodes_supplies(np.arange(net.n_nodes, dtype=np.int64), supplies)
    status = smcf.solve()
    if status != smcf.OPTIMAL:
        raise FlowError(f"min-cost flow failed with status {status}")
    flow = np.asarray(smcf.flows(np.arange(len(net.tail), dtype=np.int64)), dtype=np.int64)
    return FlowSolution(flow=flow, cost_ticks=int(smcf.optimal_cost()))
