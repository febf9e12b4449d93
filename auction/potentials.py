"""Node potentials (prices) of an optimal flow, recomputed from the flow itself.

OR-Tools does not expose its dual potentials. For an optimal flow the residual network has
no negative cycle, so shortest paths exist:

1. e(v) = cheapest residual cost from v to the sink; p(v) = -e(v) is the *lowest* price
   at v that proves the flow optimal: the value of one more unit of energy at v.
2. Nodes that cannot reach the sink (e.g. a node-MTU nobody buys from) get the cheapest
   residual cost *from* the rest of the network instead: no residual arc leaves that set,
   so the combined potentials still satisfy c(u,v) + p(u) - p(v) >= 0 on every residual
   arc - a complete, valid dual solution (used to price left-out arcs in flow.py).

Costs are integer ticks, so potentials are exact integers. INF marks "no price": a node
no energy can reach.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

I64 = npt.NDArray[np.int64]
INF = np.int64(2**62)


def _relax(n_nodes: int, dist: I64, frm: I64, to: I64, c: I64, frontier: I64) -> I64:
    """dist[to] = min(dist[to], dist[frm] + c) until stable; rounds touch only arcs out of
    nodes that changed in the previous round (vectorised, no per-arc Python loop)."""
    order = np.argsort(frm, kind="stable")
    frm, to, c = frm[order], to[order], c[order]
    indptr = np.searchsorted(frm, np.arange(n_nodes + 1))
    for _ in range(n_nodes + 1):
        lo = indptr[frontier]
        n = indptr[frontier + 1] - lo
        total = int(n.sum())
        if total == 0:
            return dist
        idx = np.repeat(lo, n) + (np.arange(total) - np.repeat(np.cumsum(n) - n, n))
        new = dist.copy()
        np.minimum.at(new, to[idx], c[idx] + dist[frm[idx]])
        frontier = np.flatnonzero(new < dist)
        dist = new
        if len(frontier) == 0:
            return dist
    raise RuntimeError("negative residual cycle: the flow is not optimal")


def potentials(
    n_nodes: int, tail: I64, head: I64, cap: I64, cost: I64, flow: I64, sink: int = 1
) -> I64:
    """Complete optimal potentials p (ticks per flow unit), INF where no energy can reach."""
    fwd = flow < cap
    bwd = flow > 0
    u = np.concatenate([tail[fwd], head[bwd]])
    v = np.concatenate([head[fwd], tail[bwd]])
    c = np.concatenate([cost[fwd], -cost[bwd]])
    e = np.full(n_nodes, INF, dtype=np.int64)
    e[sink] = 0
    # distances to the sink: relax backwards along residual arcs (from head to tail)
    e = _relax(n_nodes, e, v, u, c, np.array([sink], dtype=np.int64))
    p = np.where(e < INF, -e, INF)
    # nodes that cannot reach the sink: cheapest cost from the rest, relaxed forwards
    known = np.flatnonzero(e < INF)
    return _relax(n_nodes, p, u, v, c, known)
