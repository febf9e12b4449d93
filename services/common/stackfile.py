"""Where the running dev stack is: `chargeflow up` writes it, the services and the other CLI
verbs read it.

Order of precedence for each address: the CHARGEFLOW_* environment variable, then
`<state_dir>/stack.json` of a running `chargeflow up`. It lives in the runtime library
because the services read it at start; the file holds plain addresses, so writing it needs
nothing of the development toolbox (services/devstack/) that starts the stack.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from services.common.kafka_access import BrokerAccess
from services.common.settings import CommonSettings


def path(settings: CommonSettings) -> Path:
    return settings.state_dir / "stack.json"


def write(settings: CommonSettings, kafka_bootstrap: str, database_url: str) -> Path:
    """Announce this process's stack; the file counts only while this pid lives."""
    target = path(settings)
    target.parent.mkdir(parents=True, exist_ok=True)
    body = {"pid": os.getpid(), "kafka_bootstrap": kafka_bootstrap, "database_url": database_url}
    tmp = target.with_suffix(".tmp")
    tmp.write_text(json.dumps(body, indent=2) + "\n")
    tmp.replace(target)
    return target


def remove(settings: CommonSettings) -> None:
    path(settings).unlink(missing_ok=True)


def _running(settings: CommonSettings) -> dict[str, str]:
    target = path(settings)
    if not target.exists():
        return {}
    body = json.loads(target.read_text())
    try:
        os.kill(int(body["pid"]), 0)
    except (OSError, KeyError, ValueError):
        return {}  # stale file of a stack that is gone
    return {k: str(v) for k, v in body.items()}


def _address(settings: CommonSettings, key: str, given: str | None, what: str) -> str:
    """The setting when given, else the running stack's; without either, exit naming both."""
    value = given or _running(settings).get(key)
    if not value:
        raise SystemExit(
            f"no {what}: set CHARGEFLOW_{key.upper()} or start the dev stack with `chargeflow up`"
        )
    return value


def database_url(settings: CommonSettings) -> str:
    return _address(settings, "database_url", settings.database_url, "database")


def kafka_bootstrap(settings: CommonSettings) -> str:
    return _address(settings, "kafka_bootstrap", settings.kafka_bootstrap, "broker")


def kafka_access(settings: CommonSettings) -> BrokerAccess:
    """The broker of `kafka_bootstrap` with this service's credentials from the settings.

    The stack file holds addresses only, never credentials: the embedded broker is open
    (docs/operations.md), and an external one gets its credentials from the environment."""
    return settings.kafka_access(kafka_bootstrap(settings))
