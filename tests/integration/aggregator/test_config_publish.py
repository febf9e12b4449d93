"""`chargeflow config publish FILE.json`: the registry's network + the file's forecast."""

from __future__ import annotations

import asyncio
import json
import uuid
from pathlib import Path

import asyncpg
import pytest
from typer.testing import CliRunner

from schemas.config import AuctionConfig
from services.cli import app
from services.devstack import seed
from tests.integration.aggregator.fleet import read_until

pytestmark = pytest.mark.integration


def test_config_publish_completes_the_file_from_the_registry(
    kafka_bootstrap: str, database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def seed_db() -> None:
        conn = await asyncpg.connect(database_url)
        try:
            await seed.apply(conn, seed.load())
        finally:
            await conn.close()

    asyncio.run(seed_db())
    prefix = f"t{uuid.uuid4().hex[:8]}-"
    monkeypatch.setenv("CHARGEFLOW_KAFKA_BOOTSTRAP", kafka_bootstrap)
    monkeypatch.setenv("CHARGEFLOW_DATABASE_URL", database_url)
    monkeypatch.setenv("CHARGEFLOW_AGGREGATOR_TOPIC_PREFIX", prefix)
    file = tmp_path / "pl.json"
    file.write_text(
        json.dumps(
            {
                "market_area": "PL",
                "price_forecast": {"2026-11-26": [90.0] * 24},
                "parameters": {"market_result_timeout_s": 120},
            }
        )
    )
    result = CliRunner().invoke(app, ["config", "publish", str(file)])
    assert result.exit_code == 0, result.output
    assert "published auction-config for PL" in result.output

    values = asyncio.run(
        read_until(kafka_bootstrap, prefix + "auction-config", lambda v: len(v) >= 1)
    )
    config = AuctionConfig.model_validate(values[0])
    assert {n.id for n in config.nodes} >= {"N-HOME-1", "N-WORK-1", "N-HWY-1"}
    assert len(config.charging_points) >= 34 and len(config.vehicles) >= 20
    assert config.timezone == "Europe/Warsaw" and config.parameters.market_result_timeout_s == 120
    # Who may publish each vehicle's plans directly (charging-plans.direct.<owner>).
    assert set(config.vehicle_owners) == {v.id for v in config.vehicles}
    assert config.vehicle_owners["V001"] == "driver-anna"
    assert config.vehicle_owners["V002"] == "fleet-demo"

    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"market_area": "PL", "price_forecast": {"2026-11-26": [1.0]}}))
    result = CliRunner().invoke(app, ["config", "publish", str(bad)])
    assert result.exit_code == 2
    assert "1 prices, the day has 24 MTUs" in result.output
