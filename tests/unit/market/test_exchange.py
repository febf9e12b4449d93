"""The simulated exchange: order rules and uniform-price clearing."""

from __future__ import annotations

from datetime import UTC, date, datetime

from schemas.config import AuctionConfig
from schemas.market import AggregateBid, BidCurvePoint
from services.market.exchange import ExchangeRules, Offer, Supply, clear, clear_mtu

RULES = ExchangeRules()
OFFERS = [Offer(price_eur_mwh=p, quantity_mwh=q) for p, q in ((10, 50), (50, 30), (200, 20))]
DAY = date(2026, 11, 26)
NOW = datetime(2026, 11, 25, 12, tzinfo=UTC)


def curve(*points: tuple[float, float]) -> list[BidCurvePoint]:
    return [BidCurvePoint(price_eur_mwh=p, quantity_mwh=q) for p, q in points]


def test_uniform_price_is_the_lowest_offer_that_covers_all_demand() -> None:
    assert clear_mtu([], OFFERS, 40.0, RULES) == (10, 0.0)
    # 40 other + our 20 at >= 50: the 10-EUR offer (50) is short, the 50-EUR one covers 80.
    assert clear_mtu(curve((300, 5), (100, 20)), OFFERS, 40.0, RULES) == (50, 20.0)
    # Our cheap steps drop out as the price rises past them.
    assert clear_mtu(curve((300, 15), (20, 45)), OFFERS, 40.0, RULES) == (50, 15.0)


def test_short_supply_clears_at_the_price_cap() -> None:
    price, award = clear_mtu(curve((4000, 50)), OFFERS, 90.0, RULES)
    assert price == RULES.price_max_eur_mwh and award == 10.0


def _bid(curves: list[list[BidCurvePoint]]) -> AggregateBid:
    starts = AuctionConfig(market_area="PL").mtu_starts_for(DAY)
    return AggregateBid(
        market_area="PL",
        delivery_day=DAY,
        run_id="r1",
        mtu_starts=starts,
        bid_curves=curves + [[]] * (len(starts) - len(curves)),
    )


def test_orders_outside_the_rules_are_rejected_with_every_reason() -> None:
    bid = _bid(
        [
            curve((5000, 0.01)),
            curve((100, 0.015)),
            [BidCurvePoint(price_eur_mwh=1, quantity_mwh=1)] * 201,
        ]
    )
    result = clear(bid, Supply(), RULES, NOW)
    assert result.status == "rejected" and result.reason
    assert "bid_curves[0][0].price_eur_mwh" in result.reason
    assert "bid_curves[1][0].quantity_mwh" in result.reason
    assert "bid_curves[2]: 201 steps" in result.reason


def test_same_bid_same_result() -> None:
    bid = _bid([curve((300, 0.05), (90, 0.1))])
    a, b = clear(bid, Supply(), RULES, NOW), clear(bid, Supply(), RULES, NOW)
    assert a == b and a.status == "cleared" and a.event_id == b.event_id
    assert len(a.prices_eur_mwh) == 24 and a.awarded_mwh[0] == 0.1


def test_a_quantity_too_large_to_count_in_lots_is_rejected_not_raised() -> None:
    # 1.7e308 / 0.01 is infinity: round() used to raise OverflowError and stop the adapter.
    # (Built without validation: schemas may bound quantities, an adapter must not rely on it.)
    huge = [BidCurvePoint.model_construct(price_eur_mwh=100.0, quantity_mwh=1.7e308)]
    result = clear(_bid([huge]), Supply(), RULES, NOW)
    assert result.status == "rejected"
    assert "bid_curves[0][0].quantity_mwh: 1.7e+308 is too large" in (result.reason or "")
