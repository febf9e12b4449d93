"""The numeric outcome of a clearing run: arrays only, before any JSON (see result.py).

Its own module so that `clear.py` (which makes it) and `result.py` (which reads it) both
import it and not each other.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from auction.bids import Curves
from auction.flow import FlowSolution
from auction.graph import Network
from auction.prices import Prices
from auction.problem import Problem
from schemas.auction import AuctionParams


@dataclass(frozen=True)
class Cleared:
    """What `solve` found: the problem, its network, the optimal flow and its prices."""

    phase: int
    params: AuctionParams
    pb: Problem
    net: Network
    sol: FlowSolution
    prices: Prices
    x_units: npt.NDArray[np.int64]  # per stop-MTU pair
    y_units: npt.NDArray[np.int64]  # per bid step
    welfare_eur: float
    error_bound_eur: float
    curves: Curves
    # wall seconds of build / jit (loading the simplex's compiled code) / solve / prices
    timings: dict[str, float]
