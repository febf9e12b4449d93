"""The supervisor of `chargeflow up` / `make demo` restarts a service that dies, with
back-off, says so, and leaves nothing behind when it stops (real market service process)."""

from __future__ import annotations

import os
import signal
import time
import urllib.request
import uuid
from collections.abc import Callable
from pathlib import Path

import psutil
import pytest

from services.devstack.children import free_port
from services.devstack.supervisor import Backoff, ServiceSpec, Supervisor

pytestmark = pytest.mark.integration

MARKET = ServiceSpec("market", "services.market", 8090, "CHARGEFLOW_MARKET_PORT")


def _env(kafka_bootstrap: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CHARGEFLOW_")}
    return env | {
        "CHARGEFLOW_KAFKA_BOOTSTRAP": kafka_bootstrap,
        "CHARGEFLOW_MARKET_PORT": str(free_port()),
        "CHARGEFLOW_MARKET_TOPIC_PREFIX": f"sup-{uuid.uuid4().hex[:8]}.",
        "CHARGEFLOW_MARKET_SESSION_TIMEOUT_MS": "1000",
        "CHARGEFLOW_MARKET_HEARTBEAT_MS": "200",
    }


def _until(check: Callable[[], bool], within: float = 60) -> None:
    deadline = time.monotonic() + within
    while not check():
        assert time.monotonic() < deadline, "condition not reached"
        time.sleep(0.1)


def _services_of_ours() -> list[psutil.Process]:
    """Market service processes among our descendants that are still running."""
    found = []
    for p in psutil.Process().children(recursive=True):
        try:
            if "services.market" in " ".join(p.cmdline()) and p.status() != psutil.STATUS_ZOMBIE:
                found.append(p)
        except psutil.NoSuchProcess:
            pass
    return found


def _healthz(url: str) -> int:
    with urllib.request.urlopen(f"{url}/healthz", timeout=2) as response:
        return int(response.status)


def test_a_killed_service_is_restarted_with_backoff_healthy_again_and_said_so(
    tmp_path: Path, kafka_bootstrap: str
) -> None:
    said: list[str] = []
    sup = Supervisor(tmp_path, _env(kafka_bootstrap), specs=(MARKET,), say=said.append)
    urls = sup.start()
    [child] = sup.children
    pids = [child.pid]
    try:
        for restart, delay in ((1, 1), (2, 2)):  # died quickly again: the wait doubles
            os.kill(pids[-1], signal.SIGKILL)
            _until(lambda n=restart: sum("is healthy again" in m for m in said) == n)
            assert (
                f"market exited with code -9; restarting in {delay} s (restart {restart})" in said
            )
            assert child.pid not in pids
            pids.append(child.pid)
            assert _healthz(urls["market"]) == 200
    finally:
        sup.stop()
    assert [p for p in pids if p is not None and psutil.pid_exists(p)
            and psutil.Process(p).status() != psutil.STATUS_ZOMBIE] == []  # fmt: skip
    assert _services_of_ours() == []
    first = "supervisor: market exited with code -9; restarting in 1 s (restart 1)"
    assert first in (tmp_path / "supervisor.log").read_text()
    assert first in (tmp_path / "market.log").read_text()  # beside the service's own lines


def test_stopping_while_a_restart_is_pending_starts_nothing_and_leaves_nothing(
    tmp_path: Path, kafka_bootstrap: str
) -> None:
    said: list[str] = []
    sup = Supervisor(
        tmp_path, _env(kafka_bootstrap), specs=(MARKET,), backoff=Backoff(first_s=30),
        say=said.append,
    )  # fmt: skip
    sup.start()
    os.kill(sup.children[0].pid or 0, signal.SIGKILL)
    _until(lambda: any("restarting in 30 s" in m for m in said), within=10)
    started = time.monotonic()
    sup.stop()
    assert time.monotonic() - started < 5  # does not sit out the back-off
    time.sleep(1)
    assert not any("restarted" in m for m in said)
    assert _services_of_ours() == []
