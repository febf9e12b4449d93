"""Solve the auction network exactly in int64: our network simplex (default) or OR-Tools.

Solvers (`AuctionParams.solver`): "simplex" is the primal network simplex of simplex.py
(numba, LEMON-style, shortest-path warm start); "ortools" is OR-Tools' SimpleMinCostFlow
(cost-scaling push-relabel). Both are exact for the integer problem, so they reach the
same optimal welfare; when several schedules are optimal they may return different ones,
but the prices do not change (potentials.py computes them from any optimal flow, and the
lowest optimal potentials are the same for every optimal flow). On the benchmark the
simplex is 6-11x faster at hourly MTUs (N = 10 000-100 000), 2x at N = 10 000 quarter-
hourly, and no faster at N = 100 000 quarter-hourly (docs/auction.md). Phase 2 networks
(award caps) with more than SIMPLEX_CAPPED_MAX_ARCS arcs are solved with OR-Tools even
when the simplex is chosen: there the simplex is slower (docs/auction.md, "Phase 2").

Integer scaling: capacities are floored to multiples of `energy_unit_kwh` (default 1e-5
kWh = 0.01 Wh) and prices rounded to `price_tick_eur_mwh` (0.01 EUR/MWh). The solver is
then exact for that rounded problem, and its solution is feasible for the real one
(floors only shrink capacities). The welfare gap is bounded in `clear._error_bound`.

Optional arc pricing (column generation, exact): most stop-MTU arcs are never used - a
plan buys in its cheapest hours. Given a candidate subset (`candidates`), the flow
is solved on it first; the potentials of that optimum are then checked against every
left-out arc: one with a negative reduced cost is added and the subset re-solved. When no
left-out arc has a negative reduced cost, the potentials are a valid dual of the *full*
network, which proves the flow optimal for it, and the left-out arcs shorten no residual
path, so the prices are those of the full network too. Measured on the benchmark, the
solve time falls far less than the arc count, so extra rounds cost more than they save:
`clear` only leaves out arcs that can never be profitable (graph.useful_arcs), which
verifies in one round; a smaller start (the cheapest MTUs of each stop,
tests/unit/auction/candidates.py) remains an exact, tested option.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Literal

import numpy as np
import numpy.typing as npt
from ortools.graph.python import min_cost_flow

from auction.graph import Network
from auction.potentials import INF, potentials

Solver = Literal["simplex", "ortools"]

I64 = npt.NDArray[np.int64]


class FlowError(RuntimeError):
    """The solver did not reach an optimum (should not happen: the network is feasible)."""


@dataclass(frozen=True)
class FlowSolution:
    flow: I64  # per arc of the full network, flow units (0 on left-out arcs)
    pot: I64  # per node, optimal potential (price, ticks per unit), INF if unreachable
    active: npt.NDArray[np.bool_]  # arcs in the final solved subset
    rounds: int  # solves needed by arc pricing


# Phase 2 (award caps on source -> M_t) above this many arcs goes to OR-Tools even when the
# simplex is chosen: measured (docs/auction.md, 2026-11-25) the simplex's phase 2 grows
# faster than linearly (N = 20 000 hourly, 0.42 M arcs: 4.8 s against OR-Tools 9.7 s;
# N = 30 000, ~0.65 M arcs: 14.3 s against 9.0 s; N = 100 000: 187 s against 81 s).
SIMPLEX_CAPPED_MAX_ARCS = 500_000


def _capped(net: Network) -> bool:
    return bool(len(net.award_arc)) and bool((net.cap[net.award_arc] < net.supply).any())


def uses_simplex(net: Network, active: npt.NDArray[np.bool_], solver: Solver) -> bool:
    """Whether `solve_flow` with these arcs goes to the network simplex."""
    return solver == "simplex" and not (
        _capped(net) and int(np.count_nonzero(active)) > SIMPLEX_CAPPED_MAX_ARCS
    )


@functools.cache
def load_simplex() -> None:
    """Import the network simplex and load its compiled code: in a fresh process about a
    second (numba's import, then the machine code from the on-disk cache), then nothing.
    Imported here, not at the top: only those who use the simplex pay for numba."""
    from auction.simplex import network_simplex

    one = np.ones(1, dtype=np.int64)
    network_simplex(2, one * 0, one, one, one, np.array([1, -1], dtype=np.int64))


def _solve_subset(net: Network, active: npt.NDArray[np.bool_], solver: Solver = "simplex") -> I64:
    idx = np.flatnonzero(active)
    if uses_simplex(net, active, solver):
        return _solve_simplex(net, idx)
    smcf = min_cost_flow.SimpleMinCostFlow()
    smcf.add_arcs_with_capacity_and_unit_cost(
        net.tail[idx], net.head[idx], net.cap[idx], net.cost[idx]
    )
    supplies = np.zeros(net.n_nodes, dtype=np.int64)
    supplies[0], supplies[1] = net.supply, -net.supply
    smcf.set_nodes_supplies(np.arange(net.n_nodes, dtype=np.int64), supplies)
    status = smcf.solve()
    if status != smcf.OPTIMAL:
        raise FlowError(f"min-cost flow failed with status {status}")
    flow = np.zeros(len(net.tail), dtype=np.int64)
    flow[idx] = smcf.flows(np.arange(len(idx), dtype=np.int64))
    return flow


def _solve_simplex(net: Network, idx: I64) -> I64:
    load_simplex()
    from auction.simplex import SimplexError, network_simplex  # loaded: costs nothing now

    supplies = np.zeros(net.n_nodes, dtype=np.int64)
    supplies[0], supplies[1] = net.supply, -net.supply
    try:
        sub, _pi, _pivots = network_simplex(
            net.n_nodes, net.tail[idx], net.head[idx], net.cap[idx], net.cost[idx], supplies
        )
    except SimplexError as exc:
        raise FlowError(f"min-cost flow failed: {exc}") from exc
    flow = np.zeros(len(net.tail), dtype=np.int64)
    flow[idx] = sub
    return flow


def solve_flow(
    net: Network,
    candidates: npt.NDArray[np.bool_] | None = None,
    max_rounds: int = 50,
    solver: Solver = "simplex",
) -> FlowSolution:
    """Optimal flow of the full network; `candidates` (arc mask) starts the arc pricing."""
    active = np.ones(len(net.tail), dtype=bool) if candidates is None else candidates.copy()
    for rounds in range(1, max_rounds + 1):
        flow = _solve_subset(net, active, solver)
        act = np.flatnonzero(active)
        pot = potentials(
            net.n_nodes, net.tail[act], net.head[act], net.cap[act], net.cost[act], flow[act]
        )
        out = np.flatnonzero(~active & (net.cap > 0))
        pu, pv = pot[net.tail[out]], pot[net.head[out]]
        # Left-out arcs carry no flow, so only their forward direction is residual; one
        # with a negative reduced cost could improve the optimum and joins the subset.
        # (An INF end means no energy reaches it, or it leads nowhere: no improvement.)
        better = (pu < INF) & (pv < INF) & (net.cost[out] + pu - pv < 0)
        if not better.any():
            return FlowSolution(flow=flow, pot=pot, active=active, rounds=rounds)
        active[out[better]] = True
    # Safety net: solve everything (never needed in practice, always correct).
    active[:] = True
    flow = _solve_subset(net, active, solver)
    pot = potentials(net.n_nodes, net.tail, net.head, net.cap, net.cost, flow)
    return FlowSolution(flow=flow, pot=pot, active=active, rounds=max_rounds + 1)
