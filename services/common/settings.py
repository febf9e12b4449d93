"""Settings shared by every service: one pydantic-settings base with the CHARGEFLOW_ prefix.

Each service subclasses `CommonSettings` with its own fields. Bad values fail fast at start-up
with a message naming the variable (see `load_settings`).
"""

from __future__ import annotations

import re
import sys
from datetime import datetime
from pathlib import Path
from typing import Any, TypeVar

from pydantic import (
    AwareDatetime,
    Field,
    FilePath,
    SecretBytes,
    SecretStr,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic_settings import BaseSettings, SettingsConfigDict

from services.common.kafka_access import BrokerAccess, SaslMechanism, SecurityProtocol

ENV_PREFIX = "CHARGEFLOW_"


class CommonSettings(BaseSettings):
    """What every service needs: where the infrastructure is and what time it is."""

    model_config = SettingsConfigDict(env_prefix=ENV_PREFIX, extra="ignore", frozen=True)

    # External infrastructure. When unset, `chargeflow up` / the test fixtures start embedded ones.
    kafka_bootstrap: str | None = None
    database_url: str | None = None

    # How every Kafka client of this service authenticates (DESIGN §4 Access): one principal
    # per service. PLAINTEXT (the default) is for the embedded broker on 127.0.0.1 only.
    kafka_security_protocol: SecurityProtocol = "PLAINTEXT"
    kafka_sasl_mechanism: SaslMechanism = "SCRAM-SHA-512"
    kafka_username: str | None = None
    kafka_password: SecretStr | None = None
    kafka_ca_file: FilePath | None = None  # TLS: CA of the broker's certificate
    kafka_cert_file: FilePath | None = None  # mutual TLS: this service's certificate
    kafka_key_file: FilePath | None = None

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

    @model_validator(mode="after")
    def _kafka_credentials(self) -> CommonSettings:
        if self.kafka_security_protocol.startswith("SASL_") and not (
            self.kafka_username and self.kafka_password and self.kafka_password.get_secret_value()
        ):
            raise ValueError(
                f"CHARGEFLOW_KAFKA_SECURITY_PROTOCOL={self.kafka_security_protocol} needs "
                "CHARGEFLOW_KAFKA_USERNAME and CHARGEFLOW_KAFKA_PASSWORD"
            )
        if (self.kafka_cert_file is None) != (self.kafka_key_file is None):
            raise ValueError("CHARGEFLOW_KAFKA_CERT_FILE and CHARGEFLOW_KAFKA_KEY_FILE go together")
        if self.kafka_cert_file is not None and self.kafka_security_protocol not in (
            "SSL",
            "SASL_SSL",
        ):
            raise ValueError(
                "a client certificate needs CHARGEFLOW_KAFKA_SECURITY_PROTOCOL=SSL or SASL_SSL"
            )
        return self

    def kafka_access(self, bootstrap: str | None = None) -> BrokerAccess:
        """This service's way to the broker: ``bootstrap`` (default: kafka_bootstrap) and
        the credentials of its principal, for every client it creates."""
        server = bootstrap or self.kafka_bootstrap
        if not server:
            raise ValueError("CHARGEFLOW_KAFKA_BOOTSTRAP is required (e.g. 127.0.0.1:9092)")
        return BrokerAccess(
            bootstrap=server,
            security_protocol=self.kafka_security_protocol,
            sasl_mechanism=self.kafka_sasl_mechanism,
            username=self.kafka_username,
            password=self.kafka_password,
            ca_file=self.kafka_ca_file,
            cert_file=self.kafka_cert_file,
            key_file=self.kafka_key_file,
        )


class ConfigError(SystemExit):
    """Raised (and exits) when the environment holds a bad setting."""


S = TypeVar("S", bound=BaseSettings)


# Values of settings named like these are never shown, whatever their type.
_SECRET_NAME = re.compile(r"pass(word|wd)?|secret|token|credential|api_?key", re.IGNORECASE)
# user:password@ in a URL (postgresql://u:pw@h/db) and password=... in its query string.
_URL_PASSWORD = re.compile(r"(?P<head>[a-z][a-z0-9+.-]*://[^:/?#@\s]*):[^@/?#\s]*@", re.I)
_QUERY_PASSWORD = re.compile(r"(?P<head>[?&;\s](?:password|passwd|pwd)=)[^&;\s]*", re.I)
MASK = "**********"


def _secret_fields(model: type[BaseSettings] | None) -> set[str]:
    if model is None:
        return set()
    return {
        name
        for name, info in model.model_fields.items()
        if any(t in (SecretStr, SecretBytes) for t in (info.annotation, *_args(info.annotation)))
    }


def _args(annotation: Any) -> tuple[Any, ...]:
    return tuple(getattr(annotation, "__args__", ()))


def mask_secrets(value: Any, name: str = "", secret: bool = False) -> Any:
    """`value` as it may be shown: secrets (by field type or name) replaced, passwords in URLs
    cut out, dicts and lists masked item by item."""
    if secret or (name and _SECRET_NAME.search(name)):
        return MASK
    if isinstance(value, str):
        value = _URL_PASSWORD.sub(rf"\g<head>:{MASK}@", value)
        return _QUERY_PASSWORD.sub(rf"\g<head>{MASK}", value)
    if isinstance(value, dict):
        return {k: mask_secrets(v, str(k)) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return type(value)(mask_secrets(v) for v in value)
    if isinstance(value, SecretStr | SecretBytes):
        return MASK
    return value


def describe_errors(
    exc: ValidationError, prefix: str = ENV_PREFIX, model: type[BaseSettings] | None = None
) -> str:
    """Turn a pydantic error into one line per bad variable, named as the user sets it.

    Never prints a secret: values of SecretStr fields of ``model`` and of anything named
    like a password, secret or token are masked, and so are passwords inside URLs."""
    secrets = _secret_fields(model)
    lines = []
    for err in exc.errors(include_url=False):
        field = ".".join(str(p) for p in err["loc"])
        if not field:  # a check of several settings together: no single value to show
            lines.append(f"  {err['msg']}")
            continue
        value = mask_secrets(err.get("input"), field, secret=str(err["loc"][0]) in secrets)
        lines.append(f"  {prefix}{field.upper()}={value!r}: {mask_secrets(err['msg'])}")
    return "invalid configuration:\n" + "\n".join(lines)


def load_settings(cls: type[S], **overrides: Any) -> S:
    """Build settings from the environment; on a bad value print what is wrong and exit 2."""
    try:
        return cls(**overrides)
    except ValidationError as exc:
        print(describe_errors(exc, model=cls), file=sys.stderr)
        raise ConfigError(2) from None  # the chained error would print the raw input


def utc_now() -> datetime:
    """The wall clock, aware. Only the clock module should call this."""
    from datetime import UTC

    return datetime.now(UTC)
