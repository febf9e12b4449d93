"""Where a stage's per-record isolation ends: whatever handling one record raises sends that
record to the DLQ of its topic; broker failures and cancellation still stop the stage.
The stages' outgoing batches are a fake here (what they were asked to publish)."""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime
from typing import Any

import orjson
import pytest
from aiokafka.errors import KafkaConnectionError
from aiokafka.structs import ConsumerRecord

from schemas.market import MarketResult
from services.aggregator import intake as intake_module
from services.aggregator import topics
from services.aggregator.configs import ConfigView
from services.aggregator.intake import Intake
from services.aggregator.owner import Owner
from services.aggregator.settings import Settings
from services.aggregator.topics import Names
from services.common.clock import Clock
from tests.unit.aggregator.test_clearing import CFG, stored

NOW = datetime(2026, 11, 25, 10, tzinfo=UTC)
NAMES = Names("u-")


class Published:
    """Stands in for the stage's Batches: records what it was asked to send."""

    def __init__(self, fail: Exception | None = None) -> None:
        self.fail = fail
        self.records: list[tuple[str, bytes | None, bytes | None]] = []

    async def add(self, topic: str, key: bytes | None, value: bytes | None, *_: Any) -> None:
        if self.fail is not None:
            raise self.fail
        self.records.append((topic, key, value))

    def to(self, topic: str) -> list[dict[str, Any]]:
        return [orjson.loads(v or b"") for t, _, v in self.records if t == topic]


def record(
    topic: str, value: bytes, key: bytes = b"PL/2026-11-26", kind: bytes | None = None
) -> ConsumerRecord[bytes, bytes]:
    headers = [("k", kind)] if kind is not None else []
    return ConsumerRecord(topic, 0, 41, 0, 0, key, value, None, len(key), len(value), headers)


def stage_settings() -> Settings:
    return Settings(
        kafka_bootstrap="127.0.0.1:9", aggregator_intake_processes=0, aggregator_port=None
    )


def intake(out: Published) -> Intake:
    configs = ConfigView("127.0.0.1:9", NAMES.config)
    configs.apply(CFG.model_dump_json().encode())
    stage = Intake(stage_settings(), NAMES, None, configs, Clock.fixed(NOW))  # type: ignore[arg-type]
    stage.out = out  # type: ignore[assignment]
    return stage


async def owner(out: Published) -> Owner:
    configs = ConfigView("127.0.0.1:9", NAMES.config)
    configs.apply(CFG.model_dump_json().encode())
    stage = Owner(stage_settings(), NAMES, None, configs, Clock.fixed(NOW))  # type: ignore[arg-type]
    stage.out = out  # type: ignore[assignment]
    return stage


MARKET = (
    MarketResult(market_area="PL", delivery_day=date(2026, 11, 26), run_id="r", status="rejected")
    .model_dump_json()
    .encode()
)


async def test_whatever_handling_a_record_raises_sends_it_to_its_dlq() -> None:
    out = Published()
    stage = intake(out)

    async def breaks(r: ConsumerRecord[bytes, bytes]) -> None:
        raise ZeroDivisionError("division by zero")

    stage.handle = breaks  # type: ignore[method-assign]
    await stage.isolated(record(NAMES.market, MARKET))
    (letter,) = out.to(f"{NAMES.market}.dlq")
    assert letter["topic"] == NAMES.market and letter["offset"] == 41
    assert letter["reasons"][0]["reason"] == (
        "unprocessable record: ZeroDivisionError: division by zero"
    )


async def test_a_plan_whose_check_raises_is_dead_lettered_and_its_vehicle_told(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Once the validator's day arithmetic overflowed on a day near date.max (the schema
    # now bounds days, docs/schemas.md); any check that raises must end the same way.
    def overflows(plan: Any, ctx: Any) -> Any:
        raise OverflowError("date value out of range")

    monkeypatch.setattr(intake_module, "validate_plan", overflows)
    out = Published()
    stage = intake(out)
    doc = orjson.loads(stored(1).raw)
    await stage.isolated(record(NAMES.plans, orjson.dumps(doc), key=b"V1"))
    (letter,) = out.to(NAMES.dlq)
    assert letter["plan_id"] == doc["plan_id"] and letter["reasons"]
    (decision,) = out.to(NAMES.decisions)
    assert decision["plan_id"] == doc["plan_id"] and decision["status"] == "rejected"


async def test_a_broker_failure_still_stops_the_intake() -> None:
    stage = intake(Published(fail=KafkaConnectionError("broker down")))
    with pytest.raises(KafkaConnectionError):
        await stage.isolated(record(NAMES.market, MARKET))
    with pytest.raises(KafkaConnectionError):  # also while dead-lettering
        await stage.isolated(record(NAMES.market, b"garbage"))


async def test_the_owner_dead_letters_a_by_day_record_it_cannot_apply() -> None:
    out = Published()
    stage = await owner(out)
    doc = orjson.loads(stored(1).raw)
    doc["delivery_day"] = "9999-12-31"
    await stage.handle(0, record(NAMES.by_day, orjson.dumps(doc), kind=topics.KIND_PLAN))
    await stage.handle(0, record(NAMES.by_day, b"{}", kind=b"nonsense"))
    await stage.handle(0, record(NAMES.by_day, MARKET, kind=topics.KIND_MARKET))
    far, kind, market = out.to(f"{NAMES.by_day}.dlq")
    assert far["reasons"][0]["loc"] == "delivery_day"
    assert "more than 366 days ahead" in far["reasons"][0]["reason"]
    assert kind["reasons"][0]["loc"] == "k"
    assert "no bid was sent for PL/2026-11-26" in market["reasons"][0]["reason"]
    assert stage.table.days() == []  # nothing of them was stored


async def test_broker_failures_and_cancellation_still_stop_the_owner() -> None:
    stage = await owner(Published(fail=KafkaConnectionError("broker down")))
    with pytest.raises(KafkaConnectionError):
        await stage.handle(0, record(NAMES.by_day, stored(1).raw, kind=topics.KIND_PLAN))

    async def cancelled(partition: int, r: ConsumerRecord[bytes, bytes]) -> None:
        raise asyncio.CancelledError

    stage._apply = cancelled  # type: ignore[method-assign]
    with pytest.raises(asyncio.CancelledError):
        await stage.handle(0, record(NAMES.by_day, b"{}", kind=topics.KIND_PLAN))
