"""Where the running dev stack is: `chargeflow up` writes it, the other CLI verbs read it.

Order of precedence for each address: the CHARGEFLOW_* environment variable, then
`<state_dir>/stack.json` of a running `chargeflow up`.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from services.common.embedded import Infrastructure
from services.common.kafka_access import BrokerAccess
from services.common.settings import CommonSettings


def path(settings: CommonSettings) -> Path:
    return settings.state_dir / "stack.json"


def write(settings: CommonSettings, infra: Infrastructure, extra: dict[str, str]) -> Path:
    target = path(settings)
    target.parent.mkdir(parents=True, exist_ok=True)
    body = {"pid": os.getpid(), "kafka_bootstrap": infra.kafka_bootstrap}
    body |= {"database_url": infra.database_url, **extra}
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


def database_url(settings: CommonSettings) -> str:
    url = settings.database_url or _running(settings).get("database_url")
    if not url:
        raise SystemExit(
            "no database: set CHARGEFLOW_DATABASE_URL or start the dev stack with `chargeflow up`"
        )
    return url


def kafka_bootstrap(settings: CommonSettings) -> str:
    bootstrap = settings.kafka_bootstrap or _running(settings).get("kafka_bootstrap")
    if not bootstrap:
        raise SystemExit(
            "no broker: set CHARGEFLOW_KAFKA_BOOTSTRAP or start the dev stack with `chargeflow up`"
        )
    return bootstrap


def kafka_access(settings: CommonSettings) -> BrokerAccess:
    """The broker of `kafka_bootstrap` with this service's credentials from the settings.

    The stack file holds addresses only, never credentials: the embedded broker is open
    (docs/operations.md), and an external one gets its credentials from the environment."""
    return settings.kafka_access(kafka_bootstrap(settings))
