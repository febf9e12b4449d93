"""Settings shared by every service: one pydantic-settings base with the CHARGEFLOW_ prefix.

Each service subclasses `CommonSettings` with its own fields. Bad values fail fast at start-up
with a message naming the variable (see `load_settings`).
"""

from __future__ import annotations

import sys
from datetime import datetime
from pathlib import Path
from typing import Any, TypeVar

from pydantic import AwareDatetime, Field, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

ENV_PREFIX = "CHARGEFLOW_"


class CommonSettings(BaseSettings):
    """What every service needs: where the infrastructure is and what time it is."""

    model_config = SettingsConfigDict(env_prefix=ENV_PREFIX, extra="ignore", frozen=True)

    # External infrastructure. When unset, `chargeflow up` / the test fixtures start embedded ones.
    kafka_bootstrap: str | None = None
    database_url: str | None = None

    # Injectable clock (DESIGN §3): speed 1 is real time; speed 0 freezes time at clock_start.
    clock_speed: float = Field(default=1.0, ge=0)
    clock_start: AwareDatetime | None = None
    # Wall-clock instant at which the clock read clock_start (shared by processes of one stack).
    clock_anchor: AwareDatetime | None = None

    # Topics the services create at start-up (DESIGN §4): 1 replica on the dev broker, 3 in
    # production. Every service must use the same partition count: keyed topics and the
    # aggregator's co-partitioned state rely on it.
    topic_partitions: int = Field(default=4, ge=1)
    topic_replication_factor: int = Field(default=1, ge=1)

    # Ports of the embedded broker and PostgreSQL started by `chargeflow up` (None: a free port).
    broker_port: int | None = Field(default=9092, ge=1, le=65535)
    postgres_port: int | None = Field(default=None, ge=1, le=65535)

    # Where embedded infrastructure keeps its data and logs.
    state_dir: Path = Path(".chargeflow")
    log_level: str = "INFO"

    @field_validator("log_level")
    @classmethod
    def _known_level(cls, value: str) -> str:
        level = value.upper()
        if level not in {"DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"}:
            raise ValueError("must be one of DEBUG, INFO, WARNING, ERROR, CRITICAL")
        return level

    @field_validator("database_url")
    @classmethod
    def _postgres_url(cls, value: str | None) -> str | None:
        if value is not None and not value.startswith(("postgresql://", "postgres://")):
            raise ValueError("must start with postgresql:// (e.g. postgresql://user@host:5432/db)")
        return value


class ConfigError(SystemExit):
    """Raised (and exits) when the environment holds a bad setting."""


S = TypeVar("S", bound=BaseSettings)


def describe_errors(exc: ValidationError, prefix: str = ENV_PREFIX) -> str:
    """Turn a pydantic error into one line per bad variable, named as the user sets it."""
    lines = []
    for err in exc.errors():
        field = ".".join(str(p) for p in err["loc"])
        value = err.get("input")
        lines.append(f"  {prefix}{field.upper()}={value!r}: {err['msg']}")
    return "invalid configuration:\n" + "\n".join(lines)


def load_settings(cls: type[S], **overrides: Any) -> S:
    """Build settings from the environment; on a bad value print what is wrong and exit 2."""
    try:
        return cls(**overrides)
    except ValidationError as exc:
        print(describe_errors(exc), file=sys.stderr)
        raise ConfigError(2) from exc


def utc_now() -> datetime:
    """The wall clock, aware. Only the clock module should call this."""
    from datetime import UTC

    return datetime.now(UTC)
