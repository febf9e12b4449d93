"""Settings of the market adapter (env prefix CHARGEFLOW_, see docs/market.md)."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field

from services.common.settings import CommonSettings


class Settings(CommonSettings):
    market_host: str = "127.0.0.1"
    market_port: int | None = Field(default=8090, ge=1, le=65535)
    market_topic_prefix: str = ""
    market_group: str = "chargeflow-market"
    market_session_timeout_ms: int = Field(default=6000, ge=100)
    market_heartbeat_ms: int = Field(default=1000, ge=50)
    # JSON file with the simulated supply ({"other_demand_mwh", "offers", "by_hour", ...});
    # None: the built-in curve.
    market_supply_file: Path | None = None
    market_price_min_eur_mwh: float = -500.0
    market_price_max_eur_mwh: float = 4000.0
    market_max_steps: int = Field(default=200, ge=1)
    market_lot_mwh: float = Field(default=0.01, gt=0)
    # Simulated exchange latency (clock seconds between bid and result).
    market_delay_s: float = Field(default=0.0, ge=0)
