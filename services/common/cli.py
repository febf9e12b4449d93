"""CLI verbs on the registry and the event schemas: `migrate`, `token`, `schemas`.

Operations verbs, used on the dev stack and in production alike (docker-compose.yml runs
`chargeflow migrate`). The development toolbox's verbs (`up`, `demo`, `seed`, `simulate`)
live in services/devstack/cli.py.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Annotated, TypeVar

import asyncpg
import typer

from schemas.__main__ import main as schemas_main
from services.common import registry, stackfile
from services.common.settings import CommonSettings, load_settings

T = TypeVar("T")

app = typer.Typer(no_args_is_help=True, add_completion=False)
token_app = typer.Typer(help="Create and revoke API tokens.", no_args_is_help=True)
app.add_typer(token_app, name="token")
schemas_app = typer.Typer(help="JSON Schemas of the events (schemas/json/).", no_args_is_help=True)
app.add_typer(schemas_app, name="schemas")


def _database_url() -> str:
    return stackfile.database_url(load_settings(CommonSettings))


def _with_conn(url: str, fn: Callable[[asyncpg.Connection], Awaitable[T]]) -> T:
    async def run() -> T:
        conn = await asyncpg.connect(url)
        try:
            return await fn(conn)
        finally:
            await conn.close()

    return asyncio.run(run())


@app.command("migrate")
def migrate_cmd(revision: str = "head") -> None:
    """Apply database migrations (Alembic) up to REVISION."""
    from services.common import migrate  # Alembic and SQLAlchemy: paid by this verb alone

    migrate.upgrade(_database_url(), revision)
    typer.echo(f"database migrated to {revision}")


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
    url = _database_url()

    async def run(conn: asyncpg.Connection) -> tuple[int, str]:
        await registry.ensure_user(conn, user, role)  # type: ignore[arg-type]
        lifetime = None if expires_in_days is None else timedelta(days=expires_in_days)
        return await registry.create_token(conn, user, label, lifetime)

    token_id, token = _with_conn(url, run)
    typer.echo(f"token id {token_id} for {user}; shown once, store it now:", err=True)
    typer.echo(token)


@token_app.command("revoke")
def token_revoke(token_id: int) -> None:
    """Revoke a token by id; it stops working within the services' cache TTL."""
    if not _with_conn(_database_url(), lambda c: registry.revoke_token(c, token_id)):
        typer.echo(f"error: no active token with id {token_id}", err=True)
        raise typer.Exit(1)
    typer.echo(f"token {token_id} revoked")


@schemas_app.command("export")
def schemas_export() -> None:
    """Write the JSON Schema of every event to schemas/json/."""
    raise typer.Exit(schemas_main(["export"]))


@schemas_app.command("check")
def schemas_check() -> None:
    """Fail when schemas/json/ is stale."""
    raise typer.Exit(schemas_main(["check"]))
