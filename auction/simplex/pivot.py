"""One pivot of the network simplex: augment along the cycle, exchange the arcs, and
update the tree and its potentials (LEMON's `findJoinNode`, `findLeavingArc`,
`changeFlow`, `updateTreeStructure`, `updatePotential`).

Strongly feasible trees: of the arcs that block the cycle, the last one met leaves, so
degenerate pivots cannot cycle. A pivot touches only the cycle, the subtree that is
re-hung and its potentials, never the whole tree.
"""

from __future__ import annotations

from auction.simplex.basis import BIG, DIR_DOWN, DIR_UP, STATE_LOWER, STATE_TREE, STATE_UPPER, Basis
from auction.simplex.jit import kernel


@kernel
def find_leaving(in_arc: int, join: int, b: Basis) -> tuple[int, int, int, int, int]:
    """(result, u_in, v_in, u_out, delta); result 0 = the entering arc itself blocks."""
    if b.state[in_arc] == STATE_LOWER:
        first, second = b.source[in_arc], b.target[in_arc]
    else:
        first, second = b.target[in_arc], b.source[in_arc]
    delta = b.cap[in_arc]
    result = 0
    u_out = -1
    u = first
    while u != join:
        e = b.pred[u]
        d = b.flow[e]
        if b.pred_dir[u] == DIR_DOWN:
            c = b.cap[e]
            d = BIG if c >= BIG else c - d
        if d < delta:
            delta = d
            u_out = u
            result = 1
        u = b.parent[u]
    u = second
    while u != join:
        e = b.pred[u]
        d = b.flow[e]
        if b.pred_dir[u] == DIR_UP:
            c = b.cap[e]
            d = BIG if c >= BIG else c - d
        if d <= delta:
            delta = d
            u_out = u
            result = 2
        u = b.parent[u]
    if result == 1:
        return result, first, second, u_out, delta
    return result, second, first, u_out, delta


@kernel
def pivot(in_arc: int, b: Basis) -> bool:
    """One pivot with entering arc `in_arc`; False if the cycle is unbounded."""
    # join node: the lowest common ancestor of the entering arc's ends
    u = b.source[in_arc]
    v = b.target[in_arc]
    while u != v:
        if b.succ_num[u] < b.succ_num[v]:
            u = b.parent[u]
        else:
            v = b.parent[v]
    join = u
    result, u_in, v_in, u_out, delta = find_leaving(in_arc, join, b)
    if delta >= BIG:
        return False
    change = result != 0
    # augment along the cycle
    if delta > 0:
        val = b.state[in_arc] * delta
        b.flow[in_arc] += val
        u = b.source[in_arc]
        while u != join:
            b.flow[b.pred[u]] -= b.pred_dir[u] * val
            u = b.parent[u]
        u = b.target[in_arc]
        while u != join:
            b.flow[b.pred[u]] += b.pred_dir[u] * val
            u = b.parent[u]
    if not change:
        b.state[in_arc] = -b.state[in_arc]
        return True
    b.state[in_arc] = STATE_TREE
    e_out = b.pred[u_out]
    b.state[e_out] = STATE_LOWER if b.flow[e_out] == 0 else STATE_UPPER

    # ---- update the tree structure (LEMON's updateTreeStructure) ----
    old_rev_thread = b.rev_thread[u_out]
    old_succ_num = b.succ_num[u_out]
    old_last_succ = b.last_succ[u_out]
    v_out = b.parent[u_out]
    if u_in == u_out:
        b.parent[u_in] = v_in
        b.pred[u_in] = in_arc
        b.pred_dir[u_in] = DIR_UP if u_in == b.source[in_arc] else DIR_DOWN
        if b.thread[v_in] != u_out:
            after = b.thread[old_last_succ]
            b.thread[old_rev_thread] = after
            b.rev_thread[after] = old_rev_thread
            after = b.thread[v_in]
            b.thread[v_in] = u_out
            b.rev_thread[u_out] = v_in
            b.thread[old_last_succ] = after
            b.rev_thread[after] = old_last_succ
    else:
        thread_continue = b.thread[old_last_succ] if old_rev_thread == v_in else b.thread[v_in]
        stem = u_in
        par_stem = v_in
        last = b.last_succ[u_in]
        after = b.thread[last]
        b.thread[v_in] = u_in
        n_dirty = 0
        b.dirty[n_dirty] = v_in
        n_dirty += 1
        while stem != u_out:
            next_stem = b.parent[stem]
            b.thread[last] = next_stem
            b.dirty[n_dirty] = last
            n_dirty += 1
            before = b.rev_thread[stem]
            b.thread[before] = after
            b.rev_thread[after] = before
            b.parent[stem] = par_stem
            par_stem = stem
            stem = next_stem
            if b.last_succ[stem] == b.last_succ[par_stem]:
                last = b.rev_thread[par_stem]
            else:
                last = b.last_succ[stem]
            after = b.thread[last]
        b.parent[u_out] = par_stem
        b.thread[last] = thread_continue
        b.rev_thread[thread_continue] = last
        b.last_succ[u_out] = last
        if old_rev_thread != v_in:
            b.thread[old_rev_thread] = after
            b.rev_thread[after] = old_rev_thread
        for i in range(n_dirty):
            w = b.dirty[i]
            b.rev_thread[b.thread[w]] = w
        tmp_sc = 0
        tmp_ls = b.last_succ[u_out]
        w = u_out
        p = b.parent[w]
        while w != u_in:
            b.pred[w] = b.pred[p]
            b.pred_dir[w] = -b.pred_dir[p]
            tmp_sc += b.succ_num[w] - b.succ_num[p]
            b.succ_num[w] = tmp_sc
            b.last_succ[p] = tmp_ls
            w = p
            p = b.parent[w]
        b.pred[u_in] = in_arc
        b.pred_dir[u_in] = DIR_UP if u_in == b.source[in_arc] else DIR_DOWN
        b.succ_num[u_in] = old_succ_num

    up_limit_out = join if b.last_succ[join] == v_in else -1
    last_succ_out = b.last_succ[u_out]
    w = v_in
    while w != -1 and b.last_succ[w] == v_in:
        b.last_succ[w] = last_succ_out
        w = b.parent[w]
    if join != old_rev_thread and v_in != old_rev_thread:
        w = v_out
        while w != up_limit_out and b.last_succ[w] == old_last_succ:
            b.last_succ[w] = old_rev_thread
            w = b.parent[w]
    elif last_succ_out != old_last_succ:
        w = v_out
        while w != up_limit_out and b.last_succ[w] == old_last_succ:
            b.last_succ[w] = last_succ_out
            w = b.parent[w]
    w = v_in
    while w != join:
        b.succ_num[w] += old_succ_num
        w = b.parent[w]
    w = v_out
    while w != join:
        b.succ_num[w] -= old_succ_num
        w = b.parent[w]

    # ---- update the potentials of u_in's subtree ----
    sigma = b.pi[v_in] - b.pi[u_in] - b.pred_dir[u_in] * b.cost[in_arc]
    end = b.thread[b.last_succ[u_in]]
    w = u_in
    while w != end:
        b.pi[w] += sigma
        w = b.thread[w]
    return True
