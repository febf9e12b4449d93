"""Settings of the ingest gateway (env prefix CHARGEFLOW_, e.g. CHARGEFLOW_INGEST_PORT)."""

from __future__ import annotations

from pydantic import Field

from services.common.kafka import CHARGING_PLANS
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
    max_batch_plans: int = Field(default=10_000, ge=1)

    # Per-token token bucket: sustained requests per second and burst size; 0 disables it.
    rate_limit_per_s: float = Field(default=100.0, ge=0)
    rate_limit_burst: int = Field(default=200, ge=1)

    db_pool_size: int = Field(default=10, ge=1, le=200)

    # Benchmarks only: mount POST /_bench/noop (reads the body, answers 202) on this server.
    bench_noop_route: bool = False
