"""`chargeflow market`: run the simulated day-ahead exchange adapter in the foreground."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from services.common import stackfile
from services.common.settings import load_settings
from services.market.service import main
from services.market.settings import Settings

app = typer.Typer(no_args_is_help=False, add_completion=False, help="The market adapter.")


@app.callback(invoke_without_command=True)
def market(
    port: Annotated[int | None, typer.Option(help="HTTP port (default 8090)")] = None,
) -> None:
    """Clear aggregate-bids against the simulated exchange, publish market-results, on the
    broker of the environment (CHARGEFLOW_KAFKA_BOOTSTRAP) or of a running `chargeflow up`."""
    base = load_settings(Settings)
    overrides: dict[str, Any] = {"kafka_bootstrap": stackfile.kafka_bootstrap(base)}
    if port is not None:
        overrides["market_port"] = port
    main(load_settings(Settings, **overrides))
