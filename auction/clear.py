"""`clear(instance, phase, params)`: validate, solve, price, and build the §6 result.

Deterministic: the network is built in a fixed order from the instance, both solvers
(network simplex, OR-Tools) are deterministic for a given arc order, potentials are
integers, and every float in the result is rounded to a fixed number of decimals, so the
same instance gives byte-identical JSON.
"""

from __future__ import annotations

import time

import numpy as np

from auction.bids import aggregate_curves
from auction.flow import load_simplex, solve_flow, uses_simplex
from auction.graph import Network, build_network, useful_arcs
from auction.instance_check import check_instance
from auction.outcome import Cleared
from auction.prices import compute_prices
from auction.problem import Problem, build_problem
from auction.result import to_result
from schemas.auction import AuctionParams, AuctionResult
from schemas.fastinstance import InstanceLike


class InstanceError(ValueError):
    """The instance is invalid; `errors` lists every problem with its field path."""

    def __init__(self, errors: list[str]) -> None:
        super().__init__("; ".join(errors))
        self.errors = errors


def _error_bound(pb: Problem, net: Network, params: AuctionParams) -> float:
    """A-priori bound on (exact optimum - welfare of our solution), EUR; see docs/auction.md.

    Flooring a capacity by f < 1 unit costs at most f x (the largest marginal value of one
    arc's capacity), and a residual cycle crosses the sink and the source at most once, so
    that value is <= 2 x (highest - lowest price, 0 included). Rounding prices by at most
    d moves any solution's welfare by <= d x energy, counted once for each of the two
    solutions compared.
    """
    tick, unit = params.price_tick_eur_mwh, params.energy_unit_kwh
    all_p = np.concatenate([pb.price, pb.step_price, [0.0]])
    spread = 2.0 * float(all_p.max() - all_p.min())  # EUR/MWh
    cap_part = float(net.cap_frac.sum()) * unit * spread / 1000.0
    d_mkt = float(np.abs(np.rint(pb.price / tick) * tick - pb.price).max(initial=0.0))
    d_bid = float(np.abs(np.rint(pb.step_price / tick) * tick - pb.step_price).max(initial=0.0))
    price_part = 2.0 * (d_mkt + d_bid) * float(pb.step_kwh.sum()) / 1000.0
    return cap_part + price_part


def solve(inst: InstanceLike, phase: int, params: AuctionParams) -> Cleared:
    """Solve a *validated* instance (no checks here; `clear` checks first)."""
    t0 = time.perf_counter()
    pb = build_problem(inst, phase)
    net = build_network(pb, params)
    t1 = time.perf_counter()
    active = useful_arcs(pb, net)
    t_load = time.perf_counter()
    if uses_simplex(net, active, params.solver):
        load_simplex()  # timed apart: a fresh process pays it once, a server never again
    t_loaded = time.perf_counter()
    sol = solve_flow(net, active, solver=params.solver)
    t2 = time.perf_counter()
    x_units = sol.flow[net.x_arc]
    y_units = sol.flow[net.step_arc]
    unit, tick = params.energy_unit_kwh, params.price_tick_eur_mwh
    # Welfare of the solution at the *given* prices (not the rounded ones).
    welfare = (float(y_units @ pb.step_price) - float(x_units @ pb.price[pb.x_t])) * unit / 1000.0
    price_ticks = np.rint(pb.price / tick).astype(np.int64)
    prices = compute_prices(net, sol, price_ticks, pb.node_cap_kwh.shape[0], pb.n_plans)
    # Marginal bid of a plan: the price of its lowest accepted step (prices non-increasing).
    step_ticks = np.rint(pb.step_price / tick).astype(np.int64)
    marg = np.full(pb.n_plans, np.iinfo(np.int64).max, dtype=np.int64)
    np.minimum.at(marg, pb.step_plan[y_units > 0], step_ticks[y_units > 0])
    x_kwh = x_units.astype(np.float64) * unit
    curves = aggregate_curves(pb.x_t, x_kwh, marg[pb.x_plan], pb.T, params)
    t3 = time.perf_counter()
    return Cleared(
        phase=phase,
        params=params,
        pb=pb,
        net=net,
        sol=sol,
        prices=prices,
        x_units=x_units,
        y_units=y_units,
        welfare_eur=welfare,
        error_bound_eur=_error_bound(pb, net, params),
        curves=curves,
        timings={
            "build": t1 - t0,
            "jit": t_loaded - t_load,
            "solve": (t_load - t1) + (t2 - t_loaded),
            "prices": t3 - t2,
        },
    )


def clear(inst: InstanceLike, phase: int = 1, params: AuctionParams | None = None) -> AuctionResult:
    """Clear one (market area, delivery day); raises InstanceError listing every error."""
    p = params or AuctionParams()
    errors = check_instance(inst, phase, p)
    if errors:
        raise InstanceError(errors)
    return to_result(inst, solve(inst, phase, p))
