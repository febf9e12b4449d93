"""Prices from the optimal flow: MTU and node prices, plan marginal prices.

The potentials (potentials.py) are p(v) = -(cheapest residual cost from v to the sink):
the *lowest* potentials that prove the flow optimal, so a price is the marginal value of
one more unit at v - the shadow price of a binding capacity, zero congestion when nothing
binds. Costs are integer ticks, so the potentials are exact.

Optimality (reduced costs) gives individual rationality directly: every unit a plan
receives flows NT -> ... -> D_p on arcs with flow, so p(NT) <= p(D_p) <= price of every
accepted step; a plan pays at most its marginal price per kWh, i.e. at most its bid.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from auction.flow import FlowSolution
from auction.graph import Network
from auction.potentials import INF

I64 = npt.NDArray[np.int64]


@dataclass(frozen=True)
class Prices:
    mtu_ticks: I64  # (T,) market price + phase-2 scarcity
    node_ticks: I64  # (nodes, T) market + scarcity + congestion
    congestion_ticks: I64  # (nodes, T)
    plan_marginal_ticks: npt.NDArray[np.float64]  # (plans,) NaN when undefined


def compute_prices(
    net: Network, sol: FlowSolution, price_ticks: I64, n_nodes: int, n_plans: int
) -> Prices:
    T = len(price_ticks)
    pot = sol.pot
    reach = pot < INF
    m_pot = pot[net.head[net.award_arc]]
    # No MTU or node is ever priced below the market price; INF (nothing can reach the
    # node) means no price of its own, so the market price stands.
    mtu = np.where(m_pot < INF, np.maximum(price_ticks, m_pot), price_ticks)
    nt_pot = pot[net.head[net.nt_arc].reshape(n_nodes, T)]
    node = np.where(nt_pot < INF, np.maximum(mtu[None, :], nt_pot), mtu[None, :])
    plan_d = net.d0 + np.arange(n_plans, dtype=np.int64)
    marginal = np.where(reach[plan_d], pot[plan_d].astype(np.float64), np.nan)
    return Prices(
        mtu_ticks=mtu,
        node_ticks=node,
        congestion_ticks=node - mtu[None, :],
        plan_marginal_ticks=marginal,
    )
