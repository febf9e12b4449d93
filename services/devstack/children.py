"""A child process the development stack owns, and the ports it waits for.

Every process that `chargeflow up`, `make demo` and the test fixtures start (the broker,
PostgreSQL, each service) is a `Child`: started in its own session, so a terminal's Ctrl-C
reaches only us and we stop the children in order; stopped from `atexit` too; and started
with the kernel's parent-death signal, so they go even when we are SIGKILLed.
"""

from __future__ import annotations

import atexit
import contextlib
import logging
import os
import signal
import socket
import subprocess
import time
from pathlib import Path

from services.common.orphans import die_with_parent

log = logging.getLogger(__name__)


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket() as s:
        s.bind((host, 0))
        return int(s.getsockname()[1])


def wait_for_port(host: str, port: int, timeout: float, proc: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"process {proc.args!r} exited with {proc.returncode} at start-up")
        with contextlib.suppress(OSError), socket.create_connection((host, port), timeout=0.5):
            return
        time.sleep(0.05)
    raise TimeoutError(f"{host}:{port} did not answer within {timeout:.0f} s")


class Child:
    """A child process we own: started in its own session, stopped with a signal, then killed."""

    name = "child"
    stop_signal = signal.SIGTERM

    def __init__(self) -> None:
        self.proc: subprocess.Popen[bytes] | None = None

    def launch(
        self,
        args: list[str],
        log_path: Path,
        user: str | None = None,
        env: dict[str, str] | None = None,
    ) -> None:
        log_path.parent.mkdir(parents=True, exist_ok=True)
        with open(log_path, "ab") as out:
            self.proc = subprocess.Popen(
                args,
                stdout=out,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
                user=user,
                env=env,
                preexec_fn=lambda: die_with_parent(self.stop_signal),
            )
        atexit.register(self.stop)
        log.info("%s started (pid %d), log %s", self.name, self.proc.pid, log_path)

    @property
    def pid(self) -> int | None:
        return self.proc.pid if self.proc else None

    def stop(self, timeout: float = 10.0) -> None:
        proc, self.proc = self.proc, None
        if proc is None or proc.poll() is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            proc.send_signal(self.stop_signal)
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(5)
        log.info("%s stopped", self.name)
