"""CLI verbs of the common layer: up, demo, migrate, seed, token."""

from __future__ import annotations

import asyncio
import json
import sys
import time
from datetime import date, timedelta
from pathlib import Path
from typing import Annotated

import asyncpg
import typer

from schemas.__main__ import main as schemas_main
from schemas.market_day import next_delivery_day
from services.common import migrate as migrations
from services.common import registry, seed, simulate, stackfile
from services.common.clock import Clock
from services.common.embedded import EmbeddedStack
from services.common.settings import CommonSettings, load_settings, utc_now
from services.common.supervisor import Supervisor, service_env
from services.common.usercli import user_app

app = typer.Typer(no_args_is_help=True, add_completion=False)
token_app = typer.Typer(help="Create and revoke API tokens.", no_args_is_help=True)
app.add_typer(token_app, name="token")
schemas_app = typer.Typer(help="JSON Schemas of the events (schemas/json/).", no_args_is_help=True)
app.add_typer(schemas_app, name="schemas")
app.add_typer(user_app, name="user")


def _settings() -> CommonSettings:
    return load_settings(CommonSettings)


async def _with_conn(url: str, fn):  # type: ignore[no-untyped-def]
    conn = await asyncpg.connect(url)
    try:
        return await fn(conn)
    finally:
        await conn.close()


@app.command("migrate")
def migrate_cmd(revision: str = "head") -> None:
    """Apply database migrations (Alembic) up to REVISION."""
    url = stackfile.database_url(_settings())
    migrations.upgrade(url, revision)
    typer.echo(f"database migrated to {revision}")


@app.command("seed")
def seed_cmd(
    file: Annotated[
        Path, typer.Argument(help="seed JSON (default: the example network)")
    ] = seed.EXAMPLE,
) -> None:
    """Load an example network and fleet into the registry (idempotent)."""
    url = stackfile.database_url(_settings())
    counts = asyncio.run(_with_conn(url, lambda c: seed.apply(c, seed.load(file))))
    typer.echo("seeded " + ", ".join(f"{v} {k}" for k, v in counts.items()))


@token_app.command("create")
def token_create(
    user: Annotated[str, typer.Option(help="user name; created when missing")],
    role: Annotated[str, typer.Option(help="vehicle, operator or admin")] = "vehicle",
    label: str = "",
    expires_in_days: Annotated[
        int | None, typer.Option(min=1, max=3650, help="valid this many days (default: forever)")
    ] = None,
) -> None:
    """Issue a token. It is printed once and stored only as a hash."""
    if role not in registry.ROLES:
        typer.echo(f"error: --role must be one of {', '.join(registry.ROLES)}", err=True)
        raise typer.Exit(2)
    url = stackfile.database_url(_settings())

    async def run(conn: asyncpg.Connection) -> tuple[int, str]:
        await registry.ensure_user(conn, user, role)  # type: ignore[arg-type]
        lifetime = None if expires_in_days is None else timedelta(days=expires_in_days)
        return await registry.create_token(conn, user, label, lifetime)

    token_id, token = asyncio.run(_with_conn(url, run))
    typer.echo(f"token id {token_id} for {user}; shown once, store it now:", err=True)
    typer.echo(token)


@token_app.command("revoke")
def token_revoke(token_id: int) -> None:
    """Revoke a token by id; it stops working within the services' cache TTL."""
    url = stackfile.database_url(_settings())
    if not asyncio.run(_with_conn(url, lambda c: registry.revoke_token(c, token_id))):
        typer.echo(f"error: no active token with id {token_id}", err=True)
        raise typer.Exit(1)
    typer.echo(f"token {token_id} revoked")


def _start_stack(
    settings: CommonSettings, do_seed: bool, run_services: bool, clock_env: dict[str, str]
) -> tuple[list[EmbeddedStack | Supervisor], dict[str, str]]:
    stack = EmbeddedStack(
        settings.state_dir,
        settings.kafka_bootstrap,
        settings.database_url,
        broker_port=settings.broker_port,
        postgres_port=settings.postgres_port,
    )
    t0 = time.monotonic()
    infra = stack.start()
    running: list[EmbeddedStack | Supervisor] = [stack]
    try:
        migrations.upgrade(infra.database_url)
        if do_seed:
            asyncio.run(_with_conn(infra.database_url, lambda c: seed.apply(c, seed.load())))
        where = {
            "kafka_bootstrap": infra.kafka_bootstrap
            + ("" if infra.embedded_broker else " (external)"),
            "database_url": infra.database_url + ("" if infra.embedded_postgres else " (external)"),
        }
        stackfile.write(settings, infra, {})
        if run_services:
            env = service_env(infra.kafka_bootstrap, infra.database_url, clock_env)
            supervisor = Supervisor(settings.state_dir / "logs", env)
            running.append(supervisor)
            where |= supervisor.start()
        where["started_in_s"] = f"{time.monotonic() - t0:.1f}"
        return running, where
    except BaseException:
        _stop(running)
        raise


def _stop(running: list[EmbeddedStack | Supervisor]) -> None:
    for part in reversed(running):
        part.stop()


def _clock_env(settings: CommonSettings) -> dict[str, str]:
    """One clock for every process of the stack: same start, speed and anchor."""
    start = settings.clock_start or utc_now()
    anchor = settings.clock_anchor or utc_now()
    return {
        "CHARGEFLOW_CLOCK_START": start.isoformat(),
        "CHARGEFLOW_CLOCK_SPEED": str(settings.clock_speed),
        "CHARGEFLOW_CLOCK_ANCHOR": anchor.isoformat(),
    }


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
    settings = _settings()
    url = stackfile.database_url(settings)

    async def run() -> dict[str, int]:
        conn = await asyncpg.connect(url)
        try:
            fleet, points, tz = await simulate.load_fleet(conn, area)
            auth = token
            if auth is None:
                await registry.ensure_user(conn, "simulator", "operator")
                _, auth = await registry.create_token(conn, "simulator", "chargeflow simulate")
        finally:
            await conn.close()
        when = (
            date.fromisoformat(day)
            if day
            else next_delivery_day(Clock.from_settings(settings).now(), tz)
        )
        plans = simulate.fleet_plans(fleet[:vehicles], points, when, tz, area, seed_value)
        typer.echo(f"submitting {len(plans)} plans for {area} {when} to {ingest}", err=True)
        return await simulate.submit(ingest, auth, plans)

    try:
        counts = asyncio.run(run())
    except (LookupError, RuntimeError, OSError) as exc:
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
    settings = _settings()
    running, where = _start_stack(settings, seed_example, services, _clock_env(settings))
    try:
        typer.echo(json.dumps(where, indent=2))
        typer.echo("chargeflow dev stack is up; Ctrl-C to stop", err=True)
        sys.stdout.flush()
        while not exit_after_start:
            time.sleep(1)
    except KeyboardInterrupt:
        typer.echo("stopping", err=True)
    finally:
        _stop(running)
        stackfile.remove(settings)


@schemas_app.command("export")
def schemas_export() -> None:
    """Write the JSON Schema of every event to schemas/json/."""
    raise typer.Exit(schemas_main(["export"]))


@schemas_app.command("check")
def schemas_check() -> None:
    """Fail when schemas/json/ is stale."""
    raise typer.Exit(schemas_main(["check"]))
