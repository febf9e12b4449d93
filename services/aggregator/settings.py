"""Settings of the aggregator worker (env prefix CHARGEFLOW_, see docs/aggregator.md)."""

from __future__ import annotations

from pydantic import Field

from services.common.settings import CommonSettings


class Settings(CommonSettings):
    # /metrics, /healthz, /readyz; None disables the HTTP server (in-process tests).
    aggregator_host: str = "127.0.0.1"
    aggregator_port: int | None = Field(default=6066, ge=1, le=65535)
    # Prepended to every topic and group name (tests and parallel stacks on one broker).
    aggregator_topic_prefix: str = ""
    aggregator_group: str = "chargeflow-aggregator"
    aggregator_session_timeout_ms: int = Field(default=6000, ge=100)
    aggregator_heartbeat_ms: int = Field(default=1000, ge=50)
    aggregator_batch_max: int = Field(default=10_000, ge=1)
    # Helper processes that parse and validate plans for the intake (0: in the event loop).
    aggregator_intake_processes: int = Field(default=1, ge=0, le=16)
    # How often timers run (gate-closure markers, market-result timeouts), wall seconds.
    aggregator_tick_s: float = Field(default=0.5, gt=0)
    # Markers are sent for days whose gate closure passed at most this many days ago;
    # plans for older days are rejected as late.
    aggregator_marker_lookback_days: int = Field(default=2, ge=0)
    # At gate closure the leader waits (at most this long, wall seconds) until the intake
    # has forwarded every plan acknowledged before closure, then sends the marker.
    aggregator_closure_wait_s: float = Field(default=30.0, ge=0)
    # A day leaves the state (tombstones in the changelog) this many clock days after it is
    # done, or after its delivery day ended if it never got done; never before plans for it
    # are refused as late (gate closure + marker lookback + 1 day).
    aggregator_retention_days: int = Field(default=7, ge=0)
    # At most this many solves per clearing to find the plans the engine fails with.
    aggregator_isolation_max_solves: int = Field(default=40, ge=2)
    # Re-write a partition's live state to the changelog (a restore checkpoint) once the
    # records written since the last one exceed the live ones by this many and by as many
    # as there are live ones.
    aggregator_checkpoint_min_records: int = Field(default=10_000, ge=1)
