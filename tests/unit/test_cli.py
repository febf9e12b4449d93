"""The `chargeflow` console script: every verb of its table resolves to its part's command."""

from __future__ import annotations

import re

import pytest
from typer.testing import CliRunner

from services.cli import VERBS, app, load_verb


@pytest.mark.parametrize("verb", sorted(VERBS))
def test_every_verb_loads_its_command(verb):
    command = load_verb(verb)
    assert command.name == verb
    assert command.help or command.callback.__doc__


def test_help_lists_every_verb_in_table_order():
    shown = CliRunner().invoke(app, ["--help"])
    assert shown.exit_code == 0
    commands = shown.output[shown.output.index("Commands") :]
    assert re.findall(r"^│ (\S+)", commands, re.MULTILINE) == list(VERBS)


def test_a_mistyped_verb_is_refused_with_a_suggestion():
    refused = CliRunner().invoke(app, ["demoo"])
    assert refused.exit_code == 2
    assert "Did you mean 'demo'?" in refused.output
