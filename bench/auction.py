"""Benchmark of the auction engine: min-cost flow against OR-Tools and the HiGHS LP baseline.

    .venv/bin/python bench/auction.py            # full run (several minutes)
    .venv/bin/python bench/auction.py --quick    # small run (well under a minute)
    .venv/bin/python bench/auction.py --case 100000:60 --ortools-upto 100000
    .venv/bin/python bench/auction.py --e2e tours:30000 --e2e cars:30000  # end to end only

The flow is solved with `--solver` (default: the network simplex, AuctionParams' default);
up to N = `--ortools-upto` (default 30 000) the same instance is also solved with OR-Tools
in the same run and the ratio printed. The simplex is numba-compiled: "jit" is the time its
first call takes in a fresh process (loading the on-disk cache; compiling, ~10-15 s, only
on a clean checkout), measured apart and not part of "total" - a server pays it once.

Instances come from bench/auction_gen.py (commuters, parkers, fast chargers, congested
nodes). Every measurement runs in a fresh process, so "peak" is that process's maximum
resident set size (it includes the generated instance). Times are wall-clock seconds;
CPU seconds are printed too because the machine may be shared. End to end ("total") is
build + solve + prices for the flow and build + solve for the LP (the LP computes no
prices, which only favours it); validation of the instance is shown apart, as the LP
needs it just the same. Not a timed test: it prints figures.

`--e2e FAMILY:N[:MTU]` times `chargeflow auction clear` end to end as a process against the
HiGHS LP baseline end to end, with the share of the solve (bench/auction_e2e.py); given
without `--case` or `--quick`, only those rows run.
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import os
import platform
import resource
import statistics
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "bench")]

import auction_e2e  # noqa: E402 (bench/, on the path above)


def _clock() -> tuple[float, float]:
    return time.perf_counter(), time.process_time()


def _warm_jit() -> float:
    from auction.flow import load_simplex

    w0 = time.perf_counter()
    load_simplex()
    return time.perf_counter() - w0


def _flow_run(n: int, mtu: int, seed: int, solver: str = "simplex") -> dict[str, Any]:
    from auction_gen import generate

    from auction.clear import solve
    from auction.instance_check import check_instance
    from auction.result import to_result
    from schemas.auction import AuctionParams

    inst = generate(n, mtu, seed)
    jit = _warm_jit() if solver == "simplex" else 0.0
    w0, _ = _clock()
    errors = check_instance(inst)
    assert not errors, errors[:3]
    w1, c1 = _clock()
    cl = solve(inst, 1, AuctionParams(solver=solver))  # type: ignore[arg-type]
    w2, c2 = _clock()
    text = to_result(inst, cl).model_dump_json()
    w3, _ = _clock()
    t = cl.timings
    return {
        "jit": jit,
        "validate": w1 - w0,
        "build": t["build"],
        "solve": t["solve"],
        "prices": t["prices"],
        "total": w2 - w1,  # build + solve + prices, like the LP's build + solve
        "cpu": c2 - c1,
        "result_json": w3 - w2,
        "json_mb": len(text) / 2**20,
        "welfare": cl.welfare_eur,
        "bound": cl.error_bound_eur,
        "arcs": len(cl.net.tail),
        "nodes": cl.net.n_nodes,
        "peak_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }


def _lp_run(n: int, mtu: int, seed: int) -> dict[str, Any]:
    from auction_gen import generate

    from auction.lp import solve_lp
    from auction.problem import build_problem

    inst = generate(n, mtu, seed)
    w0, c0 = _clock()
    lp = solve_lp(build_problem(inst, 1))
    w1, c1 = _clock()
    assert lp.status == "Optimal", lp.status
    return {
        "total": w1 - w0,
        "cpu": c1 - c0,
        "welfare": lp.welfare_eur,
        "peak_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }


def _child(fn: Any, args: tuple[Any, ...], q: Any) -> None:
    # HiGHS prints a banner on stdout when created; keep the report clean.
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 1)
    q.put(fn(*args))


def in_fresh_process(fn: Any, *args: Any) -> dict[str, Any]:
    ctx = mp.get_context("spawn")
    q = ctx.Queue()
    p = ctx.Process(target=_child, args=(fn, args, q))
    p.start()
    out: dict[str, Any] = q.get()
    p.join()
    return out


def median(runs: list[dict[str, Any]], key: str) -> float:
    return statistics.median(r[key] for r in runs)


def setup() -> str:
    cpu = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    import highspy
    import ortools

    return (
        f"machine: {platform.machine()} {cpu}, {os.cpu_count()} cores, {mem:.1f} GiB RAM, "
        f"load avg {os.getloadavg()[0]:.2f}\n"
        f"python {platform.python_version()}, ortools {ortools.__version__}, "
        f"highspy {getattr(highspy, '__version__', '1.16')}"
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="small instances only")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--solver", choices=["simplex", "ortools"], default="simplex")
    ap.add_argument(
        "--ortools-upto", type=int, default=30000, help="also time OR-Tools up to this N"
    )
    ap.add_argument(
        "--case", action="append", default=[], help="N:MTU[:repeats], repeatable (no LP)"
    )
    ap.add_argument(
        "--e2e", action="append", default=[], help="FAMILY:N[:MTU] end to end, repeatable"
    )
    ap.add_argument("--e2e-repeats", type=int, default=3)
    args = ap.parse_args()
    if args.e2e and not (args.case or args.quick):
        print(setup())
        auction_e2e.report(args.e2e, args.e2e_repeats, lp=True, compare=None)
        return
    if args.quick:
        plan = [(1000, 60, 3, True), (5000, 60, 1, True), (1000, 15, 1, True)]
    else:
        plan = [
            (1000, 60, 5, True),
            (10000, 60, 3, True),
            (30000, 60, 1, True),
            (100000, 60, 1, False),
            (1000, 15, 3, True),
            (10000, 15, 1, True),
            (100000, 15, 1, False),
        ]
    if args.case:
        plan = []
        for c in args.case:
            parts = [int(x) for x in c.split(":")]
            plan.append((parts[0], parts[1], parts[2] if len(parts) > 2 else 1, False))
    print(setup())
    print(f"flow solver: {args.solver}")
    print("times in s (wall; cpu in brackets), peak = max RSS of the measuring process\n")
    head = (
        f"{'N':>7} {'MTU':>4} {'arcs':>9} {'valid':>6} {'build':>6} {'solve':>7} {'prices':>6}"
        f" {'total':>14} {'peak MiB':>8} {'welfare EUR':>14} {'jit':>5} | {'OR-Tools':>14}"
        f" {'OR/flow':>7} | {'LP total':>14}"
        f" {'LP MiB':>7} {'LP/flow':>7} {'rel.diff':>9}"
    )
    print(head)
    extra: list[str] = []
    for n, mtu, reps, with_lp in plan:
        runs = [in_fresh_process(_flow_run, n, mtu, args.seed, args.solver) for _ in range(reps)]
        row = (
            f"{n:>7} {mtu:>4} {runs[0]['arcs']:>9} {median(runs, 'validate'):>6.2f}"
            f" {median(runs, 'build'):>6.2f} {median(runs, 'solve'):>7.2f}"
            f" {median(runs, 'prices'):>6.2f}"
            f" {median(runs, 'total'):>7.2f} ({median(runs, 'cpu'):>5.1f})"
            f" {max(r['peak_mib'] for r in runs):>8.0f} {runs[0]['welfare']:>14.2f}"
            f" {median(runs, 'jit'):>5.2f} |"
        )
        if args.solver != "ortools" and n <= args.ortools_upto:
            ors = [
                in_fresh_process(_flow_run, n, mtu, args.seed, "ortools")
                for _ in range(1 if n > 5000 else reps)
            ]
            or_total = median(ors, "total")
            assert abs(ors[0]["welfare"] - runs[0]["welfare"]) <= 1e-9 * abs(ors[0]["welfare"])
            row += (
                f" {or_total:>7.2f} ({median(ors, 'cpu'):>5.1f})"
                f" {or_total / median(runs, 'total'):>6.1f}x |"
            )
        else:
            row += f" {'-':>14} {'-':>7} |"
        if with_lp:
            lps = [
                in_fresh_process(_lp_run, n, mtu, args.seed) for _ in range(1 if n > 5000 else reps)
            ]
            lp_total = median(lps, "total")
            rel = abs(runs[0]["welfare"] - lps[0]["welfare"]) / abs(lps[0]["welfare"])
            row += (
                f" {lp_total:>7.2f} ({median(lps, 'cpu'):>5.1f}) {lps[0]['peak_mib']:>7.0f}"
                f" {lp_total / median(runs, 'total'):>6.1f}x {rel:>9.1e}"
            )
        else:
            row += " (no LP above N = 30 000)"
        print(row, flush=True)
        extra.append(
            f"{n:>7} {mtu:>4} {runs[0]['nodes']:>9} {median(runs, 'result_json'):>12.2f}"
            f" {runs[0]['json_mb']:>9.1f} {runs[0]['bound']:>16.2e}"
        )
    print(
        "\nrel.diff = |flow welfare - LP welfare| / LP welfare;"
        " OR/flow = OR-Tools total / flow total"
    )
    print(
        f"\n{'N':>7} {'MTU':>4} {'nodes':>9} {'result JSON':>12} {'JSON MiB':>9}"
        f" {'error bound EUR':>16}"
    )
    print("\n".join(extra))
    if args.e2e:
        print()
        auction_e2e.report(args.e2e, args.e2e_repeats, lp=True, compare=None)


if __name__ == "__main__":
    main()
