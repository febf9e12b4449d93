"""No single bid stops the market adapter (issue 10, item 2), on the real broker: poison
bids between honest ones go to aggregate-bids.dlq, honest ones are answered; an adapter
failing on one bid does not stop it; an unreachable exchange does, without committing."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import uuid
from collections.abc import AsyncIterator, Callable
from datetime import UTC, date, datetime, timedelta
from typing import Any

import orjson
import pytest

from schemas.config import AuctionConfig
from schemas.market import AggregateBid, BidCurvePoint, MarketResult
from services.common.clock import Clock
from services.common.dlq import dead_letter_id, dlq_topic
from services.common.kafka import AGGREGATE_BIDS, MARKET_RESULTS
from services.market.adapter import ExchangeUnavailable
from services.market.service import REGISTRY, MarketService, exchange_from
from services.market.settings import Settings

pytestmark = pytest.mark.integration

DAY = date(2026, 11, 26)
FAR = "9999-12-31T23:00:00-05:00"  # year 10000 in UTC


def _bid(run_id: str) -> AggregateBid:
    starts = AuctionConfig(market_area="PL").mtu_starts_for(DAY)
    return AggregateBid(
        market_area="PL", delivery_day=DAY, run_id=run_id, mtu_starts=starts,
        bid_curves=[[BidCurvePoint(price_eur_mwh=300, quantity_mwh=0.05)]] * len(starts),
    )  # fmt: skip


def _patched(run_id: str, **fields: Any) -> bytes:
    body = json.loads(_bid(run_id).model_dump_json())
    body.update(fields)
    return json.dumps(body).encode()  # NaN and Infinity as JSON literals


class Failing:
    """An exchange adapter that fails on some runs (as a buggy or unreachable one would)."""

    def __init__(self, settings: Settings, fails: dict[str, Exception]) -> None:
        self.inner = exchange_from(settings, Clock())
        self.fails = fails

    async def submit(self, bid: AggregateBid) -> MarketResult:
        if bid.run_id in self.fails:
            raise self.fails[bid.run_id]
        return await self.inner.submit(bid)


class Stack:
    def __init__(self, bootstrap: str) -> None:
        self.prefix = f"mkt-{uuid.uuid4().hex[:8]}."
        self.bids, self.results = self.prefix + AGGREGATE_BIDS, self.prefix + MARKET_RESULTS
        self.settings = Settings(
            kafka_bootstrap=bootstrap, market_topic_prefix=self.prefix, market_port=None,
            market_session_timeout_ms=1000, market_heartbeat_ms=200,
        )  # fmt: skip
        self.tasks: list[asyncio.Task[None]] = []

    async def start(
        self, fails: dict[str, Exception] | None = None, clock: Clock | None = None
    ) -> asyncio.Task[None]:
        service = MarketService(self.settings, clock, exchange=Failing(self.settings, fails or {}))
        task = asyncio.create_task(service.run())
        self.tasks.append(task)
        return task


@pytest.fixture
async def stack(kafka_bootstrap: str) -> AsyncIterator[Stack]:
    s = Stack(kafka_bootstrap)
    yield s
    for task in s.tasks:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await task


async def _read(
    consumer_factory: Any, topic: str, done: Callable[[list[dict]], bool], within: float = 40
) -> list[dict]:
    """Records of a topic from the beginning, decoded, until `done` says enough."""
    consumer = await consumer_factory(topic)
    found: list[dict] = []
    deadline = asyncio.get_running_loop().time() + within
    while not done(found):
        assert asyncio.get_running_loop().time() < deadline, f"{len(found)} on {topic}: {found}"
        for records in (await consumer.getmany(timeout_ms=200)).values():
            found += [orjson.loads(r.value) for r in records]
    return found


def _runs(results: list[dict]) -> dict[str, str]:
    return {r["run_id"]: r["status"] for r in results}


async def _send(producer: Any, topic: str, values: list[bytes | None]) -> None:
    for value in values:
        await producer.send(topic, value, key=b"PL/2026-11-26")
    await producer.flush()


LONG = "2026-11-26T00:00:00Z"  # in range: the bid reads, it is only too long for a day


async def test_poison_bids_go_to_the_dlq_and_the_honest_ones_around_them_are_answered(
    stack, producer, consumer_factory
):
    # name -> (value, its run and whether it is answered, a fragment of the reasons).
    # "rejected": the bid reads, no exchange could take it, the aggregator hears at once;
    # "maybe": reads here, but schemas that bound numbers and times refuse it when parsed
    # (then it has no answer, as any unreadable record); None: never answered.
    poison: dict[str, tuple[bytes | None, tuple[str, str] | None, str]] = {
        "invalid JSON": (b"{not json", None, "invalid JSON"),
        "empty value": (None, None, "empty record value"),
        "not a bid": (b'{"event_type": "AggregateBid"}', None, "run_id"),
        "a 1000-character unknown field": (
            _patched("k", **{"k" * 1000: 1}), None, "k" * 256 + ": unknown field"
        ),
        "NaN price": (
            _patched("nan", bid_curves=[[{"price_eur_mwh": float("nan"), "quantity_mwh": 1}]]
                     + [[]] * 23),
            ("nan", "maybe"), "bid_curves[0][0].price_eur_mwh",
        ),
        "1e400 quantity": (
            _patched("inf", bid_curves=[[{"price_eur_mwh": 100, "quantity_mwh": 7.5}]]
                     + [[]] * 23).replace(b"7.5", b"1e400"),
            ("inf", "maybe"), "bid_curves[0][0].quantity_mwh",
        ),
        "time past year 9999": (_patched("far", occurred_at=FAR), ("far", "maybe"), "occurred_at"),
        "more MTUs than a day": (
            _patched("long", mtu_starts=[LONG] * 30_000, bid_curves=[[]] * 30_000),
            ("long", "rejected"), "mtu_starts: 30000 MTUs",
        ),
    }  # fmt: skip
    values: list[bytes | None] = []
    for i, (value, _, _) in enumerate(poison.values()):
        values += [_bid(f"honest-{i}").model_dump_json().encode(), value]
    await _send(producer, stack.bids, values)  # one key: one partition, read in this order

    task = await stack.start()
    answered = {f"honest-{i}" for i in range(len(poison))} | {
        answer[0] for _, answer, _ in poison.values() if answer and answer[1] == "rejected"
    }
    results = await _read(consumer_factory, stack.results, lambda f: set(_runs(f)) >= answered)
    letters = await _read(consumer_factory, dlq_topic(stack.bids), lambda f: len(f) >= len(poison))

    assert not task.done(), task.exception() if task.done() else None
    runs = _runs(results)
    assert all(runs[f"honest-{i}"] == "cleared" for i in range(len(poison)))
    by_value = {base64.b64decode(d["value_b64"]) or None: d for d in letters}
    for name, (value, answer, fragment) in poison.items():
        letter = by_value[value[: 256 * 1024] if value else None]
        reasons = "; ".join(f"{r['loc']}: {r['reason']}" for r in letter["reasons"])
        assert fragment in reasons, (name, reasons)
        assert letter["topic"] == stack.bids
        assert letter["event_id"] == str(
            dead_letter_id(stack.bids, letter["partition"], letter["offset"])
        )
        if answer is not None and answer[0] in runs:  # never cleared: rejected, with why
            assert runs[answer[0]] == "rejected"
            [result] = [r for r in results if r["run_id"] == answer[0]]
            assert fragment in result["reason"]
    counted = REGISTRY.get_sample_value(
        "chargeflow_dlq_events_total", {"service": "market", "topic": stack.bids}
    )
    assert counted == len(poison)


async def test_an_adapter_failing_on_one_bid_answers_rejected_and_goes_on(
    stack, producer, consumer_factory
):
    await _send(producer, stack.bids, [_bid(r).model_dump_json().encode() for r in "ABC"])
    task = await stack.start(fails={"B": ZeroDivisionError("a bug in the adapter")})
    results = await _read(consumer_factory, stack.results, lambda f: len(_runs(f)) >= 3)
    assert _runs(results) == {"A": "cleared", "B": "rejected", "C": "cleared"}
    [letter] = await _read(consumer_factory, dlq_topic(stack.bids), lambda f: len(f) >= 1)
    assert "ZeroDivisionError: a bug in the adapter" in letter["reasons"][0]["reason"]
    assert not task.done()


async def test_after_an_unreachable_exchange_the_restart_answers_the_bid_and_survives_the_poison(
    stack, producer, consumer_factory
):
    """Crash-loop test: the first adapter dead-letters a poison bid, then stops on an
    exchange it cannot reach, before committing. The new one reads the poison bid again,
    does not die on it (the same dead letter again), and answers the bid it could not."""
    poison = _patched("long", mtu_starts=[LONG] * 500, bid_curves=[[]] * 500)
    await _send(producer, stack.bids, [poison, _bid("X").model_dump_json().encode()])
    first = await stack.start(fails={"X": ExchangeUnavailable("exchange timed out")})
    with pytest.raises(ExchangeUnavailable):
        await asyncio.wait_for(first, timeout=40)

    second = await stack.start()
    results = await _read(consumer_factory, stack.results, lambda f: _runs(f).get("X") == "cleared")
    assert _runs(results) == {"long": "rejected", "X": "cleared"}  # X was not skipped
    letters = await _read(consumer_factory, dlq_topic(stack.bids), lambda f: len(f) >= 2)
    assert len(letters) == 2 and len({d["event_id"] for d in letters}) == 1
    await asyncio.sleep(0.5)
    assert not second.done(), second.exception() if second.done() else None


async def test_a_bid_stamped_far_in_the_future_does_not_hold_the_simulated_delay(
    stack, producer, consumer_factory
):
    """The simulated latency counts from the bid's occurred_at; one stamped in year 2999
    (a wrong clock) used to make the loop sleep until then, answering nothing after it."""
    stack.settings = stack.settings.model_copy(update={"market_delay_s": 5.0})
    clock = Clock.fixed(datetime(2026, 11, 25, 12, tzinfo=UTC))  # moved by the test only
    future = _bid("future").model_copy(update={"occurred_at": datetime(2999, 1, 1, tzinfo=UTC)})
    await _send(producer, stack.bids, [future.model_dump_json().encode(),
                                       _bid("next").model_dump_json().encode()])  # fmt: skip
    task = await stack.start(clock=clock)

    async def tick() -> None:  # time passes, a few seconds at a time (never years)
        while True:
            await asyncio.sleep(0.5)
            clock.advance(timedelta(seconds=3))

    ticking = asyncio.create_task(tick())
    try:
        results = await _read(consumer_factory, stack.results, lambda f: len(_runs(f)) >= 2)
    finally:
        ticking.cancel()
    assert _runs(results) == {"future": "cleared", "next": "cleared"}
    assert not task.done()
