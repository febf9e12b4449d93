"""Property tests on random small instances: optimality against the LP, feasibility,
individual rationality, determinism, and exactness of arc pricing."""

from __future__ import annotations

import random
from datetime import date

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from auction.clear import solve
from auction.flow import solve_flow
from auction.instance_check import check_instance
from auction.lp import solve_lp
from auction.result import to_result
from schemas.auction import AuctionInstance, AuctionParams
from tests.unit.auction.candidates import candidate_arcs
from tests.unit.auction.checks import assert_feasible, assert_individually_rational
from tests.unit.auction.factory import random_instance

DAYS = [date(2026, 11, 25), date(2026, 3, 29), date(2026, 10, 25)]


@st.composite
def instances(draw: st.DrawFn) -> tuple[AuctionInstance, int]:
    rng = draw(st.randoms(use_true_random=False))
    phase2 = draw(st.booleans())
    inst = random_instance(
        rng,
        n_plans=draw(st.integers(1, 8)),
        mtu_minutes=draw(st.sampled_from([60, 15])),
        day=draw(st.sampled_from(DAYS)),
        phase2=phase2,
    )
    phase = 2 if phase2 else 1
    assert check_instance(inst, phase) == []
    return inst, phase


SETTINGS = settings(max_examples=60, deadline=None, derandomize=True)


@SETTINGS
@given(instances())
def test_flow_welfare_equals_lp_welfare(case: tuple[AuctionInstance, int]) -> None:
    inst, phase = case
    cl = solve(inst, phase, AuctionParams())
    lp = solve_lp(cl.pb)
    assert lp.status == "Optimal"
    assert abs(cl.welfare_eur - lp.welfare_eur) <= 1e-6 * max(1.0, abs(lp.welfare_eur))
    # the reported a-priori bound really bounds the gap
    assert lp.welfare_eur - cl.welfare_eur <= cl.error_bound_eur + 1e-7


@SETTINGS
@given(instances())
def test_every_constraint_and_individual_rationality_hold(
    case: tuple[AuctionInstance, int],
) -> None:
    inst, phase = case
    cl = solve(inst, phase, AuctionParams())
    res = to_result(inst, cl)
    assert_feasible(inst, cl, res)
    assert_individually_rational(inst, cl, res)


@settings(max_examples=25, deadline=None, derandomize=True)
@given(instances())
def test_clearing_is_byte_identical_across_runs_and_json_round_trips(
    case: tuple[AuctionInstance, int],
) -> None:
    inst, phase = case
    first = to_result(inst, solve(inst, phase, AuctionParams())).model_dump_json()
    again = AuctionInstance.model_validate_json(inst.model_dump_json())
    second = to_result(again, solve(again, phase, AuctionParams())).model_dump_json()
    assert first == second


@settings(max_examples=30, deadline=None, derandomize=True)
@given(instances(), st.sampled_from([0.0, 0.3, 1.0]))
def test_arc_pricing_reaches_the_full_optimum_and_its_prices(
    case: tuple[AuctionInstance, int], cover: float
) -> None:
    inst, phase = case
    cl = solve(inst, phase, AuctionParams())
    net = cl.net
    pruned = solve_flow(net, candidate_arcs(cl.pb, net, cover))
    cost = int(pruned.flow @ net.cost)
    assert cost == int(cl.sol.flow @ net.cost)
    # Where energy flows, the lowest supporting price is unique: both solves agree.
    used = cl.sol.flow[net.nt_arc] > 0
    nt = net.head[net.nt_arc][used]
    assert np.array_equal(pruned.pot[nt], cl.sol.pot[nt])


def test_random_instances_exercise_binding_batteries_and_awards() -> None:
    """Guards the generator: the properties above must meet binding limits, not just slack."""
    seen = {"battery": 0, "awarded_quantity": 0, "node_capacity": 0}
    for seed in range(40):
        inst = random_instance(random.Random(seed), n_plans=6, phase2=seed % 2 == 1)
        res = to_result(inst, solve(inst, 1 + seed % 2, AuctionParams()))
        for p in res.plans:
            for r in p.reasons:
                if r in seen:
                    seen[r] += 1
    assert all(v > 0 for v in seen.values()), seen
