"""The client's user config file: where the services are, the token, the last plan.

``$CHARGEFLOW_CLIENT_CONFIG``, else ``$XDG_CONFIG_HOME/chargeflow/client.json``, else
``~/.config/chargeflow/client.json``. It holds a secret (the token): written 0600 (its
folder 0700), replaced atomically, and refused when others can read it.
"""

from __future__ import annotations

import json
import os
import stat
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

DEFAULT_INGEST = "http://127.0.0.1:8000"
DEFAULT_DECISIONS = "http://127.0.0.1:8080"


class ConfigError(RuntimeError):
    pass


@dataclass
class ClientConfig:
    ingest_url: str = DEFAULT_INGEST
    decisions_url: str = DEFAULT_DECISIONS
    user: str | None = None
    token: str | None = None
    last_day: str | None = None  # the delivery day of the last plan submitted
    revisions: dict[str, int] = field(default_factory=dict)  # plan_id -> last revision sent


def config_path() -> Path:
    explicit = os.environ.get("CHARGEFLOW_CLIENT_CONFIG")
    if explicit:
        return Path(explicit)
    base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "chargeflow" / "client.json"


def load(path: Path | None = None) -> ClientConfig:
    path = path or config_path()
    if not path.exists():
        return ClientConfig()
    mode = stat.S_IMODE(path.stat().st_mode)
    if mode & 0o077:
        raise ConfigError(f"{path} is readable by others (mode {mode:o}): chmod 600 it")
    try:
        data: dict[str, Any] = json.loads(path.read_text())
        known = {k: v for k, v in data.items() if k in ClientConfig.__dataclass_fields__}
        return ClientConfig(**known)
    except (ValueError, TypeError) as exc:
        raise ConfigError(f"{path} is not a client config: {exc}") from exc


def save(config: ClientConfig, path: Path | None = None) -> Path:
    path = path or config_path()
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    fresh = path.with_name(path.name + ".new")
    fd = os.open(fresh, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as out:
        os.fchmod(out.fileno(), 0o600)  # also when the file was left behind by a crash
        json.dump(asdict(config), out, indent=2)
    os.replace(fresh, path)
    return path
