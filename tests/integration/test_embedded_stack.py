"""`chargeflow up` starts the embedded stack and never leaves a broker or PostgreSQL behind."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import psutil
import pytest

from services.devstack.children import free_port

pytestmark = pytest.mark.integration

CHARGEFLOW = [sys.executable, "-m", "services.cli"]


def _env(state: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CHARGEFLOW_")}
    env |= {"CHARGEFLOW_STATE_DIR": str(state), "CHARGEFLOW_BROKER_PORT": str(free_port())}
    return env | extra


def _start_up(
    state: Path, *args: str, **extra: str
) -> tuple[subprocess.Popen[str], dict[str, str]]:
    proc = subprocess.Popen(
        [*CHARGEFLOW, *(args or ("up", "--no-seed", "--no-services"))],
        env=_env(state, **extra),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None
    lines = []
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        if not line:
            break
        lines.append(line)
        if line.startswith("}"):
            return proc, json.loads("".join(lines))
    proc.kill()
    raise AssertionError(
        f"chargeflow up did not start: {proc.stderr.read() if proc.stderr else ''}"
    )


def _stack_children(pid: int) -> list[psutil.Process]:
    procs = psutil.Process(pid).children(recursive=True)
    assert any("tansu" in p.name() for p in procs), procs
    assert any("postgres" in p.name() for p in procs), procs
    return procs


def _all_gone(procs: list[psutil.Process], timeout: float = 15) -> list[psutil.Process]:
    _, alive = psutil.wait_procs(procs, timeout=timeout)
    return [p for p in alive if p.is_running() and p.status() != psutil.STATUS_ZOMBIE]


def test_ctrl_c_stops_broker_and_postgres(tmp_path):
    proc, where = _start_up(tmp_path)
    try:
        assert where["kafka_bootstrap"].startswith("127.0.0.1:")
        assert where["database_url"].startswith("postgresql://")
        assert (tmp_path / "stack.json").exists()
        children = _stack_children(proc.pid)
        proc.send_signal(signal.SIGINT)
        assert proc.wait(30) == 0
        assert _all_gone(children) == []
        assert not (tmp_path / "stack.json").exists()
    finally:
        proc.kill()


def test_sigkill_of_the_parent_leaves_no_orphans(tmp_path):
    proc, _ = _start_up(tmp_path)
    children = _stack_children(proc.pid)
    proc.kill()  # no handler runs: the kernel's parent-death signal must do it
    proc.wait(10)
    assert _all_gone(children) == []


def test_cli_verbs_use_the_running_stack(tmp_path):
    proc, _ = _start_up(tmp_path)
    try:
        env = _env(tmp_path)
        seeded = subprocess.run(
            [*CHARGEFLOW, "seed"], env=env, capture_output=True, text=True, timeout=60
        )
        assert seeded.returncode == 0, seeded.stderr
        assert "20 vehicles" in seeded.stdout
        made = subprocess.run(
            [*CHARGEFLOW, "token", "create", "--user", "fleet-demo", "--role", "vehicle"],
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert made.returncode == 0, made.stderr
        assert made.stdout.strip().startswith("cf_") and "shown once" in made.stderr
        bad = subprocess.run(
            [*CHARGEFLOW, "token", "create", "--user", "x", "--role", "root"],
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert bad.returncode == 2 and "--role must be one of" in bad.stderr
        # The fleet from the registry, a new operator token, the next open day: all there
        # before the gateway is needed; with none listening, the verb says so and fails.
        nobody = f"http://127.0.0.1:{free_port()}"
        simulated = subprocess.run(
            [*CHARGEFLOW, "simulate", "--ingest", nobody, "--vehicles", "3"],
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert simulated.returncode == 1
        assert "submitting 3 plans for PL " in simulated.stderr
        assert f"to {nobody}" in simulated.stderr and "error: " in simulated.stderr
    finally:
        proc.send_signal(signal.SIGINT)
        proc.wait(30)


def test_external_infrastructure_starts_nothing(tmp_path, infra, database_url):
    env = _env(
        tmp_path,
        CHARGEFLOW_KAFKA_BOOTSTRAP=infra.kafka_bootstrap,
        CHARGEFLOW_DATABASE_URL=database_url,
    )
    proc = subprocess.run(
        [*CHARGEFLOW, "up", "--no-seed", "--no-services", "--exit-after-start"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 0, proc.stderr
    where = json.loads(proc.stdout)
    assert where["kafka_bootstrap"] == f"{infra.kafka_bootstrap} (external)"
    assert where["database_url"] == f"{database_url} (external)"
    assert not (tmp_path / "postgres").exists()


def test_demo_runs_every_service_and_ctrl_c_stops_them_all(tmp_path):
    ports = {
        f"CHARGEFLOW_{name}_PORT": str(free_port())
        for name in ("INGEST", "DECISIONS", "AGGREGATOR", "MARKET")
    }
    proc, where = _start_up(tmp_path, "demo", **ports)
    try:
        assert {"kafka_bootstrap", "database_url"} <= where.keys()
        for name in ("ingest", "decisions", "aggregator", "market"):
            port = ports[f"CHARGEFLOW_{name.upper()}_PORT"]
            assert where[name] == f"http://127.0.0.1:{port}"
        children = _stack_children(proc.pid)
        modules = {" ".join(p.cmdline()) for p in children}
        for module in (
            "services.ingest",
            "services.decisions",
            "services.aggregator",
            "services.market",
        ):
            assert any(module in cmd for cmd in modules), module
        proc.send_signal(signal.SIGINT)
        assert proc.wait(60) == 0
        assert _all_gone(children) == []
    finally:
        proc.kill()


def test_demo_clears_a_whole_market_day(tmp_path):
    env = _env(
        tmp_path,
        CHARGEFLOW_DEMO_LEAD_MINUTES="1",
        CHARGEFLOW_DEMO_CLOCK_SPEED="4",
        **{
            f"CHARGEFLOW_{name}_PORT": str(free_port())
            for name in ("INGEST", "DECISIONS", "AGGREGATOR", "MARKET")
        },
    )
    done = subprocess.run(
        [*CHARGEFLOW, "demo", "--exit-after-day"],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    summary = json.loads(done.stdout[done.stdout.index("\n}\n") + 3 : done.stdout.rindex("}") + 1])
    assert summary["phase"] == 2 and summary["fallback"] is False
    assert summary["plans_submitted"]["accepted"] == 20
    decided = summary["decisions"]["accepted"] + summary["decisions"]["rejected"]
    assert decided == 20
    assert 0 < summary["total_accepted_kwh"] <= summary["total_requested_kwh"]
    assert "MTU start (local)" in done.stdout
