"""The network simplex (simplex.py): tiny hand-made networks, random graphs against
OR-Tools, and the auction solved by both solvers (same welfare and prices)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from ortools.graph.python import min_cost_flow as ortools_mcf

from auction.clear import solve
from auction.flow import FlowError, solve_flow
from auction.graph import Network
from auction.simplex import SimplexError, network_simplex
from schemas.auction import AuctionInstance, AuctionParams
from tests.unit.auction.test_properties import instances


def ns(
    n: int, arcs: list[tuple[int, int, int, int]], supply: list[int], **kw: object
) -> tuple[np.ndarray, np.ndarray, int]:
    a = np.array(arcs, dtype=np.int64).reshape(-1, 4)
    return network_simplex(n, a[:, 0], a[:, 1], a[:, 2], a[:, 3], np.array(supply), **kw)  # type: ignore[arg-type]


def check_optimal(
    n: int,
    arcs: list[tuple[int, int, int, int]],
    supply: list[int],
    flow: np.ndarray,
    pi: np.ndarray,
) -> None:
    a = np.array(arcs, dtype=np.int64).reshape(-1, 4)
    t, h, cap, cost = a[:, 0], a[:, 1], a[:, 2], a[:, 3]
    assert ((flow >= 0) & (flow <= cap)).all()
    balance = np.bincount(t, flow, minlength=n) - np.bincount(h, flow, minlength=n)
    assert np.array_equal(balance, np.array(supply))
    rc = cost + pi[t] - pi[h]  # complementary slackness proves optimality
    assert ((flow == cap) | (rc >= 0)).all() and ((flow == 0) | (rc <= 0)).all()


@pytest.mark.parametrize("warm", [True, False])
def test_two_paths_the_cheap_one_fills_first(warm: bool) -> None:
    # 0 -> 2 -> 1 costs 3 (cap 4), 0 -> 3 -> 1 costs 5 (cap 10), bypass 0 -> 1 costs 9
    arcs = [(0, 2, 4, 1), (2, 1, 10, 2), (0, 3, 10, 2), (3, 1, 10, 3), (0, 1, 10, 9)]
    flow, pi, _ = ns(4, arcs, [10, -10, 0, 0], warm_start=warm)
    assert flow.tolist() == [4, 4, 6, 6, 0]
    check_optimal(4, arcs, [10, -10, 0, 0], flow, pi)


@pytest.mark.parametrize("warm", [True, False])
def test_zero_capacity_arcs_carry_nothing(warm: bool) -> None:
    # the free path 0 -> 2 -> 1 has a zero-capacity arc: the flow takes the bypass
    arcs = [(0, 2, 0, -100), (2, 1, 5, -100), (0, 1, 5, 0)]
    flow, pi, _ = ns(3, arcs, [5, -5, 0], warm_start=warm)
    assert flow.tolist() == [0, 0, 5]
    check_optimal(3, arcs, [5, -5, 0], flow, pi)


@pytest.mark.parametrize("warm", [True, False])
def test_auction_shape_negative_costs_fill_the_best_bids(warm: bool) -> None:
    """source -> MTU (price) -> plan -> sink (-bid), bypass at 0: the auction in miniature.
    MTUs cost 50 and 80 (caps 3 and 10); bids are 100 (cap 4) and 60 (cap 5)."""
    arcs = [(0, 2, 3, 50), (0, 3, 10, 80), (2, 4, 10, 0), (3, 4, 10, 0)]
    arcs += [(4, 1, 4, -100), (4, 1, 5, -60), (0, 1, 9, 0)]
    flow, pi, _ = ns(5, arcs, [9, -9, 0, 0, 0], warm_start=warm)
    # 3 units at 50 for the 100 bid, 1 at 80 for it; the 60 bid loses against 80.
    assert flow.tolist() == [3, 1, 3, 1, 4, 0, 5]
    check_optimal(5, arcs, [9, -9, 0, 0, 0], flow, pi)


@pytest.mark.parametrize("warm", [True, False])
def test_a_negative_cycle_is_saturated_not_unbounded(warm: bool) -> None:
    # the auction network is acyclic by construction; the solver handles cycles anyway
    arcs = [(2, 3, 7, -5), (3, 2, 4, 1), (0, 1, 3, 2)]
    flow, pi, _ = ns(4, arcs, [3, -3, 0, 0], warm_start=warm)
    assert flow.tolist() == [4, 4, 3]
    check_optimal(4, arcs, [3, -3, 0, 0], flow, pi)


def test_infeasible_supplies_are_refused() -> None:
    with pytest.raises(SimplexError, match="sum to zero"):
        ns(2, [(0, 1, 5, 1)], [5, -4])
    with pytest.raises(SimplexError, match="no feasible flow"):
        ns(2, [(0, 1, 3, 1)], [5, -5])  # capacity too small
    with pytest.raises(SimplexError, match="no feasible flow"):
        ns(3, [(0, 2, 9, 1)], [5, -5, 0])  # the sink cannot be reached


def test_bad_input_and_overflow_are_refused() -> None:
    with pytest.raises(ValueError, match="out of range"):
        ns(2, [(0, 2, 5, 1)], [0, 0])
    with pytest.raises(ValueError, match="negative capacity"):
        ns(2, [(0, 1, -1, 1)], [0, 0])
    with pytest.raises(SimplexError, match="too large"):
        ns(2, [(0, 1, 5, 2**60)], [5, -5])


def test_empty_network_and_zero_supply() -> None:
    flow, pi, pivots = ns(3, [], [0, 0, 0])
    assert (len(flow), pivots) == (0, 0) and pi.tolist() == [0, 0, 0]
    flow, _, _ = ns(2, [(0, 1, 5, 3)], [0, 0])
    assert flow.tolist() == [0]


def test_flow_error_when_the_auction_network_is_infeasible() -> None:
    e = np.array([], dtype=np.int64)
    net = Network(
        n_nodes=2, tail=np.array([0]), head=np.array([1]), cap=np.array([1]),
        cost=np.array([0]), cap_frac=np.zeros(1), supply=5, d0=2, award_arc=e,
        nt_arc=e, x_arc=e, battery_arc=e, step_arc=e, pt_arc=e, pt_point=e, pt_t=e,
    )  # fmt: skip
    for solver in ("simplex", "ortools"):
        with pytest.raises(FlowError):
            solve_flow(net, solver=solver)  # type: ignore[arg-type]


@settings(max_examples=150, deadline=None, derandomize=True)
@given(st.randoms(use_true_random=False), st.booleans())
def test_random_graphs_match_ortools_optimal_cost(rng: object, warm: bool) -> None:
    r = rng  # a random.Random
    n = r.randint(2, 12)  # type: ignore[attr-defined]
    arcs = []
    for _ in range(r.randint(0, 40)):  # type: ignore[attr-defined]
        u, v = r.randrange(n), r.randrange(n)  # type: ignore[attr-defined]
        if u != v:
            arcs.append((u, v, r.randint(0, 9), r.randint(-20, 20)))  # type: ignore[attr-defined]
    s = r.randint(0, 15)  # type: ignore[attr-defined]
    arcs.append((0, n - 1, s + r.randint(0, 3), 30))  # type: ignore[attr-defined]
    supply = [0] * n
    supply[0], supply[n - 1] = s, -s
    flow, pi, _ = ns(n, arcs, supply, warm_start=warm)
    check_optimal(n, arcs, supply, flow, pi)
    a = np.array(arcs, dtype=np.int64)
    ref = ortools_mcf.SimpleMinCostFlow()
    ref.add_arcs_with_capacity_and_unit_cost(a[:, 0], a[:, 1], a[:, 2], a[:, 3])
    ref.set_nodes_supplies(np.arange(n), np.array(supply, dtype=np.int64))
    assert ref.solve() == ref.OPTIMAL
    assert int(flow @ a[:, 3]) == ref.optimal_cost()
    again, _, _ = ns(n, arcs, supply, warm_start=warm)
    assert np.array_equal(flow, again)  # deterministic


@settings(max_examples=40, deadline=None, derandomize=True)
@given(instances())
def test_both_solvers_reach_the_same_welfare_and_prices(
    case: tuple[AuctionInstance, int],
) -> None:
    inst, phase = case
    a = solve(inst, phase, AuctionParams(solver="simplex"))
    b = solve(inst, phase, AuctionParams(solver="ortools"))
    assert int(a.sol.flow @ a.net.cost) == int(b.sol.flow @ b.net.cost)  # exact optimum
    assert abs(a.welfare_eur - b.welfare_eur) <= 1e-9 * max(1.0, abs(b.welfare_eur))
    assert np.array_equal(a.prices.node_ticks, b.prices.node_ticks)
    assert np.array_equal(a.prices.mtu_ticks, b.prices.mtu_ticks)
