"""`chargeflow user create NAME --role ROLE` and `chargeflow user password NAME`.

The password is read from standard input when it is not a terminal (one line: scripts,
`echo "$PW" | chargeflow user create ...`), else prompted twice without echo. It is never
taken from the command line, where other users of the machine could read it in the
process list.
"""

from __future__ import annotations

import asyncio
import sys
from typing import Annotated

import asyncpg
import typer

from services.common import accounts, registry, stackfile
from services.common.settings import CommonSettings, load_settings

user_app = typer.Typer(help="Create users and set their passwords.", no_args_is_help=True)


def _password() -> str:
    if not sys.stdin.isatty():
        line = sys.stdin.readline()
        return line[:-1] if line.endswith("\n") else line
    first = typer.prompt("password", hide_input=True)
    if typer.prompt("again", hide_input=True) != first:
        typer.echo("error: the two passwords differ", err=True)
        raise typer.Exit(2)
    return str(first)


def _checked_password() -> str:
    password = _password()
    problem = accounts.password_problem(password)
    if problem is not None:
        typer.echo(f"error: {problem}", err=True)
        raise typer.Exit(2)
    return password


def _run(fn):  # type: ignore[no-untyped-def]
    url = stackfile.database_url(load_settings(CommonSettings))

    async def go():  # type: ignore[no-untyped-def]
        conn = await asyncpg.connect(url)
        try:
            return await fn(conn)
        finally:
            await conn.close()

    return asyncio.run(go())


@user_app.command("create")
def create(
    name: Annotated[str, typer.Argument(help="user name (1-128 characters)")],
    role: Annotated[str, typer.Option(help="vehicle, operator or admin")] = "vehicle",
    no_password: Annotated[
        bool, typer.Option("--no-password", help="API tokens only, no login")
    ] = False,
) -> None:
    """Create a user with a password (argon2)."""
    if role not in registry.ROLES:
        typer.echo(f"error: --role must be one of {', '.join(registry.ROLES)}", err=True)
        raise typer.Exit(2)
    if not 1 <= len(name) <= 128 or any(ord(c) < 32 or ord(c) == 127 for c in name):
        typer.echo("error: a user name has 1-128 characters and no control characters", err=True)
        raise typer.Exit(2)
    password = None if no_password else _checked_password()
    try:
        user_id = _run(lambda c: accounts.create_user(c, name, role, password))  # type: ignore[arg-type]
    except ValueError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(1) from exc
    typer.echo(f"user {name} ({role}) created, id {user_id}")


@user_app.command("password")
def password(name: Annotated[str, typer.Argument(help="user name")]) -> None:
    """Set or replace a user's password; their API tokens stay valid."""
    secret = _checked_password()
    try:
        _run(lambda c: accounts.set_password(c, name, secret))
    except registry.UnknownUser as exc:
        typer.echo(f"error: no user {name!r}", err=True)
        raise typer.Exit(1) from exc
    typer.echo(f"password of {name} set")
