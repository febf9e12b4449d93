"""The LP baseline: DESIGN §6 written directly as a linear programme and solved by HiGHS.

It is deliberately *not* a transcription of the flow network. Variables are the energy
x[s,t] of stop s in MTU t and the accepted energy y[k] of bid step k; rows are the
constraints as the design states them:

  point-MTU   sum of x at point c in MTU t          <= point power x MTU hours
  node-MTU    sum of x at node n in MTU t           <= node capacity x MTU hours
  award (ph2) sum of x in MTU t                     <= awarded quantity
  plan        sum of x of plan p - sum of y of p     = 0
  battery     for every window of consecutive stops i..j of a plan:
              sum of x in stops i..j <= B - [i first] soc0 + trips between stop i and j

The battery windows say "the SoC at the end of stop j, counted from an empty battery on
arrival at stop i (or from soc0 at the first stop), is at most B" - the SoC recursion
S_j = max(0, S_{j-1} - trip_{j-1}) + E_j unrolled. Bounds 0 <= x <= power x overlap and
0 <= y <= step energy. The objective is welfare in EUR (HiGHS minimises its negative).
"""

from __future__ import annotations

from dataclasses import dataclass

import highspy
import numpy as np
import numpy.typing as npt
import scipy.sparse as sp

from auction.problem import Problem

F64 = npt.NDArray[np.float64]


@dataclass(frozen=True)
class LpResult:
    welfare_eur: float
    x_kwh: npt.NDArray[np.float64]
    y_kwh: npt.NDArray[np.float64]
    status: str


def _group_rows(key: npt.NDArray[np.int64]) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]]:
    """Unique keys and the row index of each entry."""
    uniq, inv = np.unique(key, return_inverse=True)
    return uniq, inv.astype(np.int64)


def _battery_windows(pb: Problem) -> tuple[sp.csr_matrix, npt.NDArray[np.float64]]:
    """Window-by-stop incidence and right-hand sides of the battery rows (vectorised)."""
    n = pb.n_stops
    first = pb.stop_first()
    plan_start = np.flatnonzero(first)
    pos = np.arange(n) - plan_start[pb.stop_plan]
    # Windows ending at stop s start at positions 0..pos[s]: pos+1 windows per stop.
    w_end = np.repeat(np.arange(n), pos + 1)
    w_i = np.arange(len(w_end)) - np.repeat(np.cumsum(pos + 1) - (pos + 1), pos + 1)
    w_begin = plan_start[pb.stop_plan[w_end]] + w_i  # global index of the first stop
    length = w_end - w_begin + 1
    rows = np.repeat(np.arange(len(w_end)), length)
    cols = np.repeat(w_begin, length) + (
        np.arange(int(length.sum())) - np.repeat(np.cumsum(length) - length, length)
    )
    inc = sp.csr_matrix((np.ones(len(rows)), (rows, cols)), shape=(len(w_end), n))
    cs = np.cumsum(pb.stop_trip_kwh)
    # trips of stops w_begin .. w_end-1 (the drives between the window's stops)
    trips = (cs[w_end] - pb.stop_trip_kwh[w_end]) - (cs[w_begin] - pb.stop_trip_kwh[w_begin])
    plan = pb.stop_plan[w_end]
    rhs = pb.battery_kwh[plan] + trips - np.where(first[w_begin], pb.soc0_kwh[plan], 0.0)
    return inc, rhs


def build_lp(
    pb: Problem,
) -> tuple[sp.csc_matrix, F64, F64, F64, F64]:
    """Matrix, costs, column bounds and row bounds of the LP."""
    nx, ny = len(pb.x_stop), len(pb.step_plan)
    xcol = np.arange(nx)
    blocks: list[sp.spmatrix] = []
    lo: list[npt.NDArray[np.float64]] = []
    hi: list[npt.NDArray[np.float64]] = []
    T = pb.T

    def cap_rows(key: npt.NDArray[np.int64], cap: npt.NDArray[np.float64]) -> None:
        uniq, row = _group_rows(key)
        blocks.append(sp.csr_matrix((np.ones(nx), (row, xcol)), shape=(len(uniq), nx + ny)))
        lo.append(np.full(len(uniq), -np.inf))
        hi.append(cap[uniq])

    cap_rows(pb.x_point * T + pb.x_t, np.repeat(pb.point_cap_kwh, T))
    cap_rows(pb.x_node * T + pb.x_t, pb.node_cap_kwh.ravel())
    if pb.award_kwh is not None:
        cap_rows(pb.x_t, pb.award_kwh)
    # plan balance: energy delivered = energy accepted on the bid steps
    ycol = nx + np.arange(ny)
    bal = sp.csr_matrix(
        (
            np.concatenate([np.ones(nx), -np.ones(ny)]),
            (np.concatenate([pb.x_plan, pb.step_plan]), np.concatenate([xcol, ycol])),
        ),
        shape=(pb.n_plans, nx + ny),
    )
    blocks.append(bal)
    lo.append(np.zeros(pb.n_plans))
    hi.append(np.zeros(pb.n_plans))
    inc, rhs = _battery_windows(pb)
    stop_x = sp.csr_matrix((np.ones(nx), (pb.x_stop, xcol)), shape=(pb.n_stops, nx))
    blocks.append(sp.hstack([inc @ stop_x, sp.csr_matrix((inc.shape[0], ny))]))
    lo.append(np.full(len(rhs), -np.inf))
    hi.append(rhs)
    a = sp.vstack(blocks).tocsc()
    cost = np.concatenate([pb.price[pb.x_t], -pb.step_price]) / 1000.0
    col_hi = np.concatenate([pb.x_cap_kwh, pb.step_kwh])
    return a, cost, col_hi, np.concatenate(lo), np.concatenate(hi)


def solve_lp(pb: Problem) -> LpResult:
    """Build and solve the LP with HiGHS (default settings, silent)."""
    a, cost, col_hi, row_lo, row_hi = build_lp(pb)
    lp = highspy.HighsLp()
    lp.num_col_ = a.shape[1]
    lp.num_row_ = a.shape[0]
    lp.col_cost_ = cost
    lp.col_lower_ = np.zeros(a.shape[1])
    lp.col_upper_ = col_hi
    lp.row_lower_ = row_lo
    lp.row_upper_ = row_hi
    lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
    lp.a_matrix_.start_ = a.indptr
    lp.a_matrix_.index_ = a.indices
    lp.a_matrix_.value_ = a.data
    h = highspy.Highs()
    h.setOptionValue("output_flag", False)
    h.passModel(lp)
    h.run()
    status = h.modelStatusToString(h.getModelStatus())
    col = np.asarray(h.getSolution().col_value, dtype=np.float64)
    nx = len(pb.x_stop)
    welfare = -float(h.getInfo().objective_function_value)
    return LpResult(welfare_eur=welfare, x_kwh=col[:nx], y_kwh=col[nx:], status=status)
