"""`chargeflow auction clear INSTANCE.json [--phase 1|2]`: print the result JSON.

The engine's one edge: it reads a file and writes stdout; every other module of the
package is pure. On a bad instance every error goes to stderr (one per line) and the exit
code is 2; nothing is printed to stdout then, so a pipeline never consumes half a result.

Built for a one-shot process: the instance is checked once, and the result is written
from the engine's document without building the model (`result.result_json`, the same
bytes). `--timings` prints the seconds of each stage to stderr as one JSON object.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path
from typing import Annotated

import typer

from auction.clear import solve
from auction.instance_check import check_instance, parse_instance
from auction.result import result_json
from schemas.auction import AuctionParams

app = typer.Typer(help="The auction engine: clear an instance offline.", no_args_is_help=True)


@app.callback()
def _auction() -> None:
    """Mobility-aware auction (DESIGN §6)."""


class _Stages:
    """Wall seconds per stage, in order."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = {}
        self._last = time.perf_counter()

    def lap(self, stage: str) -> None:
        now = time.perf_counter()
        self.seconds[stage] = now - self._last
        self._last = now


@app.command("clear")
def clear_cmd(
    instance: Annotated[Path, typer.Argument(help="Auction instance JSON (DESIGN §6)")],
    phase: Annotated[int, typer.Option(min=1, max=2, help="1: bid curves; 2: decisions")] = 1,
    lot_mwh: Annotated[float, typer.Option(help="Bid-curve volume lot, MWh")] = 0.01,
    max_steps: Annotated[int, typer.Option(help="Max bid-curve steps per MTU")] = 200,
    timings: Annotated[
        bool, typer.Option(help="Print the seconds of each stage to stderr (JSON)")
    ] = False,
) -> None:
    """Clear INSTANCE.json and print the result JSON to stdout."""
    stages = _Stages()
    try:
        raw = instance.read_bytes()
    except OSError as exc:
        typer.echo(f"error: cannot read {instance}: {exc.strerror}", err=True)
        raise typer.Exit(2) from exc
    stages.lap("read")
    inst, errors = parse_instance(raw)
    stages.lap("parse")
    params = AuctionParams(lot_mwh=lot_mwh, max_steps=max_steps)
    if inst is not None:
        errors = check_instance(inst, phase, params)
        stages.lap("check")
    if inst is None or errors:
        typer.echo(f"error: invalid auction instance {instance} ({len(errors)} errors):", err=True)
        for e in errors:
            typer.echo(f"  {e}", err=True)
        raise typer.Exit(2)
    cleared = solve(inst, phase, params)
    stages.lap("clear")
    out = result_json(inst, cleared)
    stages.lap("result")
    sys.stdout.buffer.write(out + b"\n")
    sys.stdout.flush()
    stages.lap("write")
    if timings:
        # "clear" split into the engine's own stages: build, jit, solve, prices
        seconds = dict(stages.seconds)
        del seconds["clear"]
        seconds |= cleared.timings
        typer.echo(json.dumps({k: round(v, 4) for k, v in seconds.items()}), err=True)


if __name__ == "__main__":
    app()
