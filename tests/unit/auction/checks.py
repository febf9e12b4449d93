"""Assertions shared by the auction tests: every DESIGN §6 constraint and IR on a result."""

from __future__ import annotations

import numpy as np

from auction.outcome import Cleared
from schemas.auction import AuctionInstance, AuctionResult

TOL = 1e-6  # kWh / EUR: far above float noise, far below any real violation


def assert_feasible(inst: AuctionInstance, cl: Cleared, res: AuctionResult) -> None:
    pb = cl.pb
    x = cl.x_units * cl.params.energy_unit_kwh  # kWh per stop-MTU pair
    T = pb.T
    assert (x >= 0).all() and (x <= pb.x_cap_kwh + TOL).all(), "stop power x overlap"
    point = np.zeros((len(pb.point_cap_kwh), T))
    np.add.at(point, (pb.x_point, pb.x_t), x)
    assert (point <= pb.point_cap_kwh[:, None] + TOL).all(), "point power x MTU"
    node = np.zeros((len(inst.nodes), T))
    np.add.at(node, (pb.x_node, pb.x_t), x)
    assert (node <= pb.node_cap_kwh + TOL).all(), "node capacity x MTU"
    if pb.award_kwh is not None:
        assert (node.sum(axis=0) <= pb.award_kwh + TOL).all(), "awarded quantity"
    per_stop = np.bincount(pb.x_stop, weights=x, minlength=pb.n_stops)
    for i, plan in enumerate(inst.plans):
        # physical SoC along the stops: S_j = max(0, S_{j-1} - trip) + E_j <= battery
        soc = plan.initial_soc_kwh or 0.0
        stops = np.flatnonzero(pb.stop_plan == i)
        for k, s in enumerate(stops):
            if k:
                soc = max(0.0, soc - pb.stop_trip_kwh[stops[k - 1]])
            soc += per_stop[s]
            assert soc <= pb.battery_kwh[i] + TOL, f"plans[{i}] battery"
    y = cl.y_units * cl.params.energy_unit_kwh
    acc = np.bincount(pb.step_plan, weights=y, minlength=pb.n_plans)
    got = np.bincount(pb.x_plan, weights=x, minlength=pb.n_plans)
    assert np.allclose(acc, got, atol=TOL), "energy delivered = energy accepted"
    assert (y <= pb.step_kwh + TOL).all(), "bid steps"
    for i, pr in enumerate(res.plans):
        assert pr.accepted_kwh == round(acc[i], 6)
        assert abs(sum(a.energy_kwh for a in pr.allocations) - pr.accepted_kwh) < 1e-4
    assert np.allclose(res.aggregate.demand_kwh, node.sum(axis=0), atol=1e-5)


def assert_individually_rational(inst: AuctionInstance, cl: Cleared, res: AuctionResult) -> None:
    pb, tick = cl.pb, cl.params.price_tick_eur_mwh
    y = cl.y_units * cl.params.energy_unit_kwh
    for i, pr in enumerate(res.plans):
        steps = np.flatnonzero(pb.step_plan == i)
        value = float(y[steps] @ pb.step_price[steps]) / 1000.0
        assert pr.cost_eur <= value + TOL, f"plans[{i}] pays more than its bid"
        accepted = steps[y[steps] > 0]
        if pr.accepted_kwh > 0:
            # every accepted step bids at least the average price paid, within the JSON's
            # rounding of cost_eur to 1e-6 EUR
            lowest = float(pb.step_price[accepted].min())
            assert pr.cost_eur <= pr.accepted_kwh * lowest / 1000.0 + TOL, "step below price"
        marginal = pr.marginal_price_eur_mwh
        if marginal is not None:
            assert (pb.step_price[accepted] >= marginal - tick).all()
            unfilled = steps[y[steps] < pb.step_kwh[steps] - TOL]
            assert (pb.step_price[unfilled] <= marginal + tick).all(), "rejected step above price"
    for n in res.nodes:
        mtu = np.array(res.mtu_prices_eur_mwh)
        assert (np.array(n.price_eur_mwh) >= mtu - 1e-9).all()
        assert (np.array(n.congestion_eur_mwh) >= 0).all()
