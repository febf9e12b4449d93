"""Settings of the decisions service (env prefix CHARGEFLOW_, see docs/decisions.md)."""

from __future__ import annotations

from pydantic import Field, field_validator

from services.common.proxies import check_forwarded_allow_ips
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
    # Connections for the HTTP API; the consumer has a pool of its own
    # (CONSUMER_POOL_SIZE), so a flood of reads cannot starve persistence.
    decisions_pool_size: int = Field(default=10, ge=1, le=200)
    decisions_consumer_pool_size: int = Field(default=2, ge=1, le=50)
    # A request waits at most this long for a database connection, then gets 503.
    decisions_db_acquire_timeout_s: float = Field(default=2.0, gt=0, le=60)
    # Overload: requests beyond this many in flight get 503 at once instead of queueing.
    decisions_max_in_flight: int = Field(default=64, ge=1, le=100_000)
    # Per-token token bucket on requests (rate per second, burst); a rate of 0 disables it.
    decisions_rate_limit_per_s: float = Field(default=20.0, ge=0)
    decisions_rate_limit_burst: int = Field(default=40, ge=1)
    # Per client address, before authentication (services/common/addresslimit.py).
    decisions_address_rate_limit_per_s: float = Field(default=500.0, ge=0)
    decisions_address_rate_limit_burst: int = Field(default=1_000, ge=1)
    # Peers whose X-Forwarded-For uvicorn trusts for the client address (same variable as
    # the gateway's: one proxy usually fronts both).
    forwarded_allow_ips: str = "127.0.0.1"
    decisions_token_ttl_s: float = Field(default=5.0, ge=0)
    # How long a computed GET response may be served from memory without a change
    # notification (bounds staleness if a NOTIFY is ever missed).
    decisions_cache_ttl_s: float = Field(default=5.0, ge=0)

    @field_validator("forwarded_allow_ips")
    @classmethod
    def _addresses(cls, value: str) -> str:
        return check_forwarded_allow_ips(value)
