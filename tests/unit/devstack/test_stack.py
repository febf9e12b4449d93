"""The dev stack takes down what it started, and nothing of another stack."""

from __future__ import annotations

import pytest

from services.common import stackfile
from services.common.settings import CommonSettings
from services.devstack.stack import DevStack

NOWHERE = "postgresql://postgres@127.0.0.1:1/none"  # port 1: refused at once


def test_a_stack_that_fails_to_start_leaves_the_running_stacks_file_alone(tmp_path):
    # External infrastructure (nothing embedded starts) whose database refuses: the start
    # fails at the migrations, before this stack announced itself.
    settings = CommonSettings(
        state_dir=tmp_path, kafka_bootstrap="127.0.0.1:1", database_url=NOWHERE
    )
    running = "postgresql://postgres@127.0.0.1:5432/chargeflow"
    stackfile.write(settings, "127.0.0.1:9092", running)  # our pid: a live stack

    with pytest.raises(OSError):
        DevStack(settings, services=False).start()

    assert stackfile.database_url(CommonSettings(state_dir=tmp_path, database_url=None)) == running
