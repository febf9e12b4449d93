"""The compiled entry of the simplex: start, pivot through the overflow stages, report."""

from __future__ import annotations

import math
from typing import Any

from auction.simplex.basis import DIR_UP, I64, INFEASIBLE, OPTIMAL, star_basis
from auction.simplex.jit import cached_entry, sources_digest
from auction.simplex.search import block_search, initial_pivots
from auction.simplex.warm import warm_start


def _entry(digest: str) -> Any:
    """The cached entry, made as a closure over the sources' digest (see jit.py)."""

    @cached_entry
    def run(
        n: int,
        tail: I64,
        head: I64,
        cap: I64,
        cost: I64,
        supply: I64,
        art_cost: int,
        warm: bool,
        block_factor: float,
        ovf_arcs: I64,
        ovf_base: I64,
        stages: I64,
    ) -> tuple[int, I64, I64, int]:
        """(status, flow per arc, potential per node, pivots).

        `ovf_arcs` (cost `ovf_base` + K) are solved for each K in `stages` in turn, each
        stage starting from the previous optimal tree (see solver.network_simplex)."""
        assert digest  # keeps the digest in the closure, hence in numba's cache key
        m = len(tail)
        b = star_basis(n, tail, head, cap, cost, supply, art_cost)
        pivots = 0
        if not (warm and warm_start(n, m, tail, head, supply, b)):
            made = initial_pivots(n, m, tail, head, supply, b)
            if made < 0:
                return INFEASIBLE, b.flow[:m], b.pi[:n], pivots
            pivots += made
        block = max(int(block_factor * math.sqrt(m)), 10) if m > 0 else 1
        root = n
        for k_stage in range(len(stages)):
            if k_stage > 0:
                # new overflow costs: tree arcs among them move potentials, so recompute
                # all potentials from the (unchanged) tree in preorder
                for i in range(len(ovf_arcs)):
                    b.cost[ovf_arcs[i]] = ovf_base[i] + stages[k_stage]
                w = b.thread[root]
                while w != root:
                    e = b.pred[w]
                    if b.pred_dir[w] == DIR_UP:
                        b.pi[w] = b.pi[b.parent[w]] - b.cost[e]
                    else:
                        b.pi[w] = b.pi[b.parent[w]] + b.cost[e]
                    w = b.thread[w]
            ok, n_piv = block_search(m, block, b)
            pivots += n_piv
            if not ok:
                return INFEASIBLE, b.flow[:m], b.pi[:n], pivots
        # optimal only if no flow is left on an artificial or an overflow arc
        for e in range(m, m + n):
            if b.flow[e] != 0:
                return INFEASIBLE, b.flow[:m], b.pi[:n], pivots
        for i in range(len(ovf_arcs)):
            if b.flow[ovf_arcs[i]] != 0:
                return INFEASIBLE, b.flow[:m], b.pi[:n], pivots
        return OPTIMAL, b.flow[:m].copy(), b.pi[:n].copy(), pivots

    return run


run = _entry(sources_digest())
