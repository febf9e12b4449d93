"""End to end: `chargeflow auction clear FILE` against the HiGHS LP baseline, as processes.

    .venv/bin/python bench/auction_e2e.py tours:30000 cars:30000 [--repeats 3]
    .venv/bin/python bench/auction_e2e.py tours:30000 --compare /tmp/base   # A/B, one run
    .venv/bin/python bench/auction.py --e2e tours:30000                     # the same rows

A case is FAMILY:N[:MTU]: the instance of bench/auction_gen.py ("cars"), of
bench/auction_gen_tours.py ("tours"), or the tours with depots that bind all day ("tight",
depot_share 1/3), written to a JSON file. Then, each in a fresh process, R times:

- the CLI as users run it, `chargeflow auction clear FILE --timings` (the console script
  beside this Python): wall and CPU seconds from outside, its stages from `--timings`;
  "start" is the rest (interpreter, imports, exit). "solve %" = the solver's share of the
  wall time ("jit", loading the simplex's compiled code, is shown apart);
- `python -m auction clear FILE`: the engine's CLI without the console script's verb table;
- the LP baseline end to end: a process that reads the file, parses and checks it with the
  engine's reader, builds DESIGN §6 as an LP (auction/lp.py) and solves it with HiGHS;
- with `--compare DIR`: `python -m services auction clear FILE` of another checkout (e.g.
  the branch point: `git worktree add DIR REV`), on the same files in the same run.

The LP takes minutes at N = 30 000 (`--no-lp` leaves it out). Not a test: it prints figures.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "bench")]
STAGES = ("read", "parse", "check", "build", "jit", "solve", "prices", "result", "write")
CHARGEFLOW = str(Path(sys.executable).with_name("chargeflow"))


def write_instance(case: str, folder: Path) -> tuple[Path, str]:
    family, n, mtu = (case.split(":") + ["60"])[:3]
    if family == "cars":
        from auction_gen import generate as cars

        inst = cars(int(n), int(mtu), 1)
    elif family in ("tours", "tight"):
        from auction_gen_tours import generate as tours

        inst = tours(int(n), int(mtu), 1, depot_share=1 / 3 if family == "tight" else 1.0)
    else:
        raise SystemExit(f"unknown family {family!r}: cars, tours or tight")
    path = folder / f"{family}_{n}_{mtu}.json"
    path.write_text(inst.model_dump_json())
    return path, f"{family:>6} {int(n):>7} {int(mtu):>3}"


def timed(cmd: list[str], cwd: Path = ROOT, env: dict[str, str] | None = None) -> dict[str, Any]:
    """Run a process; its wall and CPU seconds (user + system) and its output."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    done = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, timeout=7200)
    wall = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} failed: {done.stderr.decode()[-2000:]}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return {"wall": wall, "cpu": cpu, "stdout": done.stdout, "stderr": done.stderr}


def cli_run(path: Path) -> dict[str, Any]:
    run = timed([CHARGEFLOW, "auction", "clear", str(path), "--timings"])
    stages = json.loads(run["stderr"].decode().strip().splitlines()[-1])
    run["stages"] = stages
    run["start"] = run["wall"] - sum(stages.values())
    run["welfare"] = json.loads(run["stdout"])["welfare_eur"]
    return run


def lp_main(path: str) -> None:
    """The LP baseline's process: read, parse, check, build the LP, solve it, print."""
    from auction.instance_check import check_instance, parse_instance
    from auction.lp import solve_lp
    from auction.problem import build_problem

    inst, errors = parse_instance(Path(path).read_bytes())
    assert inst is not None and not errors and not check_instance(inst), errors[:3]
    lp = solve_lp(build_problem(inst, 1))
    print(json.dumps({"status": lp.status, "welfare": lp.welfare_eur}))


def _med(runs: list[dict[str, Any]], key: str) -> float:
    return statistics.median(r[key] for r in runs)


def header(compare: bool) -> str:
    cols = " ".join(f"{s:>6}" for s in ("start", *STAGES))
    head = (
        f"{'family':>6} {'N':>7} {'MTU':>3} {'MiB':>5} | {'CLI total (cpu)':>15} | {cols} |"
        f" {'solve%':>6} | {'-m auction (cpu)':>16} | {'LP total (cpu)':>15} {'LP/CLI':>7}"
        f" {'rel.diff':>8}"
    )
    return head + (f" | {'compare (cpu)':>15} {'cmp/CLI':>7}" if compare else "")


def row(case: str, repeats: int, lp: bool, compare: Path | None, folder: Path) -> str:
    path, label = write_instance(case, folder)
    clis, mods, cmps = [], [], []
    for _ in range(repeats):  # interleaved, so that the machine's load hits each alike
        clis.append(cli_run(path))
        mods.append(timed([sys.executable, "-m", "auction", "clear", str(path)]))
        if compare is not None:
            env = os.environ | {"PYTHONPATH": str(compare)}
            cmd = [sys.executable, "-m", "services", "auction", "clear", str(path)]
            cmps.append(timed(cmd, cwd=compare, env=env))
            assert cmps[-1]["stdout"] == clis[-1]["stdout"], "results differ from --compare"
    total, mib = _med(clis, "wall"), path.stat().st_size / 2**20
    stages = [statistics.median([r["start"] for r in clis])]
    stages += [statistics.median(r["stages"][s] for r in clis) for s in STAGES]
    share = 100 * stages[1 + STAGES.index("solve")] / total
    out = (
        f"{label} {mib:>5.0f} | {total:>7.2f} ({_med(clis, 'cpu'):>5.1f}) |"
        + "".join(f" {s:>6.2f}" for s in stages)
        + f" | {share:>5.0f}% | {_med(mods, 'wall'):>8.2f} ({_med(mods, 'cpu'):>5.1f})"
    )
    if lp:
        lps = [timed([sys.executable, __file__, "--lp", str(path)])]
        welfare = json.loads(lps[0]["stdout"].decode().splitlines()[-1])["welfare"]
        rel = abs(clis[0]["welfare"] - welfare) / abs(welfare)
        lp_total = _med(lps, "wall")
        out += (
            f" | {lp_total:>7.1f} ({_med(lps, 'cpu'):>5.1f}) {lp_total / total:>6.1f}x {rel:>8.1e}"
        )
    else:
        out += f" | {'-':>15} {'-':>7} {'-':>8}"
    if compare is not None:
        cmp_total = _med(cmps, "wall")
        out += f" | {cmp_total:>7.2f} ({_med(cmps, 'cpu'):>5.1f}) {cmp_total / total:>6.2f}x"
    path.unlink()
    return out


def report(cases: list[str], repeats: int, lp: bool, compare: Path | None) -> None:
    print(
        f"end to end, phase 1: `chargeflow auction clear FILE` (median of {repeats}), the LP"
        " baseline (1 run); wall s, cpu s in brackets, load avg"
        f" {os.getloadavg()[0]:.2f}"
    )
    print(header(compare is not None), flush=True)
    with tempfile.TemporaryDirectory() as tmp:
        for case in cases:
            print(row(case, repeats, lp, compare, Path(tmp)), flush=True)
    print(
        "start = wall - stages (interpreter, imports, exit); solve% = solve / CLI total;"
        " rel.diff = |CLI welfare - LP welfare| / LP welfare"
    )


def main() -> None:
    if sys.argv[1:2] == ["--lp"]:
        lp_main(sys.argv[2])
        return
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("cases", nargs="+", help="FAMILY:N[:MTU], FAMILY cars, tours or tight")
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--no-lp", action="store_true", help="leave the LP baseline out")
    ap.add_argument("--compare", type=Path, help="another checkout's CLI on the same files")
    args = ap.parse_args()
    report(args.cases, args.repeats, not args.no_lp, args.compare)


if __name__ == "__main__":
    main()
