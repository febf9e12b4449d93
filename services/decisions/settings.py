"""Settings of the decisions service (env prefix CHARGEFLOW_, see docs/decisions.md)."""

from __future__ import annotations

from pydantic import Field

from services.common.settings import CommonSettings


class Settings(CommonSettings):
    decisions_host: str = "127.0.0.1"
    decisions_port: int = Field(default=8080, ge=1, le=65535)
    # Worker processes on the one port, each a full replica (see docs/decisions.md).
    decisions_workers: int = Field(default=1, ge=1, le=64)
    # Prepended to every topic name (tests and parallel stacks on one broker).
    decisions_topic_prefix: str = ""
    # Consumer group (used only for partition assignment) and key of the stored offsets.
    decisions_consumer: str = "decisions"
    decisions_consume: bool = Field(default=True, description="false: serve only, no consumer")
    decisions_batch_max: int = Field(default=10_000, ge=1, le=100_000)
    decisions_batch_wait_ms: int = Field(default=200, ge=0)
    decisions_session_timeout_ms: int = Field(default=6000, ge=100)
    decisions_heartbeat_ms: int = Field(default=1000, ge=50)
    decisions_pool_size: int = Field(default=10, ge=2)
    decisions_token_ttl_s: float = Field(default=5.0, ge=0)
    # How long a computed GET response may be served from memory without a change
    # notification (bounds staleness if a NOTIFY is ever missed).
    decisions_cache_ttl_s: float = Field(default=5.0, ge=0)
