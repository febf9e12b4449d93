"""Phase 2 of the auction with binding award caps, both solvers side by side.

    .venv/bin/python bench/auction_phase2.py --plans 20000 [--plans 30000 ...]

Per N (hourly MTUs, bench/auction_gen.py instances): phase 1 on the forecast, then phase 2
with 80 % of each MTU's phase-1 demand awarded at forecast + 10 EUR/MWh (caps that bind), once
with the simplex and once with OR-Tools; wall and CPU seconds of `clear()`, welfare (equal
for both), and the ratio. The default solver choice for phase 2 is explained in
docs/auction.md. Not a test: the machine is shared, so read the ratio and the CPU seconds.
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
sys.path.insert(0, str(Path(__file__).parent.parent))

from auction_gen import generate

from auction import clear
from schemas.auction import AuctionInstance, AuctionParams


def _timed(inst: AuctionInstance, phase: int, solver: str) -> tuple[float, float, float]:
    wall, cpu = time.perf_counter(), time.process_time()
    result = clear(inst, phase, AuctionParams(solver=solver))  # type: ignore[arg-type]
    return time.perf_counter() - wall, time.process_time() - cpu, result.welfare_eur


def run(n: int) -> None:
    inst = generate(n, 60, seed=1)
    p1_wall, p1_cpu, _ = _timed(inst, 1, "simplex")
    first = clear(inst, 1, AuctionParams())
    demand = [curve[-1].quantity_mwh if curve else 0.0 for curve in first.aggregate.bid_curves]
    capped = inst.model_copy(
        update={
            "awarded_mwh": [round(q * 0.8, 2) for q in demand],
            "prices_eur_mwh": [p + 10 for p in inst.prices_eur_mwh],
        }
    )
    print(f"N={n:>7} phase 1 simplex  {p1_wall:7.2f} s wall {p1_cpu:7.2f} s cpu", flush=True)
    rows = {solver: _timed(capped, 2, solver) for solver in ("simplex", "ortools")}
    for solver, (wall, cpu, welfare) in rows.items():
        print(
            f"N={n:>7} phase 2 {solver:8} {wall:7.2f} s wall {cpu:7.2f} s cpu"
            f"  welfare {welfare:.2f}"
        )
    ratio = rows["ortools"][0] / rows["simplex"][0]
    print(f"N={n:>7} phase 2 ortools/simplex wall ratio {ratio:.2f}", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--plans", type=int, action="append", help="N (repeatable)")
    args = parser.parse_args()
    load = os.getloadavg()
    print(f"setup: {platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
          f"load {load[0]:.1f}, hourly MTUs, 80% of phase-1 demand awarded")  # fmt: skip
    for n in args.plans or [10_000, 20_000]:
        run(n)


if __name__ == "__main__":
    main()
