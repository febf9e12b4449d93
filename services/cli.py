"""The `chargeflow` console script: one verb table, each verb's module imported when it runs.

It lives above everything (not in services/common) because it names a command of every
part, while services/common may import only schemas/ and no service may import another.
It imports none of them up front: `chargeflow ingest` loads the gateway's own entry point
(services/ingest/cli.py) and nothing else, `chargeflow up` and `chargeflow demo` load the
development toolbox, which runs the services as processes and imports none of their modules,
and `chargeflow auction clear` pays for neither the web stack nor Alembic. Only `--help`,
which shows every verb's summary, imports them all.
"""

from __future__ import annotations

import importlib
from collections.abc import Iterator, MutableMapping
from typing import Any

import typer
from typer.core import TyperGroup

# verb -> (module, its Typer app, the app's own command for this verb; None: the whole app)
VERBS: dict[str, tuple[str, str, str | None]] = {
    "up": ("services.devstack.cli", "app", "up"),
    "demo": ("services.devstack.demo", "app", None),
    "seed": ("services.devstack.cli", "app", "seed"),
    "simulate": ("services.devstack.cli", "app", "simulate"),
    "migrate": ("services.common.cli", "app", "migrate"),
    "token": ("services.common.cli", "app", "token"),
    "user": ("services.common.usercli", "user_app", None),
    "schemas": ("services.common.cli", "app", "schemas"),
    "auction": ("auction.cli", "app", None),
    "config": ("services.aggregator.cli", "app", None),
    "aggregator": ("services.aggregator.cli", "run_app", None),
    "market": ("services.market.cli", "app", None),
    "ingest": ("services.ingest.cli", "app", None),
    "decisions": ("services.decisions.cli", "app", None),
    "client": ("services.client.cli", "app", None),
}


# A click command of typer's own (vendored) click, which has no public name to type with.
Command = Any


def load_verb(verb: str) -> Command:
    module, attr, command = VERBS[verb]
    group = typer.main.get_group(getattr(importlib.import_module(module), attr))
    if command is None:
        group.name = verb
        return group
    return group.commands[command]


class _Verbs(MutableMapping[str, Command]):
    """The group's commands: every verb is listed, its module imported on first use."""

    def __init__(self) -> None:
        self._loaded: dict[str, Command] = {}

    def __getitem__(self, verb: str) -> Command:
        if verb not in self._loaded:
            self._loaded[verb] = load_verb(verb)  # KeyError for an unknown verb
        return self._loaded[verb]

    def __setitem__(self, verb: str, command: Command) -> None:
        self._loaded[verb] = command

    def __delitem__(self, verb: str) -> None:
        del self._loaded[verb]

    def __iter__(self) -> Iterator[str]:
        return iter(VERBS)

    def __len__(self) -> int:
        return len(VERBS)


class _LazyGroup(TyperGroup):
    def __init__(self, **attrs: Any) -> None:
        super().__init__(**attrs)
        self.commands = _Verbs()


app = typer.Typer(
    cls=_LazyGroup,
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


@app.callback()
def _chargeflow() -> None:
    """chargeflow: EV charging aggregator"""


def main() -> None:
    app()


if __name__ == "__main__":
    main()
