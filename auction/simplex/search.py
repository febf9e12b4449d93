"""Which arc enters the tree next: the initial pivots and the block search pivot rule."""

from __future__ import annotations

import numpy as np

from auction.simplex.basis import I64, Basis
from auction.simplex.jit import kernel
from auction.simplex.pivot import pivot


@kernel
def initial_pivots(n: int, m: int, tail: I64, head: I64, supply_in: I64, b: Basis) -> int:
    """Bring a path of wide arcs from the sink back to the source into the tree (in the
    auction network: the source -> sink bypass), so the big-M cost of LEMON's star leaves
    it at once. Only for one source and one sink; -1 if a pivot finds the cycle unbounded,
    else the number of pivots made."""
    n_pos = 0
    n_neg = 0
    total = np.int64(0)
    s_node = -1
    t_node = -1
    for u in range(n):
        if supply_in[u] > 0:
            n_pos += 1
            total += supply_in[u]
            s_node = u
        elif supply_in[u] < 0:
            n_neg += 1
            t_node = u
    if not (n_pos == 1 and n_neg == 1 and total > 0):
        return 0
    # reverse depth-first search from t over arcs with cap >= total (CSR of in-arcs)
    indeg = np.zeros(n + 1, dtype=np.int64)
    for a in range(m):
        indeg[head[a] + 1] += 1
    for i in range(n):
        indeg[i + 1] += indeg[i]
    pos = indeg[:n].copy()
    in_arcs = np.empty(m, dtype=np.int64)
    for a in range(m):
        in_arcs[pos[head[a]]] = a
        pos[head[a]] += 1
    reached = np.zeros(n, dtype=np.bool_)
    stack = np.empty(n, dtype=np.int64)
    path = np.empty(n, dtype=np.int64)
    n_path = 0
    top = 0
    stack[top] = t_node
    top += 1
    reached[t_node] = True
    while top > 0:
        top -= 1
        v = stack[top]
        if v == s_node:
            break
        for k in range(indeg[v], indeg[v + 1]):
            a = in_arcs[k]
            u = tail[a]
            if reached[u]:
                continue
            if b.cap[a] >= total:
                path[n_path] = a
                n_path += 1
                reached[u] = True
                stack[top] = u
                top += 1
    pivots = 0
    for i in range(n_path):
        a = path[i]
        if b.state[a] * (b.cost[a] + b.pi[b.source[a]] - b.pi[b.target[a]]) >= 0:
            continue
        if not pivot(a, b):
            return -1
        pivots += 1
    return pivots


@kernel
def block_search(m: int, block: int, b: Basis) -> tuple[bool, int]:
    """Pivot until optimal: (False if unbounded, pivots). The arcs are scanned cyclically
    in blocks; the most violating arc of the first block that has one enters."""
    pivots = 0
    next_arc = 0
    while m > 0:
        best = np.int64(0)
        in_arc = -1
        cnt = block
        found = False
        e = next_arc
        for _ in range(m):
            c = b.state[e] * (b.cost[e] + b.pi[b.source[e]] - b.pi[b.target[e]])
            if c < best:
                best = c
                in_arc = e
            e += 1
            if e == m:
                e = 0
            cnt -= 1
            if cnt == 0:
                if best < 0:
                    found = True
                    break
                cnt = block
        if not found and best < 0:
            found = True
        if not found:
            break
        next_arc = e
        if not pivot(in_arc, b):
            return False, pivots
        pivots += 1
    return True, pivots
