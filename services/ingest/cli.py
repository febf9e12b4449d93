"""`chargeflow ingest`: run the ingest gateway in the foreground."""

from __future__ import annotations

from typing import Annotated

import typer

from services.common.settings import load_settings
from services.ingest.server import serve
from services.ingest.settings import Settings

app = typer.Typer(no_args_is_help=False, add_completion=False, help="The ingest gateway.")


@app.callback(invoke_without_command=True)
def ingest(
    port: Annotated[int | None, typer.Option(help="port (default 8000)")] = None,
    host: Annotated[str | None, typer.Option(help="interface (default 127.0.0.1)")] = None,
) -> None:
    """Serve POST/DELETE /charging-schedules/ on the broker and database of the environment
    (CHARGEFLOW_KAFKA_BOOTSTRAP, CHARGEFLOW_DATABASE_URL) or of a running `chargeflow up`."""
    overrides = {k: v for k, v in (("ingest_port", port), ("ingest_host", host)) if v is not None}
    serve(load_settings(Settings, **overrides))
