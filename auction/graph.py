"""The min-cost-flow network of the auction, built with numpy (no per-arc Python loops).

Nodes: source, sink, one node per MTU (M_t), per (node, MTU) (NT), per shared (point, MTU)
(PT), per stop (S_j), per non-last stop a "battery out" node (V_j), per plan (D_p).

  source -> M_t         cost market price of t; cap awarded quantity (phase 2) or unbounded
  M_t    -> NT(n,t)     cap node capacity x MTU hours
  NT     -> PT(c,t)     cap point power x MTU hours
  PT|NT  -> S_j | D_p   cap min(vehicle, point power) x overlap of stop j with t
  S_j    -> V_j | D_p   battery arc, cap B - r_j

Exact shortcuts: PT(c,t) exists only where the stops at c in t could together exceed the
point's power (else their own caps already hold it); where the stops at node n in t could
not exceed its capacity, arcs start at M_t instead of NT(n,t); a plan whose bid fits under
every battery cap has no S/V chain, its stop arcs end at D_p.
  V_j    -> D_p         trip exit, cap t'_j (purchased energy the drive after stop j uses)
  V_j    -> S_{j+1}     carry-over, unbounded
  D_p    -> sink        one arc per bid step: cap step energy, cost -bid price
  source -> sink        bypass, cost 0: supply nobody buys

Battery (derivation in docs/auction.md): with arrival SoC a_j, the physical SoC at the end
of stop j is S_j = a_j + E_j with a_1 = soc0 and a_{j+1} = max(0, S_j - trip_j). Energy is
fungible, so let the drives use the initial energy first: r_j = max(0, soc0 - trips before
j) of it is still aboard at stop j, and trip j uses t'_j = max(0, trip_j - r_j) of the
purchased energy. The flow into S_j is the purchased energy aboard, so S_j <= B becomes the
battery arc cap B - r_j; the trip exit lets at most t'_j leave, so carry-over >= the
physical remainder, which only tightens later caps and is never needed by the optimum.
Any physically feasible E routes with carry = max(0, purchased - t'_j): the projection is
exact.

All capacities are floored to integer multiples of the energy unit and all prices rounded
to integer ticks, so OR-Tools works in exact int64 arithmetic.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from auction.problem import Problem
from schemas.auction import AuctionParams

I64 = npt.NDArray[np.int64]
F64 = npt.NDArray[np.float64]


@dataclass(frozen=True)
class Network:
    n_nodes: int
    tail: I64
    head: I64
    cap: I64  # flow units
    cost: I64  # price ticks per flow unit
    cap_frac: F64  # real cap - floored cap, in flow units (0 <= frac < 1, unbounded: 0)
    supply: int
    d0: int  # node id of plan 0's D_p; plan p is d0 + p
    award_arc: I64  # (T,) source -> M_t
    nt_arc: I64  # (nodes*T,) M_t -> NT
    x_arc: I64  # (pairs,) arc of each stop-MTU pair
    battery_arc: I64  # (stops,) -1 where the plan's battery cannot bind (no chain)
    step_arc: I64  # (steps,)
    pt_arc: I64  # arcs NT -> PT (shared points)
    pt_point: I64  # point of each pt arc
    pt_t: I64


def _floor_units(kwh: F64, unit: float) -> tuple[I64, F64]:
    # The small epsilon stops 11 kW x 1 h / 1e-5 landing on 1099999.9999 and losing a unit.
    exact = kwh / unit
    units = np.floor(exact + 1e-6).astype(np.int64)
    return units, np.maximum(exact - units, 0.0)


def build_network(pb: Problem, params: AuctionParams) -> Network:
    unit, tick = params.energy_unit_kwh, params.price_tick_eur_mwh
    T, n_nodes_grid = pb.T, pb.node_cap_kwh.shape[0]
    n_st, n_pl = pb.n_stops, pb.n_plans
    SRC, SNK = 0, 1
    m0 = 2
    nt0 = m0 + T
    # A (point, MTU) needs its own node only if the stops there could together exceed
    # the point's power; a (node, MTU) only if they could exceed the node's capacity.
    # Otherwise the constraint is redundant and the arcs skip that layer (exact).
    key = pb.x_point * T + pb.x_t
    uniq, inv = np.unique(key, return_inverse=True)
    key_cap = np.bincount(inv, weights=pb.x_cap_kwh, minlength=len(uniq))
    shared = key_cap > pb.point_cap_kwh[uniq // T] + 1e-9
    nt_key = pb.x_node * T + pb.x_t
    nt_load = np.bincount(nt_key, weights=pb.x_cap_kwh, minlength=n_nodes_grid * T)
    nt_free = nt_load <= pb.node_cap_kwh.ravel() + 1e-9
    shared_rank = np.cumsum(shared) - 1
    pt0 = nt0 + n_nodes_grid * T
    step_cap, step_frac = _floor_units(pb.step_kwh, unit)
    supply = int(step_cap.sum())
    big = max(supply, 1)

    # Battery chain: r_j = initial energy still aboard at stop j (drives use it first).
    last = pb.stop_last()
    first = pb.stop_first()
    cs = np.cumsum(pb.stop_trip_kwh)
    plan_first = np.flatnonzero(first)[pb.stop_plan]
    trips_before = (cs - pb.stop_trip_kwh) - (cs[plan_first] - pb.stop_trip_kwh[plan_first])
    r = np.maximum(pb.soc0_kwh[pb.stop_plan] - trips_before, 0.0)
    t_eff = np.maximum(pb.stop_trip_kwh - r, 0.0)
    bcap, bfrac = _floor_units(pb.battery_kwh[pb.stop_plan] - r, unit)
    # A plan whose whole bid fits under every battery cap can never hit the battery
    # limit: its stops feed D_p directly and the chain (2 nodes, 3 arcs per stop) is
    # dropped. This exact reduction removes most of the network's nodes.
    bid_units = np.bincount(pb.step_plan, weights=step_cap, minlength=n_pl)
    min_bcap = np.minimum.reduceat(bcap, np.flatnonzero(first)) if n_st else bcap
    chain = (bid_units > min_bcap)[pb.stop_plan] if n_st else np.zeros(0, dtype=bool)
    s_rank = np.cumsum(chain) - 1
    vmask = chain & ~last
    v_rank = np.cumsum(vmask) - 1
    s0 = pt0 + int(shared.sum())
    v0 = s0 + int(chain.sum())
    d0 = v0 + int(vmask.sum())
    n_nodes = d0 + n_pl
    tails: list[I64] = []
    heads: list[I64] = []
    caps: list[I64] = []
    costs: list[I64] = []
    fracs: list[F64] = []
    count = 0

    def add(t: I64, h: I64, c: I64, cost: I64 | int, frac: F64 | None = None) -> I64:
        nonlocal count
        n = len(t)
        tails.append(t.astype(np.int64))
        heads.append(h.astype(np.int64))
        caps.append(c.astype(np.int64))
        costs.append(np.broadcast_to(np.asarray(cost, dtype=np.int64), (n,)))
        fracs.append(np.zeros(n) if frac is None else frac)
        idx = np.arange(count, count + n, dtype=np.int64)
        count += n
        return idx

    ts = np.arange(T, dtype=np.int64)
    price_ticks = np.rint(pb.price / tick).astype(np.int64)
    if pb.award_kwh is None:
        award_arc = add(np.full(T, SRC), m0 + ts, np.full(T, big), price_ticks)
    else:
        acap, afrac = _floor_units(pb.award_kwh, unit)
        award_arc = add(np.full(T, SRC), m0 + ts, np.minimum(acap, big), price_ticks, afrac)
    ncap, nfrac = _floor_units(pb.node_cap_kwh.ravel(), unit)
    nt_ids = np.arange(n_nodes_grid * T, dtype=np.int64)
    nt_arc = add(m0 + nt_ids % T, nt0 + nt_ids, np.minimum(ncap, big), 0, nfrac)
    pt_key = uniq[shared]
    pt_point, pt_t = pt_key // T, pt_key % T
    pcap, pfrac = _floor_units(pb.point_cap_kwh[pt_point], unit)
    pt_nt = pb.point_node[pt_point] * T + pt_t
    pt_from = np.where(nt_free[pt_nt], m0 + pt_t, nt0 + pt_nt)
    pt_arc = add(pt_from, pt0 + np.arange(len(pt_key)), np.minimum(pcap, big), 0, pfrac)

    x_shared = shared[inv]
    direct = np.where(nt_free[nt_key], m0 + pb.x_t, nt0 + nt_key)
    x_from = np.where(x_shared, pt0 + shared_rank[inv], direct)
    xcap, xfrac = _floor_units(pb.x_cap_kwh, unit)
    x_to = np.where(chain[pb.x_stop], s0 + s_rank[pb.x_stop], d0 + pb.stop_plan[pb.x_stop])
    x_arc = add(x_from, x_to, xcap, 0, xfrac)

    cst = np.flatnonzero(chain)
    b_head = np.where(last[cst], d0 + pb.stop_plan[cst], v0 + v_rank[cst])
    battery_arc = np.full(n_st, -1, dtype=np.int64)
    battery_arc[cst] = add(s0 + s_rank[cst], b_head, np.minimum(bcap[cst], big), 0, bfrac[cst])
    mid = np.flatnonzero(vmask)
    ecap, efrac = _floor_units(t_eff[mid], unit)
    add(v0 + v_rank[mid], d0 + pb.stop_plan[mid], np.minimum(ecap, big), 0, efrac)
    add(v0 + v_rank[mid], s0 + s_rank[mid + 1], np.full(len(mid), big), 0)

    step_ticks = np.rint(pb.step_price / tick).astype(np.int64)
    step_arc = add(
        d0 + pb.step_plan, np.full(len(pb.step_plan), SNK), step_cap, -step_ticks, step_frac
    )
    add(np.array([SRC]), np.array([SNK]), np.array([big]), 0)
    return Network(
        n_nodes=n_nodes,
        tail=np.concatenate(tails),
        head=np.concatenate(heads),
        cap=np.concatenate(caps),
        cost=np.concatenate(costs),
        cap_frac=np.concatenate(fracs),
        supply=supply,
        d0=d0,
        award_arc=award_arc,
        nt_arc=nt_arc,
        x_arc=x_arc,
        battery_arc=battery_arc,
        step_arc=step_arc,
        pt_arc=pt_arc,
        pt_point=pt_point,
        pt_t=pt_t,
    )


def useful_arcs(pb: Problem, net: Network) -> npt.NDArray[np.bool_]:
    """Arcs that can carry flow at an optimum; the rest are left out of the solve.

    Left out: zero-capacity arcs; stop-MTU arcs whose market price is not below the plan's
    highest bid; bid steps not above the cheapest market price the plan can reach (every
    node price is at least the market price, so neither can ever be profitable). solve_flow
    verifies the left-out arcs against the optimal potentials, so this is exact.
    """
    mask = net.cap > 0
    if len(pb.x_stop) == 0:
        mask[net.step_arc] = False
        return mask
    x_price = pb.price[pb.x_t]
    top_bid = np.full(pb.n_plans, -np.inf)
    np.maximum.at(top_bid, pb.step_plan, pb.step_price)
    mask[net.x_arc] &= x_price < top_bid[pb.x_plan]
    cheapest = np.full(pb.n_plans, np.inf)
    np.minimum.at(cheapest, pb.x_plan, x_price)
    mask[net.step_arc] &= pb.step_price > cheapest[pb.step_plan]
    return mask
