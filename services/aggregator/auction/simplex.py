"""Primal network simplex for min-cost flow, compiled with numba (exact int64 arithmetic).

The algorithm follows LEMON's `NetworkSimplex` (Kovacs, "Minimum-cost flow algorithms: an
experimental evaluation", 2015):

- a spanning tree rooted at an artificial node `n`, stored as parent / pred (tree arc) /
  pred_dir / thread (preorder successor) / rev_thread / succ_num (subtree size) /
  last_succ (last node of the subtree in thread order): pivots update these in time
  proportional to the changed part of the tree, never the whole tree;
- the initial tree uses one artificial arc per node (cost 0 from a node with supply >= 0
  to the root, big-M cost from the root to a node with a deficit); then "initial pivots"
  bring in a path of wide arcs from the sink back to the source (in the auction network:
  the source -> sink bypass), so the big-M cost leaves the tree at once;
- block search pivot rule: the arcs are scanned cyclically in blocks; the most violating
  arc of the first block that has one enters. LEMON's block is sqrt(m); on the auction
  network pricing dominates and the pivot count hardly depends on the block (measured:
  289 000 pivots at sqrt(m), 298 000 at 0.05 sqrt(m) for N = 30 000), so the block is
  BLOCK_FACTOR x sqrt(m) (at least 10), 4-6x faster overall than sqrt(m);
- strongly feasible trees (the last blocking arc on the cycle leaves), so degenerate
  pivots cannot cycle and the method terminates.

Every quantity is int64 (capacities in flow units, costs in price ticks); nothing is ever
rounded, so the optimum is exact for the integer problem. The method is deterministic:
the same arrays in the same order give the same flow.

Overflow: potentials stay within (max |cost| + 1) x (n + 1) x 2 and flows within the
total supply; `network_simplex` checks that these fit in int64 before solving.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np
import numpy.typing as npt
from numba import njit

I64 = npt.NDArray[np.int64]

OPTIMAL, INFEASIBLE = 0, 1
STATE_UPPER, STATE_TREE, STATE_LOWER = -1, 0, 1
DIR_UP, DIR_DOWN = 1, -1
BLOCK_FACTOR = 0.05
CAP_BLOCK_FACTOR = 1.0  # with overflow stages (phase 2): measured best at N = 20 000
STAGE_RATIO = 2.0


class SimplexError(RuntimeError):
    """No feasible flow, or numbers too large for exact int64 arithmetic."""


def _jit(fn: Callable[..., Any]) -> Any:
    """`njit(cache=True)`: compiled once per checkout, then loaded from `__pycache__` (or
    NUMBA_CACHE_DIR). Where no cache location is writable (a read-only install run by
    another user, e.g. the Docker image), numba refuses cache=True at import; then compile
    in each process instead (~12 s on its first solve) rather than fail."""
    try:
        return njit(cache=True)(fn)
    except RuntimeError:
        return njit(cache=False)(fn)


@_jit
def _find_leaving(
    in_arc: int,
    join: int,
    source: Any,
    target: Any,
    cap: Any,
    flow: Any,
    state: Any,
    parent: Any,
    pred: Any,
    pred_dir: Any,
    big: Any,
) -> tuple[int, int, int, int, int]:
    """(result, u_in, v_in, u_out, delta); result 0 = the entering arc itself blocks."""
    if state[in_arc] == STATE_LOWER:
        first, second = source[in_arc], target[in_arc]
    else:
        first, second = target[in_arc], source[in_arc]
    delta = cap[in_arc]
    result = 0
    u_out = -1
    u = first
    while u != join:
        e = pred[u]
        d = flow[e]
        if pred_dir[u] == DIR_DOWN:
            c = cap[e]
            d = big if c >= big else c - d
        if d < delta:
            delta = d
            u_out = u
            result = 1
        u = parent[u]
    u = second
    while u != join:
        e = pred[u]
        d = flow[e]
        if pred_dir[u] == DIR_UP:
            c = cap[e]
            d = big if c >= big else c - d
        if d <= delta:
            delta = d
            u_out = u
            result = 2
        u = parent[u]
    if result == 1:
        return result, first, second, u_out, delta
    return result, second, first, u_out, delta


@_jit
def _pivot(
    in_arc: int,
    source: Any,
    target: Any,
    cap: Any,
    cost: Any,
    flow: Any,
    state: Any,
    pi: Any,
    parent: Any,
    pred: Any,
    pred_dir: Any,
    thread: Any,
    rev_thread: Any,
    succ_num: Any,
    last_succ: Any,
    dirty: Any,
    big: Any,
) -> bool:
    """One pivot with entering arc `in_arc`; False if the cycle is unbounded."""
    # join node: the lowest common ancestor of the entering arc's ends
    u = source[in_arc]
    v = target[in_arc]
    while u != v:
        if succ_num[u] < succ_num[v]:
            u = parent[u]
        else:
            v = parent[v]
    join = u
    result, u_in, v_in, u_out, delta = _find_leaving(
        in_arc, join, source, target, cap, flow, state, parent, pred, pred_dir, big
    )
    if delta >= big:
        return False
    change = result != 0
    # augment along the cycle
    if delta > 0:
        val = state[in_arc] * delta
        flow[in_arc] += val
        u = source[in_arc]
        while u != join:
            flow[pred[u]] -= pred_dir[u] * val
            u = parent[u]
        u = target[in_arc]
        while u != join:
            flow[pred[u]] += pred_dir[u] * val
            u = parent[u]
    if not change:
        state[in_arc] = -state[in_arc]
        return True
    state[in_arc] = STATE_TREE
    e_out = pred[u_out]
    state[e_out] = STATE_LOWER if flow[e_out] == 0 else STATE_UPPER

    # ---- update the tree structure (LEMON's updateTreeStructure) ----
    old_rev_thread = rev_thread[u_out]
    old_succ_num = succ_num[u_out]
    old_last_succ = last_succ[u_out]
    v_out = parent[u_out]
    if u_in == u_out:
        parent[u_in] = v_in
        pred[u_in] = in_arc
        pred_dir[u_in] = DIR_UP if u_in == source[in_arc] else DIR_DOWN
        if thread[v_in] != u_out:
            after = thread[old_last_succ]
            thread[old_rev_thread] = after
            rev_thread[after] = old_rev_thread
            after = thread[v_in]
            thread[v_in] = u_out
            rev_thread[u_out] = v_in
            thread[old_last_succ] = after
            rev_thread[after] = old_last_succ
    else:
        thread_continue = thread[old_last_succ] if old_rev_thread == v_in else thread[v_in]
        stem = u_in
        par_stem = v_in
        last = last_succ[u_in]
        after = thread[last]
        thread[v_in] = u_in
        n_dirty = 0
        dirty[n_dirty] = v_in
        n_dirty += 1
        while stem != u_out:
            next_stem = parent[stem]
            thread[last] = next_stem
            dirty[n_dirty] = last
            n_dirty += 1
            before = rev_thread[stem]
            thread[before] = after
            rev_thread[after] = before
            parent[stem] = par_stem
            par_stem = stem
            stem = next_stem
            if last_succ[stem] == last_succ[par_stem]:
                last = rev_thread[par_stem]
            else:
                last = last_succ[stem]
            after = thread[last]
        parent[u_out] = par_stem
        thread[last] = thread_continue
        rev_thread[thread_continue] = last
        last_succ[u_out] = last
        if old_rev_thread != v_in:
            thread[old_rev_thread] = after
            rev_thread[after] = old_rev_thread
        for i in range(n_dirty):
            w = dirty[i]
            rev_thread[thread[w]] = w
        tmp_sc = 0
        tmp_ls = last_succ[u_out]
        w = u_out
        p = parent[w]
        while w != u_in:
            pred[w] = pred[p]
            pred_dir[w] = -pred_dir[p]
            tmp_sc += succ_num[w] - succ_num[p]
            succ_num[w] = tmp_sc
            last_succ[p] = tmp_ls
            w = p
            p = parent[w]
        pred[u_in] = in_arc
        pred_dir[u_in] = DIR_UP if u_in == source[in_arc] else DIR_DOWN
        succ_num[u_in] = old_succ_num

    up_limit_out = join if last_succ[join] == v_in else -1
    last_succ_out = last_succ[u_out]
    w = v_in
    while w != -1 and last_succ[w] == v_in:
        last_succ[w] = last_succ_out
        w = parent[w]
    if join != old_rev_thread and v_in != old_rev_thread:
        w = v_out
        while w != up_limit_out and last_succ[w] == old_last_succ:
            last_succ[w] = old_rev_thread
            w = parent[w]
    elif last_succ_out != old_last_succ:
        w = v_out
        while w != up_limit_out and last_succ[w] == old_last_succ:
            last_succ[w] = last_succ_out
            w = parent[w]
    w = v_in
    while w != join:
        succ_num[w] += old_succ_num
        w = parent[w]
    w = v_out
    while w != join:
        succ_num[w] -= old_succ_num
        w = parent[w]

    # ---- update the potentials of u_in's subtree ----
    sigma = pi[v_in] - pi[u_in] - pred_dir[u_in] * cost[in_arc]
    end = thread[last_succ[u_in]]
    w = u_in
    while w != end:
        pi[w] += sigma
        w = thread[w]
    return True


@_jit
def _warm_tree(
    n: int,
    m: int,
    tail: Any,
    head: Any,
    supply_in: Any,
    source: Any,
    target: Any,
    cap: Any,
    cost: Any,
    flow: Any,
    state: Any,
    pi: Any,
    parent: Any,
    pred: Any,
    pred_dir: Any,
    thread: Any,
    rev_thread: Any,
    succ_num: Any,
    last_succ: Any,
) -> bool:
    """Start from a shortest-path tree instead of the artificial star (single source s,
    single sink t, an arc s -> t wide enough for the whole supply: the auction's bypass).

    The bypass carries the supply; every other node hangs on its cheapest path to t (one
    real arc with flow 0, towards t), found in reverse topological order. The tree is
    strongly feasible (each node can push flow to the root: forward along flow-0 arcs to
    t, back over the bypass to s, up s's artificial arc), and every flow-0 arc except
    those out of s already has a non-negative reduced cost, so the pivots that remain
    mostly push flow instead of repairing prices. Nodes on cycles or without a path to t
    keep their artificial arc. Returns False (tree untouched) if the shape does not fit.
    """
    s_node = -1
    t_node = -1
    for u in range(n):
        if supply_in[u] > 0:
            if s_node >= 0:
                return False
            s_node = u
        elif supply_in[u] < 0:
            if t_node >= 0:
                return False
            t_node = u
    if s_node < 0 or t_node < 0:
        return False
    total = supply_in[s_node]
    bypass = -1
    for a in range(m):
        if tail[a] == s_node and head[a] == t_node and cap[a] >= total:
            bypass = a
            break
    if bypass < 0:
        return False
    big = np.int64(2**62)
    # in-arcs (CSR) and out-degrees over the arcs a shortest-path tree may use
    usable = np.zeros(m, dtype=np.bool_)
    outdeg = np.zeros(n, dtype=np.int64)
    indptr = np.zeros(n + 1, dtype=np.int64)
    for a in range(m):
        u = tail[a]
        if cap[a] > 0 and u != s_node and u != t_node and head[a] != s_node and u != head[a]:
            usable[a] = True
            outdeg[u] += 1
            indptr[head[a] + 1] += 1
    for i in range(n):
        indptr[i + 1] += indptr[i]
    fill = indptr[:n].copy()
    in_arcs = np.empty(indptr[n], dtype=np.int64)
    for a in range(m):
        if usable[a]:
            in_arcs[fill[head[a]]] = a
            fill[head[a]] += 1
    dist = np.full(n, big, dtype=np.int64)
    best = np.full(n, -1, dtype=np.int64)
    dist[t_node] = 0
    queue = np.empty(n, dtype=np.int64)
    q_head = 0
    q_tail = 0
    for u in range(n):
        if outdeg[u] == 0 and u != s_node:
            queue[q_tail] = u
            q_tail += 1
    while q_head < q_tail:
        v = queue[q_head]
        q_head += 1
        for k in range(indptr[v], indptr[v + 1]):
            a = in_arcs[k]
            u = tail[a]
            if dist[v] < big:
                d = cost[a] + dist[v]
                if d < dist[u]:
                    dist[u] = d
                    best[u] = a
            outdeg[u] -= 1
            if outdeg[u] == 0:
                queue[q_tail] = u
                q_tail += 1
    # the tree: root <- s (artificial, flow 0) <- t (bypass, carries the supply) <- rest
    root = n
    for u in range(n):
        e = m + u
        if u == s_node:
            flow[e] = 0  # keeps its artificial arc u -> root; the bypass carries the supply
            continue
        if u == t_node:
            parent[u] = s_node
            pred[u] = bypass
            pred_dir[u] = DIR_DOWN
            flow[bypass] = total
            state[bypass] = STATE_TREE
            flow[e] = 0
            state[e] = STATE_LOWER
        elif best[u] >= 0:
            parent[u] = head[best[u]]
            pred[u] = best[u]
            pred_dir[u] = DIR_UP
            state[best[u]] = STATE_TREE
            state[e] = STATE_LOWER
        # else: keeps its artificial arc u -> root (flow 0, supply 0)
    # preorder (thread), subtree sizes and last successors by an iterative DFS
    cindptr = np.zeros(n + 2, dtype=np.int64)
    for u in range(n):
        cindptr[parent[u] + 1] += 1
    for i in range(n + 1):
        cindptr[i + 1] += cindptr[i]
    cfill = cindptr[: n + 1].copy()
    children = np.empty(n, dtype=np.int64)
    for u in range(n):
        children[cfill[parent[u]]] = u
        cfill[parent[u]] += 1
    order = np.empty(n + 1, dtype=np.int64)
    stack = np.empty(n + 1, dtype=np.int64)
    top = 0
    stack[top] = root
    top += 1
    cnt = 0
    while top > 0:
        top -= 1
        v = stack[top]
        order[cnt] = v
        cnt += 1
        for k in range(cindptr[v + 1] - 1, cindptr[v] - 1, -1):
            stack[top] = children[k]
            top += 1
    if cnt != n + 1:
        return False  # cannot happen: parents always point to finished nodes
    for i in range(n + 1):
        v = order[i]
        w = order[i + 1] if i < n else root
        thread[v] = w
        rev_thread[w] = v
    for i in range(n, -1, -1):
        v = order[i]
        succ_num[v] = 1
        last_succ[v] = v
    for i in range(n, 0, -1):
        v = order[i]
        p = parent[v]
        succ_num[p] += succ_num[v]
    # last successor: the last node of v's subtree in preorder = order[pos(v) + size - 1]
    for i in range(n + 1):
        v = order[i]
        last_succ[v] = order[i + succ_num[v] - 1]
    # potentials: pi[head] = pi[tail] + cost on tree arcs, in preorder from the root
    for i in range(1, n + 1):
        v = order[i]
        e = pred[v]
        if pred_dir[v] == DIR_UP:
            pi[v] = pi[parent[v]] - cost[e]
        else:
            pi[v] = pi[parent[v]] + cost[e]
    return True


@_jit
def _simplex(
    n: int,
    tail: Any,
    head: Any,
    cap_in: Any,
    cost_in: Any,
    supply_in: Any,
    art_cost: int,
    warm_start: bool,
    block_factor: float,
    ovf_arcs: Any,
    ovf_base: Any,
    stages: Any,
) -> tuple[int, Any, Any, int]:
    """(status, flow per arc, potential per node, pivots).

    `ovf_arcs` (cost `ovf_base` + K) are solved for each K in `stages` in turn, each
    stage starting from the previous optimal tree (see network_simplex)."""
    m = len(tail)
    all_arcs = m + n
    big = np.int64(2**62)
    source = np.empty(all_arcs, dtype=np.int64)
    target = np.empty(all_arcs, dtype=np.int64)
    cap = np.empty(all_arcs, dtype=np.int64)
    cost = np.empty(all_arcs, dtype=np.int64)
    flow = np.zeros(all_arcs, dtype=np.int64)
    state = np.empty(all_arcs, dtype=np.int64)
    source[:m] = tail
    target[:m] = head
    cap[:m] = cap_in
    cost[:m] = cost_in
    state[:m] = STATE_LOWER
    parent = np.empty(n + 1, dtype=np.int64)
    pred = np.empty(n + 1, dtype=np.int64)
    pred_dir = np.zeros(n + 1, dtype=np.int64)
    thread = np.empty(n + 1, dtype=np.int64)
    rev_thread = np.empty(n + 1, dtype=np.int64)
    succ_num = np.empty(n + 1, dtype=np.int64)
    last_succ = np.empty(n + 1, dtype=np.int64)
    pi = np.zeros(n + 1, dtype=np.int64)
    dirty = np.empty(n + 1, dtype=np.int64)
    root = n
    parent[root] = -1
    pred[root] = -1
    thread[root] = 0
    rev_thread[0] = root
    succ_num[root] = n + 1
    last_succ[root] = root - 1
    pi[root] = 0
    for u in range(n):
        e = m + u
        parent[u] = root
        pred[u] = e
        thread[u] = u + 1
        rev_thread[u + 1] = u
        succ_num[u] = 1
        last_succ[u] = u
        cap[e] = big
        state[e] = STATE_TREE
        if supply_in[u] >= 0:
            pred_dir[u] = DIR_UP
            pi[u] = 0
            source[e] = u
            target[e] = root
            flow[e] = supply_in[u]
            cost[e] = 0
        else:
            pred_dir[u] = DIR_DOWN
            pi[u] = art_cost
            source[e] = root
            target[e] = u
            flow[e] = -supply_in[u]
            cost[e] = art_cost

    pivots = 0
    warm = warm_start and _warm_tree(
        n, m, tail, head, supply_in, source, target, cap, cost, flow, state, pi,
        parent, pred, pred_dir, thread, rev_thread, succ_num, last_succ,
    )  # fmt: skip
    # ---- initial pivots: wide arcs on a path from the sink back to the source ----
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
    if not warm and n_pos == 1 and n_neg == 1 and total > 0:
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
                if cap[a] >= total:
                    path[n_path] = a
                    n_path += 1
                    reached[u] = True
                    stack[top] = u
                    top += 1
        for i in range(n_path):
            a = path[i]
            if state[a] * (cost[a] + pi[source[a]] - pi[target[a]]) >= 0:
                continue
            if not _pivot(
                a, source, target, cap, cost, flow, state, pi, parent, pred, pred_dir,
                thread, rev_thread, succ_num, last_succ, dirty, big,
            ):  # fmt: skip
                return INFEASIBLE, flow[:m], pi[:n], pivots
            pivots += 1

    # ---- block search pivot rule, once per overflow stage ----
    block = max(int(block_factor * math.sqrt(m)), 10) if m > 0 else 1
    for k_stage in range(len(stages)):
        if k_stage > 0:
            # new overflow costs: tree arcs among them move potentials, so recompute all
            # potentials from the (unchanged) tree in preorder
            for i in range(len(ovf_arcs)):
                cost[ovf_arcs[i]] = ovf_base[i] + stages[k_stage]
            w = thread[root]
            while w != root:
                e = pred[w]
                if pred_dir[w] == DIR_UP:
                    pi[w] = pi[parent[w]] - cost[e]
                else:
                    pi[w] = pi[parent[w]] + cost[e]
                w = thread[w]
        ok, n_piv = _block_search(
            m, block, source, target, cap, cost, flow, state, pi, parent, pred, pred_dir,
            thread, rev_thread, succ_num, last_succ, dirty, big,
        )  # fmt: skip
        pivots += n_piv
        if not ok:
            return INFEASIBLE, flow[:m], pi[:n], pivots

    for e in range(m, all_arcs):
        if flow[e] != 0:
            return INFEASIBLE, flow[:m], pi[:n], pivots
    for i in range(len(ovf_arcs)):
        if flow[ovf_arcs[i]] != 0:
            return INFEASIBLE, flow[:m], pi[:n], pivots
    return OPTIMAL, flow[:m].copy(), pi[:n].copy(), pivots


@_jit
def _block_search(
    m: int,
    block: int,
    source: Any,
    target: Any,
    cap: Any,
    cost: Any,
    flow: Any,
    state: Any,
    pi: Any,
    parent: Any,
    pred: Any,
    pred_dir: Any,
    thread: Any,
    rev_thread: Any,
    succ_num: Any,
    last_succ: Any,
    dirty: Any,
    big: Any,
) -> tuple[bool, int]:
    """Block search pivots until optimal: (False if unbounded, pivots)."""
    pivots = 0
    next_arc = 0
    while m > 0:
        best = np.int64(0)
        in_arc = -1
        cnt = block
        found = False
        e = next_arc
        for _ in range(m):
            c = state[e] * (cost[e] + pi[source[e]] - pi[target[e]])
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
        if not _pivot(
            in_arc, source, target, cap, cost, flow, state, pi, parent, pred, pred_dir,
            thread, rev_thread, succ_num, last_succ, dirty, big,
        ):  # fmt: skip
            return False, pivots
        pivots += 1
    return True, pivots


def network_simplex(
    n_nodes: int,
    tail: I64,
    head: I64,
    cap: I64,
    cost: I64,
    supply: I64,
    warm_start: bool = True,
    block_factor: float | None = None,
    cap_stages: bool = True,
    stage_ratio: float = STAGE_RATIO,
) -> tuple[I64, I64, int]:
    """Optimal flow (per arc) of min sum cost x flow s.t. 0 <= flow <= cap and
    out - in = supply at every node; also the tree potentials (reduced cost
    cost + pi[tail] - pi[head] >= 0 where flow < cap, <= 0 where flow > 0) and the pivot
    count. Raises SimplexError if no feasible flow exists or numbers could overflow.

    `warm_start` uses the shortest-path initial tree where it applies (see _warm_tree);
    `block_factor` scales the pricing block (x sqrt(arcs), at least 10); default
    BLOCK_FACTOR, or CAP_BLOCK_FACTOR when there are overflow stages.

    `cap_stages` (single source and sink only): every capped arc out of the source gets an
    uncapped parallel "overflow" arc costing K more, solved for K = 0 (the caps relaxed),
    1, 2, 4, ... ticks up to twice the largest |cost|, then big-M (exact: no overflow
    left, else no feasible flow), each stage from the previous tree. See _overflow_arcs."""
    tail = np.ascontiguousarray(tail, dtype=np.int64)
    head = np.ascontiguousarray(head, dtype=np.int64)
    cap = np.ascontiguousarray(cap, dtype=np.int64)
    cost = np.ascontiguousarray(cost, dtype=np.int64)
    supply = np.ascontiguousarray(supply, dtype=np.int64)
    m = len(tail)
    if not (len(head) == len(cap) == len(cost) == m and len(supply) == n_nodes):
        raise ValueError("arc arrays must have one length and supply one entry per node")
    if m and (tail.min() < 0 or head.min() < 0 or max(tail.max(), head.max()) >= n_nodes):
        raise ValueError("arc end out of range")
    if m and cap.min() < 0:
        raise ValueError("negative capacity")
    if int(supply.sum()) != 0:
        raise SimplexError("supplies do not sum to zero: no feasible flow")
    max_cost = int(np.abs(cost).max()) if m else 0
    art_cost = (max_cost + 1) * (n_nodes + 1)
    pos = int(supply[supply > 0].sum())
    # potentials <= 2 x art_cost; flows <= total supply (+ cap of one arc while pivoting)
    if 4 * art_cost >= 2**62 or pos >= 2**61 or (m and int(cap.max()) >= 2**61):
        raise SimplexError("numbers too large for exact int64 network simplex")
    ovf = _overflow_arcs(tail, head, cap, supply) if cap_stages else np.zeros(0, np.int64)
    stages = [0]
    if len(ovf):
        k = 1
        while k <= 2 * max_cost + 1:
            stages.append(k)
            k = max(k + 1, int(k * stage_ratio))
        stages.append(art_cost)
        src = tail[ovf]
        tail = np.concatenate([tail, src])
        head = np.concatenate([head, head[ovf]])
        cap = np.concatenate([cap, np.full(len(ovf), pos, dtype=np.int64)])
        cost = np.concatenate([cost, cost[ovf]])
    if block_factor is None:
        block_factor = CAP_BLOCK_FACTOR if len(ovf) else BLOCK_FACTOR
    ovf_ids = np.arange(m, m + len(ovf), dtype=np.int64)
    status, flow, pi, pivots = _simplex(
        n_nodes, tail, head, cap, cost, supply, art_cost, warm_start, float(block_factor),
        ovf_ids, cost[ovf_ids].copy(), np.array(stages, dtype=np.int64),
    )  # fmt: skip
    if status != OPTIMAL:
        raise SimplexError("no feasible flow satisfies the supplies")
    return flow[:m].copy(), pi, int(pivots)


def _overflow_arcs(tail: I64, head: I64, cap: I64, supply: I64) -> I64:
    """Capped arcs out of the single source (not to the single sink), in arc order.

    Why (auction phase 2, awarded quantity caps source -> M_t): when a cap binds, M_t's
    potential is the market price plus a scarcity set by the plan at the margin, so M_t and
    everything hanging below it (about 1/T of the tree) sit under that plan. Each time the
    pivots find a better plan for the margin, the whole subtree is re-hung and its
    potentials updated: ~1 200 node updates per pivot at N = 5 000 against ~14 in phase 1,
    quadratic in N. With the parallel overflow arc (cost + K) in the tree, M_t's potential
    is pinned at price + K while the cap is exceeded; raising K in stages pushes the
    lowest-value demand out of the hour in cheap local pivots, and the subtree moves
    about once per hour and stage instead of once per change of the marginal plan.
    """
    pos = np.flatnonzero(supply > 0)
    neg = np.flatnonzero(supply < 0)
    if len(pos) != 1 or len(neg) != 1:
        return np.zeros(0, dtype=np.int64)
    total = supply[pos[0]]
    mask = (tail == pos[0]) & (head != neg[0]) & (cap < total)
    return np.flatnonzero(mask).astype(np.int64)
