"""The simplex's basis: a spanning tree of the network, as one structure of int64 arrays.

The tree is rooted at an artificial node `n` and stored as in LEMON's `NetworkSimplex`:
parent / pred (the tree arc to the parent) / pred_dir / thread (preorder successor) /
rev_thread / succ_num (subtree size) / last_succ (last node of the subtree in thread
order), so that a pivot updates it in time proportional to the part that changes.

`Basis` is a NamedTuple: numba passes it to the kernels as one value. The kernels index
its arrays in place (`b.flow[e]`): unpacking them into locals at the top of a kernel
(`flow = b.flow`) takes a reference per array on every call, which made the solve 10-40 %
slower; indexed in place it runs as fast as the positional arrays it replaces (A/B in
docs/auction.md).
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
import numpy.typing as npt

from auction.simplex.jit import kernel

I64 = npt.NDArray[np.int64]

OPTIMAL, INFEASIBLE = 0, 1
# An arc out of the tree sits at its lower (flow 0) or upper (flow = cap) bound; the sign
# turns a reduced cost into "how much this arc wants to enter".
STATE_UPPER, STATE_TREE, STATE_LOWER = -1, 0, 1
DIR_UP, DIR_DOWN = 1, -1  # pred arc points from the node up to its parent, or down to it
BIG = 2**62  # capacity of the artificial arcs: more than any flow (checked in solver.py)


class Basis(NamedTuple):
    """The arcs (m real ones, then one artificial arc per node) and the spanning tree."""

    source: I64  # per arc
    target: I64
    cap: I64
    cost: I64
    flow: I64
    state: I64  # STATE_UPPER, STATE_TREE or STATE_LOWER
    pi: I64  # per node and the root: potential
    parent: I64
    pred: I64
    pred_dir: I64  # DIR_UP or DIR_DOWN
    thread: I64
    rev_thread: I64
    succ_num: I64
    last_succ: I64
    dirty: I64  # scratch of the tree update (nodes whose thread changed)


@kernel
def star_basis(
    n: int, tail: I64, head: I64, cap_in: I64, cost_in: I64, supply: I64, art_cost: int
) -> Basis:
    """LEMON's initial basis: every node hangs on the root by its artificial arc (cost 0
    from a node with supply >= 0, big-M `art_cost` to a node with a deficit)."""
    m = len(tail)
    all_arcs = m + n
    b = Basis(
        np.empty(all_arcs, dtype=np.int64),
        np.empty(all_arcs, dtype=np.int64),
        np.empty(all_arcs, dtype=np.int64),
        np.empty(all_arcs, dtype=np.int64),
        np.zeros(all_arcs, dtype=np.int64),
        np.empty(all_arcs, dtype=np.int64),
        np.zeros(n + 1, dtype=np.int64),
        np.empty(n + 1, dtype=np.int64),
        np.empty(n + 1, dtype=np.int64),
        np.zeros(n + 1, dtype=np.int64),
        np.empty(n + 1, dtype=np.int64),
        np.empty(n + 1, dtype=np.int64),
        np.empty(n + 1, dtype=np.int64),
        np.empty(n + 1, dtype=np.int64),
        np.empty(n + 1, dtype=np.int64),
    )
    b.source[:m] = tail
    b.target[:m] = head
    b.cap[:m] = cap_in
    b.cost[:m] = cost_in
    b.state[:m] = STATE_LOWER
    root = n
    b.parent[root] = -1
    b.pred[root] = -1
    b.thread[root] = 0
    b.rev_thread[0] = root
    b.succ_num[root] = n + 1
    b.last_succ[root] = root - 1
    b.pi[root] = 0
    for u in range(n):
        e = m + u
        b.parent[u] = root
        b.pred[u] = e
        b.thread[u] = u + 1
        b.rev_thread[u + 1] = u
        b.succ_num[u] = 1
        b.last_succ[u] = u
        b.cap[e] = BIG
        b.state[e] = STATE_TREE
        if supply[u] >= 0:
            b.pred_dir[u] = DIR_UP
            b.pi[u] = 0
            b.source[e] = u
            b.target[e] = root
            b.flow[e] = supply[u]
            b.cost[e] = 0
        else:
            b.pred_dir[u] = DIR_DOWN
            b.pi[u] = art_cost
            b.source[e] = root
            b.target[e] = u
            b.flow[e] = -supply[u]
            b.cost[e] = art_cost
    return b
