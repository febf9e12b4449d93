"""Reading a record of aggregate-bids: usable, unusable (answered rejected), unreadable."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime

import pytest

from schemas.config import AuctionConfig
from schemas.market import AggregateBid, BidCurvePoint
from services.market.bids import MAX_MTUS, read_bid, refusal
from services.market.exchange import ExchangeRules, Supply, clear

DAY = date(2026, 11, 26)
NOW = datetime(2026, 11, 25, 12, tzinfo=UTC)
FAR = "9999-12-31T23:00:00-05:00"  # year 10000 in UTC


def bid_json(**fields: object) -> bytes:
    starts = AuctionConfig(market_area="PL").mtu_starts_for(DAY)
    bid = AggregateBid(
        market_area="PL", delivery_day=DAY, run_id="r1", mtu_starts=starts,
        bid_curves=[[BidCurvePoint(price_eur_mwh=300, quantity_mwh=0.05)]] * len(starts),
    )  # fmt: skip
    body = json.loads(bid.model_dump_json())
    body.update(fields)
    return json.dumps(body).encode()  # NaN and Infinity as JSON literals


def test_an_honest_bid_is_usable() -> None:
    bid, reasons = read_bid(bid_json())
    assert bid is not None and reasons == []


@pytest.mark.parametrize(
    ("value", "loc"),
    [
        (bid_json(bid_curves=[[{"price_eur_mwh": float("nan"), "quantity_mwh": 0.05}]] + [[]] * 23),
         "bid_curves[0][0].price_eur_mwh"),
        (bid_json(bid_curves=[[]] * 23 + [[{"price_eur_mwh": 9, "quantity_mwh": float("inf")}]]),
         "bid_curves[23][0].quantity_mwh"),
        (bid_json(demand_kwh=[1.0] * 23 + [1.5]).replace(b"1.5", b"1e400"), "demand_kwh[23]"),
        (bid_json(occurred_at=FAR), "occurred_at"),
        (bid_json(mtu_starts=[FAR], bid_curves=[[]]), "mtu_starts[0]"),
    ],
)  # fmt: skip
def test_a_bid_no_exchange_could_take_is_refused_naming_the_field(value, loc) -> None:
    # Refused here (the bid reads) or by the schema's own bounds where it declares them.
    _, reasons = read_bid(value)
    assert [r.loc for r in reasons] == [loc]


def test_a_bid_longer_than_any_day_reads_but_is_unusable() -> None:
    bid, reasons = read_bid(longest())
    assert bid is not None
    assert [r.loc for r in reasons] == ["mtu_starts"]


def longest() -> bytes:
    starts = [NOW.isoformat()] * (MAX_MTUS + 1)
    return bid_json(mtu_starts=starts, bid_curves=[[]] * (MAX_MTUS + 1))


@pytest.mark.parametrize(
    "value",
    [None, b"", b"{not json", b'{"event_type": "AggregateBid"}', bid_json(**{"k" * 1000: 1})],
)
def test_an_unreadable_record_has_no_bid_and_its_reasons(value) -> None:
    bid, reasons = read_bid(value)
    assert bid is None and reasons
    assert all(len(r.loc) <= 256 for r in reasons)


def test_the_refusal_answers_the_bids_run_like_the_exchange_would() -> None:
    bid, reasons = read_bid(longest())
    assert bid is not None
    answer = refusal(bid, reasons * 200, NOW)  # a long list is cut to the event's limit
    assert (answer.status, answer.run_id, answer.key) == ("rejected", "r1", "PL/2026-11-26")
    assert answer.reason is not None and len(answer.reason) <= 2000
    assert answer.reason.startswith("bid not submitted: mtu_starts: 101 MTUs")
    honest, _ = read_bid(bid_json())
    assert honest is not None
    assert answer.event_id == clear(honest, Supply(), ExchangeRules(), NOW).event_id
