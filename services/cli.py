"""The `chargeflow` console script: one Typer app assembled from each part's own commands.

It lives above the services (not in services/common) because it mounts commands of several
services, while services/common may import only schemas/ (DESIGN §1).
"""

from __future__ import annotations

import importlib

import typer

from services.common.cli import app as common_app

app = typer.Typer(
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    help="chargeflow: EV charging aggregator",
)
app.add_typer(common_app, name=None)

# (module, attribute, verb): each part's own Typer app, imported by name so that this
# module, not services/common, is the one place that knows every service.
_PARTS = [
    ("services.demo", "app", "demo"),
    ("auction.cli", "app", "auction"),
    ("services.aggregator.cli", "app", "config"),
    ("services.aggregator.cli", "run_app", "aggregator"),
    ("services.market.cli", "app", "market"),
    ("services.ingest.cli", "app", "ingest"),
    ("services.decisions.cli", "app", "decisions"),
]
for module_name, attr, verb in _PARTS:
    app.add_typer(getattr(importlib.import_module(module_name), attr), name=verb)


def main() -> None:
    app()


if __name__ == "__main__":
    main()
