"""`chargeflow decisions`: run the service; `chargeflow decisions replay`: re-read topics."""

from __future__ import annotations

import asyncio
from typing import Annotated

import asyncpg
import typer

from services.common import stackfile
from services.common.settings import load_settings
from services.decisions.settings import Settings

app = typer.Typer(no_args_is_help=False, help="Decisions service (vehicle API, operator API)")


@app.callback(invoke_without_command=True)
def main(ctx: typer.Context) -> None:
    """Run the decisions service (HTTP on CHARGEFLOW_DECISIONS_PORT, default 8080)."""
    if ctx.invoked_subcommand is None:
        from services.decisions.server import serve

        serve(load_settings(Settings))


@app.command("replay")
def replay(
    consumer: Annotated[str | None, typer.Option(help="consumer name (default: settings)")] = None,
) -> None:
    """Forget the stored offsets: a restarted service re-reads every topic from the start.

    Safe at any time: the writes are idempotent upserts, so a replay changes nothing that
    is already up to date.
    """
    settings = load_settings(Settings)
    name = consumer or settings.decisions_consumer

    async def run() -> str:
        conn = await asyncpg.connect(stackfile.database_url(settings))
        try:
            status: str = await conn.execute(
                "DELETE FROM consumed_offsets WHERE consumer = $1", name
            )
            return status
        finally:
            await conn.close()

    status = asyncio.run(run())
    typer.echo(f"{name}: {status.split()[-1]} stored offsets removed; restart the service")
