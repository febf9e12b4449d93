"""Runs the chargeflow services as child processes of `chargeflow up` / `chargeflow demo`.

Each service is started with `python -m <module>` and the stack's environment (broker,
database, one clock anchor), logs to `<state_dir>/logs/<name>.log`, and is ready when its
`/healthz` answers. Children die with us (PR_SET_PDEATHSIG) and are stopped with SIGTERM,
then SIGKILL, on exit.
"""

from __future__ import annotations

import os
import sys
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from services.common.embedded import _Child


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


class ServiceProcess(_Child):
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

    def start(self, timeout: float = 60.0) -> None:
        self._spawn(
            [sys.executable, "-m", self.spec.module],
            self.log_dir / f"{self.spec.name}.log",
            env=self.env,
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            assert self.proc is not None
            if self.proc.poll() is not None:
                raise RuntimeError(
                    f"{self.name} exited with {self.proc.returncode}; "
                    f"see {self.log_dir / (self.spec.name + '.log')}"
                )
            try:
                with urllib.request.urlopen(f"{self.url}/healthz", timeout=1) as response:
                    if response.status == 200:
                        return
            except OSError:
                time.sleep(0.2)
        raise TimeoutError(f"{self.name} did not answer /healthz within {timeout:.0f} s")


class Supervisor:
    def __init__(self, log_dir: Path, env: dict[str, str]) -> None:
        self.children = [ServiceProcess(spec, log_dir, env) for spec in SERVICES]

    def start(self) -> dict[str, str]:
        try:
            for child in self.children:
                child.start()
        except BaseException:
            self.stop()
            raise
        return {child.name: child.url for child in self.children}

    def stop(self) -> None:
        for child in reversed(self.children):
            child.stop()


def service_env(kafka_bootstrap: str, database_url: str, extra: dict[str, str]) -> dict[str, str]:
    env = dict(os.environ)
    env |= {"CHARGEFLOW_KAFKA_BOOTSTRAP": kafka_bootstrap, "CHARGEFLOW_DATABASE_URL": database_url}
    return env | extra
