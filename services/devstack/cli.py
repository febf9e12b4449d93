"""CLI verbs of the development toolbox: `up`, `seed`, `simulate` (and `demo`, its own module).

Each starts services only as processes (services/devstack/supervisor.py) and talks to them
over HTTP and the registry: nothing here imports a service's module.
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
from datetime import date
from pathlib import Path
from typing import Annotated

import httpx
import typer

from services.common import stackfile
from services.common.clock import Clock
from services.common.settings import CommonSettings, load_settings
from services.devstack import seed, simulate
from services.devstack.stack import DevStack

app = typer.Typer(no_args_is_help=True, add_completion=False)


@app.command("seed")
def seed_cmd(
    file: Annotated[
        Path, typer.Argument(help="seed JSON (default: the example network)")
    ] = seed.EXAMPLE,
) -> None:
    """Load an example network and fleet into the registry (idempotent)."""
    url = stackfile.database_url(load_settings(CommonSettings))
    counts = seed.load_into(url, seed.load(file))
    typer.echo("seeded " + ", ".join(f"{v} {k}" for k, v in counts.items()))


@app.command("simulate")
def simulate_cmd(
    day: Annotated[
        str | None, typer.Option(help="delivery day (default: the next open one)")
    ] = None,
    area: str = "PL",
    vehicles: Annotated[int | None, typer.Option(help="at most this many vehicles")] = None,
    seed_value: Annotated[int, typer.Option("--seed", help="same seed, same plans")] = 1,
    ingest: str = "http://127.0.0.1:8000",
    token: Annotated[str | None, typer.Option(help="operator token (default: a new one)")] = None,
) -> None:
    """Submit one plan per vehicle of the registry through the ingest gateway."""
    settings = load_settings(CommonSettings)
    run = simulate.simulate_day(
        stackfile.database_url(settings),
        ingest,
        area,
        day=date.fromisoformat(day) if day else None,
        now=Clock.from_settings(settings).now(),
        token=token,
        vehicles=vehicles,
        seed=seed_value,
        say=lambda message: typer.echo(message, err=True),
    )
    try:
        counts = asyncio.run(run)
    except (LookupError, RuntimeError, OSError, httpx.HTTPError) as exc:  # a message, no traceback
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(1) from exc
    typer.echo(json.dumps(counts, indent=2))


@app.command("up")
def up(
    seed_example: Annotated[bool, typer.Option("--seed/--no-seed")] = True,
    services: Annotated[bool, typer.Option("--services/--no-services")] = True,
    exit_after_start: Annotated[bool, typer.Option(help="start, print, stop (for checks)")] = False,
) -> None:
    """Run the dev stack in the foreground until Ctrl-C: broker, PostgreSQL, the services."""
    stack = DevStack(load_settings(CommonSettings), seed_example=seed_example, services=services)
    where = stack.start()
    try:
        typer.echo(json.dumps(where, indent=2))
        typer.echo("chargeflow dev stack is up; Ctrl-C to stop", err=True)
        sys.stdout.flush()
        while not exit_after_start:
            time.sleep(1)
    except KeyboardInterrupt:
        typer.echo("stopping", err=True)
    finally:
        stack.stop()
