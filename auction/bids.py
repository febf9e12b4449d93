"""Phase-1 aggregate bid curves (DESIGN §6).

Per MTU, quantity(price) = energy scheduled in that MTU for plans whose marginal bid
(the price of their lowest accepted step) is >= price. A buyer's curve is non-increasing
in price. Exchange rules then shape it:

- prices clamped to the market limits and on the tick (they already are: bids are
  checked against the limits and rounded to the tick before solving);
- at most `max_steps` steps: levels are merged in equal-count groups, each group bidding
  the lowest price in it, so nobody is ever bid above their own marginal bid;
- cumulative volumes rounded to the lot (nearest); the per-MTU difference between the
  rounded total and the scheduled demand is reported, as is the number of merged steps.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from schemas.auction import AuctionParams


@dataclass(frozen=True)
class Curves:
    # per MTU: list of (price EUR/MWh, cumulative quantity MWh), price descending
    steps: list[list[tuple[float, float]]]
    rounding_mwh: list[float]
    merged: list[int]


def aggregate_curves(
    x_t: npt.NDArray[np.int64],
    x_kwh: npt.NDArray[np.float64],
    x_marginal_ticks: npt.NDArray[np.int64],
    T: int,
    params: AuctionParams,
) -> Curves:
    """Curves from the scheduled energy of each stop-MTU pair and its plan's marginal bid."""
    tick, lot = params.price_tick_eur_mwh, params.lot_mwh
    lo = int(np.ceil(params.price_min_eur_mwh / tick - 1e-9))
    hi = int(np.floor(params.price_max_eur_mwh / tick + 1e-9))
    used = x_kwh > 0
    t, q, pr = x_t[used], x_kwh[used], np.clip(x_marginal_ticks[used], lo, hi)
    order = np.lexsort((-pr, t))
    t, q, pr = t[order], q[order], pr[order]
    bounds = np.searchsorted(t, np.arange(T + 1))
    steps: list[list[tuple[float, float]]] = []
    rounding: list[float] = []
    merged: list[int] = []
    for k in range(T):  # one iteration per MTU, vectorised inside
        tq, tp = q[bounds[k] : bounds[k + 1]], pr[bounds[k] : bounds[k + 1]]
        if len(tq) == 0:
            steps.append([])
            rounding.append(0.0)
            merged.append(0)
            continue
        starts = np.flatnonzero(np.r_[True, tp[1:] != tp[:-1]])
        level_p = tp[starts]
        level_q = np.add.reduceat(tq, starts)
        n_levels = len(level_p)
        if n_levels > params.max_steps:
            group = np.arange(n_levels) * params.max_steps // n_levels
            gstart = np.flatnonzero(np.r_[True, group[1:] != group[:-1]])
            gend = np.r_[gstart[1:], n_levels] - 1
            level_p, level_q = level_p[gend], np.add.reduceat(level_q, gstart)
        merged.append(n_levels - len(level_p))
        cum_mwh = np.cumsum(level_q) / 1000.0
        lots = np.rint(cum_mwh / lot).astype(np.int64)
        keep = np.r_[lots[0] > 0, lots[1:] > lots[:-1]]
        steps.append(
            [
                (round(float(p) * tick, 6), round(float(n) * lot, 9))
                for p, n in zip(level_p[keep], lots[keep], strict=True)
            ]
        )
        rounding.append(round(float(lots[-1]) * lot - float(cum_mwh[-1]), 9))
    return Curves(steps=steps, rounding_mwh=rounding, merged=merged)
