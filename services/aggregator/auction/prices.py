"""Prices from the optimal flow: node potentials, MTU and node prices, plan costs.

OR-Tools does not expose its dual potentials, so they are recomputed from the optimal
flow: p(v) = -(cheapest cost of moving one more unit from v to the sink in the residual
network). These are the *lowest* potentials that prove the flow optimal, so a price is
the marginal value of one more unit at v: the shadow price of a binding capacity, zero
congestion when nothing binds. Costs are integer ticks, so the potentials are exact.

Optimality (reduced costs) gives individual rationality directly: every unit a plan
receives flows NT -> ... -> D_p on arcs with flow, so p(NT) <= p(D_p) <= price of every
accepted step; a plan pays at most its marginal price per kWh, i.e. at most its bid.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from services.aggregator.auction.flow import FlowSolution
from services.aggregator.auction.graph import Network

I64 = npt.NDArray[np.int64]
INF = np.int64(2**62)


def distances_to_sink(net: Network, sol: FlowSolution, sink: int = 1) -> I64:
    """Shortest residual distance of every node to the sink (INF when none).

    Round-based Bellman-Ford that only relaxes arcs into nodes that changed in the last
    round; every round is a handful of numpy operations. The optimal flow has no negative
    residual cycle, so it terminates; the round cap is only a safety net.
    """
    f = sol.flow
    fwd = f < net.cap
    bwd = f > 0
    u = np.concatenate([net.tail[fwd], net.head[bwd]])
    v = np.concatenate([net.head[fwd], net.tail[bwd]])
    c = np.concatenate([net.cost[fwd], -net.cost[bwd]])
    order = np.argsort(v, kind="stable")
    u, v, c = u[order], v[order], c[order]
    indptr = np.searchsorted(v, np.arange(net.n_nodes + 1))
    e = np.full(net.n_nodes, INF, dtype=np.int64)
    e[sink] = 0
    frontier = np.array([sink], dtype=np.int64)
    for _ in range(net.n_nodes + 1):
        lo, hi = indptr[frontier], indptr[frontier + 1]
        n = hi - lo
        if not n.any():
            break
        idx = np.repeat(lo, n) + (np.arange(int(n.sum())) - np.repeat(np.cumsum(n) - n, n))
        cand = c[idx] + e[v[idx]]
        new = e.copy()
        np.minimum.at(new, u[idx], cand)
        changed = np.flatnonzero(new < e)
        e = new
        if len(changed) == 0:
            break
        frontier = changed
    else:  # pragma: no cover - impossible for an optimal flow
        raise RuntimeError("negative residual cycle: the flow is not optimal")
    return e


@dataclass(frozen=True)
class Prices:
    mtu_ticks: I64  # (T,) market price + phase-2 scarcity
    node_ticks: I64  # (nodes, T) market + scarcity + congestion
    congestion_ticks: I64  # (nodes, T)
    plan_marginal_ticks: npt.NDArray[np.float64]  # (plans,) NaN when undefined


def compute_prices(
    net: Network, sol: FlowSolution, price_ticks: I64, n_nodes: int, n_plans: int
) -> Prices:
    e = distances_to_sink(net, sol)
    T = len(price_ticks)
    reach = e < INF
    pot = np.where(reach, -e, np.iinfo(np.int64).min)
    m_nodes = net.head[net.award_arc]
    # An MTU nobody buys in has no defined potential; the market price stands.
    mtu = np.maximum(price_ticks, pot[m_nodes])
    nt_nodes = net.head[net.nt_arc].reshape(n_nodes, T)
    node = np.maximum(mtu[None, :], pot[nt_nodes])
    plan_d = net.d0 + np.arange(n_plans, dtype=np.int64)
    marginal = np.where(reach[plan_d], -e[plan_d].astype(np.float64), np.nan)
    return Prices(
        mtu_ticks=mtu,
        node_ticks=node,
        congestion_ticks=node - mtu[None, :],
        plan_marginal_ticks=marginal,
    )
