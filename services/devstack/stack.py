"""The whole development stack of `chargeflow up` and `chargeflow demo`.

In order: the broker and PostgreSQL (embedded, or the external ones of
CHARGEFLOW_KAFKA_BOOTSTRAP / CHARGEFLOW_DATABASE_URL), the migrations, the example network
and fleet, the stack file (so other CLI verbs and the services find it), and every service
as a child process of the supervisor, all on one clock. Stopping goes in reverse.
"""

from __future__ import annotations

import time

from services.common import migrate, stackfile
from services.common.settings import CommonSettings, utc_now
from services.devstack import seed
from services.devstack.embedded import EmbeddedStack
from services.devstack.supervisor import Supervisor, service_env


def clock_env(settings: CommonSettings) -> dict[str, str]:
    """One clock for every process of the stack: same start, speed and anchor."""
    start = settings.clock_start or utc_now()
    anchor = settings.clock_anchor or utc_now()
    return {
        "CHARGEFLOW_CLOCK_START": start.isoformat(),
        "CHARGEFLOW_CLOCK_SPEED": str(settings.clock_speed),
        "CHARGEFLOW_CLOCK_ANCHOR": anchor.isoformat(),
    }


class DevStack:
    """`start()` brings everything up and says where it is; `stop()` takes it all down, as
    does a start that fails half-way."""

    def __init__(
        self, settings: CommonSettings, *, seed_example: bool = True, services: bool = True
    ) -> None:
        self.settings = settings
        self.seed_example = seed_example
        self.services = services
        self.infra = EmbeddedStack(
            settings.state_dir,
            settings.kafka_bootstrap,
            settings.database_url,
            broker_port=settings.broker_port,
            postgres_port=settings.postgres_port,
        )
        self.clock = clock_env(settings)  # anchored now, as the stack starts
        self.supervisor: Supervisor | None = None
        self.announced = False  # wrote the stack file: only then is removing it ours

    def start(self) -> dict[str, str]:
        """Addresses of the broker, the database and each service, and the start-up time."""
        t0 = time.monotonic()
        try:
            infra = self.infra.start()
            migrate.upgrade(infra.database_url)
            if self.seed_example:
                seed.load_into(infra.database_url, seed.load())
            where = {
                "kafka_bootstrap": infra.kafka_bootstrap
                + ("" if infra.embedded_broker else " (external)"),
                "database_url": infra.database_url
                + ("" if infra.embedded_postgres else " (external)"),
            }
            stackfile.write(self.settings, infra.kafka_bootstrap, infra.database_url)
            self.announced = True
            if self.services:
                env = service_env(infra.kafka_bootstrap, infra.database_url, self.clock)
                self.supervisor = Supervisor(self.settings.state_dir / "logs", env)
                where |= self.supervisor.start()
        except BaseException:
            self.stop()
            raise
        where["started_in_s"] = f"{time.monotonic() - t0:.1f}"
        return where

    def stop(self) -> None:
        if self.supervisor is not None:
            self.supervisor.stop()
        self.infra.stop()
        if self.announced:
            stackfile.remove(self.settings)
            self.announced = False
