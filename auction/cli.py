"""`chargeflow auction clear INSTANCE.json [--phase 1|2]`: print the result JSON.

On a bad instance every error goes to stderr (one per line) and the exit code is 2;
nothing is printed to stdout then, so a pipeline never consumes half a result.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from auction.clear import clear
from auction.instance_check import check_instance, parse_instance
from schemas.auction import AuctionParams

app = typer.Typer(help="The auction engine: clear an instance offline.", no_args_is_help=True)


@app.callback()
def _auction() -> None:
    """Mobility-aware auction (DESIGN §6)."""


@app.command("clear")
def clear_cmd(
    instance: Annotated[Path, typer.Argument(help="Auction instance JSON (DESIGN §6)")],
    phase: Annotated[int, typer.Option(min=1, max=2, help="1: bid curves; 2: decisions")] = 1,
    lot_mwh: Annotated[float, typer.Option(help="Bid-curve volume lot, MWh")] = 0.01,
    max_steps: Annotated[int, typer.Option(help="Max bid-curve steps per MTU")] = 200,
) -> None:
    """Clear INSTANCE.json and print the result JSON to stdout."""
    try:
        raw = instance.read_bytes()
    except OSError as exc:
        typer.echo(f"error: cannot read {instance}: {exc.strerror}", err=True)
        raise typer.Exit(2) from exc
    inst, errors = parse_instance(raw)
    params = AuctionParams(lot_mwh=lot_mwh, max_steps=max_steps)
    if inst is not None:
        errors = check_instance(inst, phase, params)
    if inst is None or errors:
        typer.echo(f"error: invalid auction instance {instance} ({len(errors)} errors):", err=True)
        for e in errors:
            typer.echo(f"  {e}", err=True)
        raise typer.Exit(2)
    result = clear(inst, phase, params)
    sys.stdout.write(result.model_dump_json() + "\n")


if __name__ == "__main__":
    app()
