"""Settings of the ingest gateway (env prefix CHARGEFLOW_, e.g. CHARGEFLOW_INGEST_PORT)."""

from __future__ import annotations

from typing import Self

from pydantic import Field, field_validator, model_validator

from services.common.kafka import AUCTION_CONFIG, AUCTION_RESULTS, CHARGING_PLANS
from services.common.proxies import check_forwarded_allow_ips
from services.common.settings import CommonSettings

MIB = 1024 * 1024


class Settings(CommonSettings):
    """Everything the gateway reads from the environment; defaults are the dev setup."""

    ingest_host: str = "127.0.0.1"
    ingest_port: int = Field(default=8000, ge=1, le=65535)
    ingest_workers: int = Field(default=1, ge=1, le=64)

    # Where plans go; tests point it at a unique topic.
    plans_topic: str = CHARGING_PLANS
    create_topics: bool = True
    # Read from the start and followed: the operator's default-bid prices per area, and how
    # far the latest day got (GET /market-areas/). At start the gateway waits this long for
    # them before it serves (then the documented defaults apply until they are read).
    config_topic: str = AUCTION_CONFIG
    results_topic: str = AUCTION_RESULTS
    market_views_wait_s: float = Field(default=10.0, ge=0, le=300)

    # A plan is answered 503 when the broker has not acknowledged it within this time.
    # Producer batching: wait up to this long for more records per partition and request.
    producer_linger_ms: int = Field(default=1, ge=0, le=1000)
    publish_timeout_s: float = Field(default=5.0, gt=0, le=120)
    retry_after_s: int = Field(default=2, ge=1, le=3600)

    # Revoked tokens and registry changes take effect within these TTLs.
    token_cache_ttl_s: float = Field(default=5.0, ge=0)
    registry_cache_ttl_s: float = Field(default=5.0, ge=0)

    # Limits (DESIGN §7). The batch body limit is larger than 1 MiB on purpose: 10 000
    # plans of ~400 bytes each cannot fit in 1 MiB (see docs/ingest.md).
    max_body_bytes: int = Field(default=MIB, ge=1024)
    max_batch_body_bytes: int = Field(default=16 * MIB, ge=1024)
    max_batch_plans: int = Field(default=10_000, ge=1, le=1_000_000)
    # A batch whose items hold more field errors than this, all together, is refused as a
    # whole with the first ones listed (errors cost memory and time: see batchlimits.py).
    max_batch_errors: int = Field(default=10_000, ge=1, le=1_000_000)

    # Per-token token buckets (rate sustained per second, burst); a rate of 0 disables one.
    # Requests: every request counts 1.
    rate_limit_per_s: float = Field(default=100.0, ge=0)
    rate_limit_burst: int = Field(default=200, ge=1)
    # Plans: a batch of N plans counts N. The burst must hold the largest batch.
    rate_limit_plans_per_s: float = Field(default=1_000.0, ge=0)
    rate_limit_plans_burst: int = Field(default=20_000, ge=1)
    # Body bytes. The burst must hold the largest body (the batch limit).
    rate_limit_bytes_per_s: float = Field(default=8 * MIB, ge=0)
    rate_limit_bytes_burst: int = Field(default=32 * MIB, ge=1)
    # Per client address, before authentication (see services/common/addresslimit.py).
    address_rate_limit_per_s: float = Field(default=500.0, ge=0)
    address_rate_limit_burst: int = Field(default=1_000, ge=1)
    # Peers whose X-Forwarded-For uvicorn trusts for the client address: comma-separated
    # addresses or networks, or "*" (only behind a proxy that overwrites the header).
    forwarded_allow_ips: str = "127.0.0.1"

    db_pool_size: int = Field(default=10, ge=1, le=200)
    # A request waits at most this long for a database connection, then gets 503.
    db_acquire_timeout_s: float = Field(default=2.0, gt=0, le=60)

    # Benchmarks only: mount POST /_bench/noop (reads the body, answers 202) on this server.
    bench_noop_route: bool = False

    @field_validator("forwarded_allow_ips")
    @classmethod
    def _addresses(cls, value: str) -> str:
        return check_forwarded_allow_ips(value)

    @model_validator(mode="after")
    def _bursts_hold_the_largest_request(self) -> Self:
        # A request costing more than its bucket's burst could never pass (429 forever).
        if self.rate_limit_plans_per_s > 0 and self.rate_limit_plans_burst < self.max_batch_plans:
            raise ValueError(
                f"rate_limit_plans_burst ({self.rate_limit_plans_burst}) must be at least "
                f"max_batch_plans ({self.max_batch_plans})"
            )
        largest = max(self.max_body_bytes, self.max_batch_body_bytes)
        if self.rate_limit_bytes_per_s > 0 and self.rate_limit_bytes_burst < largest:
            raise ValueError(
                f"rate_limit_bytes_burst ({self.rate_limit_bytes_burst}) must be at least "
                f"the largest body limit ({largest})"
            )
        return self
