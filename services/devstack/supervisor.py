"""Runs the chargeflow services as child processes of `chargeflow up` / `chargeflow demo`.

Each service is started with `python -m <module>` and the stack's environment (broker,
database, one clock anchor), logs to `<state_dir>/logs/<name>.log`, and is ready when its
`/healthz` answers. Children die with us (PR_SET_PDEATHSIG) and are stopped with SIGTERM,
then SIGKILL, on exit.

A service that dies is started again with exponential back-off (1, 2, 4 ... 30 s; back to
1 s once it had run for a minute), and the supervisor says so on the console and in
`<state_dir>/logs/supervisor.log` and the service's own log ("aggregator exited with code
-9; restarting in 2 s (restart 3)"). One thread, the watcher, does every restart and, on
stop, stops every child: a stop can never race with a restart, and PR_SET_PDEATHSIG (which
fires when the *thread* that started a child ends) never hits a child the watcher started
while it still runs.
"""

from __future__ import annotations

import atexit
import os
import sys
import threading
import time
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from services.common.clock import Clock
from services.devstack.children import Child


@dataclass(frozen=True)
class ServiceSpec:
    name: str
    module: str
    port: int
    port_env: str


SERVICES = (
    ServiceSpec("decisions", "services.decisions", 8080, "CHARGEFLOW_DECISIONS_PORT"),
    ServiceSpec("aggregator", "services.aggregator", 6066, "CHARGEFLOW_AGGREGATOR_PORT"),
    ServiceSpec("market", "services.market", 8090, "CHARGEFLOW_MARKET_PORT"),
    ServiceSpec("ingest", "services.ingest", 8000, "CHARGEFLOW_INGEST_PORT"),
)


@dataclass(frozen=True)
class Backoff:
    """Wait before the n-th consecutive restart: first_s * 2**(n-1), at most max_s. A child
    that ran for healthy_after_s before dying starts the count again."""

    first_s: float = 1.0
    max_s: float = 30.0
    healthy_after_s: float = 60.0

    def delay(self, failures: int) -> float:
        return min(self.max_s, self.first_s * 2 ** max(0, failures - 1))

    def failures_after(self, failures: int, ran_s: float) -> int:
        """Consecutive failures counting this death (ran_s: how long the child ran)."""
        return 1 if ran_s >= self.healthy_after_s else failures + 1


class ServiceProcess(Child):
    def __init__(self, spec: ServiceSpec, log_dir: Path, env: dict[str, str]) -> None:
        super().__init__()
        self.spec = spec
        self.name = spec.name
        self.log_dir = log_dir
        self.env = env
        self.port = int(env.get(spec.port_env, spec.port))

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def log_path(self) -> Path:
        return self.log_dir / f"{self.spec.name}.log"

    def spawn(self) -> None:
        self.launch([sys.executable, "-m", self.spec.module], self.log_path, env=self.env)

    def healthy(self, timeout: float = 1.0) -> bool:
        try:
            with urllib.request.urlopen(f"{self.url}/healthz", timeout=timeout) as response:
                return bool(response.status == 200)
        except OSError:
            return False

    def start(self, timeout: float = 60.0) -> None:
        self.spawn()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            assert self.proc is not None
            if self.proc.poll() is not None:
                raise RuntimeError(
                    f"{self.name} exited with {self.proc.returncode}; see {self.log_path}"
                )
            if self.healthy():
                return
            time.sleep(0.2)
        raise TimeoutError(f"{self.name} did not answer /healthz within {timeout:.0f} s")


@dataclass
class _Watch:
    """What the watcher knows of one child between polls."""

    started_at: float
    restarts: int = 0
    failures: int = 0  # consecutive quick deaths
    restart_at: float | None = None  # monotonic time of the scheduled restart
    awaiting_health: bool = False


def _console(message: str) -> None:
    print(f"[supervisor] {message}", file=sys.stderr, flush=True)


class Supervisor:
    def __init__(
        self,
        log_dir: Path,
        env: dict[str, str],
        specs: tuple[ServiceSpec, ...] = SERVICES,
        backoff: Backoff | None = None,
        say: Callable[[str], None] = _console,
        poll_s: float = 0.2,
        clock: Clock | None = None,
    ) -> None:
        self.children = [ServiceProcess(spec, log_dir, env) for spec in specs]
        self.log_path = log_dir / "supervisor.log"
        self.backoff = backoff or Backoff()
        self.say = say
        self.poll_s = poll_s
        self.clock = clock or Clock()  # wall time, for the log lines
        self._stopping = threading.Event()
        self._watcher: threading.Thread | None = None
        self._watches: dict[str, _Watch] = {}

    def start(self) -> dict[str, str]:
        try:
            for child in self.children:
                child.start()
                self._watches[child.name] = _Watch(started_at=time.monotonic())
        except BaseException:
            self.stop()
            raise
        self._watcher = threading.Thread(target=self._watch, name="supervisor", daemon=True)
        self._watcher.start()
        # atexit runs last-registered first: this stop (with the watcher) precedes the
        # children's own atexit stops, so no child is restarted while the process exits.
        atexit.register(self.stop)
        return {child.name: child.url for child in self.children}

    def stop(self) -> None:
        """Stop restarting and stop every child; returns when all are gone."""
        self._stopping.set()
        watcher = self._watcher
        if watcher is not None and watcher.is_alive():
            watcher.join()  # the watcher stops the children as it ends
        else:
            self._stop_children()

    def _stop_children(self) -> None:
        for child in reversed(self.children):
            child.stop()

    def _watch(self) -> None:
        try:
            while not self._stopping.wait(self.poll_s):
                for child in self.children:
                    try:
                        self._check(child)
                    except Exception as exc:  # keep watching the others
                        self._report(child, f"{child.name}: supervisor error {exc!r}")
        finally:
            self._stop_children()

    def _check(self, child: ServiceProcess) -> None:
        w = self._watches[child.name]
        now = time.monotonic()
        if w.restart_at is not None:
            if now >= w.restart_at and not self._stopping.is_set():
                child.spawn()
                w.restart_at, w.started_at, w.awaiting_health = None, now, True
                self._report(child, f"{child.name} restarted (pid {child.pid})")
            return
        code = child.proc.poll() if child.proc is not None else None
        if code is None:
            if w.awaiting_health and child.healthy(timeout=0.5):
                w.awaiting_health = False
                self._report(child, f"{child.name} is healthy again (pid {child.pid})")
            return
        w.failures = self.backoff.failures_after(w.failures, now - w.started_at)
        w.restarts += 1
        delay = self.backoff.delay(w.failures)
        w.restart_at = now + delay
        self._report(
            child,
            f"{child.name} exited with code {code}; restarting in {delay:g} s "
            f"(restart {w.restarts})",
        )

    def _report(self, child: ServiceProcess, message: str) -> None:
        """Console, the supervisor's log and the service's own log (where one looks first)."""
        self.say(message)
        line = f"{self.clock.now().isoformat(timespec='seconds')} supervisor: {message}\n"
        for path in (self.log_path, child.log_path):
            try:
                with open(path, "a", encoding="utf-8") as f:
                    f.write(line)
            except OSError:
                pass  # a full disk must not stop the restarts


def service_env(kafka_bootstrap: str, database_url: str, extra: dict[str, str]) -> dict[str, str]:
    env = dict(os.environ)
    env |= {"CHARGEFLOW_KAFKA_BOOTSTRAP": kafka_bootstrap, "CHARGEFLOW_DATABASE_URL": database_url}
    return env | extra
