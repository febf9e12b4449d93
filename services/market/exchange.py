"""A simulated day-ahead exchange: order checks and uniform-price clearing per MTU (pure).

Model per MTU: the rest of the market demands ``other_demand_mwh`` whatever the price;
suppliers offer step volumes ``(price, quantity)``; our aggregate bid is a step demand curve
(a point ``(p, q)`` = "buy q in total at any price up to p"). The clearing price is the
lowest offer price at which supply covers all demand; our award is what our curve buys at
that price, rounded down to the lot. Deterministic: the same bid always gets the same
result (and event id).
"""

from __future__ import annotations

import math
import uuid
from collections.abc import Sequence
from datetime import datetime

from pydantic import Field

from schemas.base import Model
from schemas.market import AggregateBid, BidCurvePoint, MarketResult

_NS = uuid.UUID("5d1c8f7e-2a4b-4c6d-9e8f-0a1b2c3d4e5f")


class ExchangeRules(Model):
    """Order rules of the (simulated) exchange; the defaults are the harmonised limits."""

    price_min_eur_mwh: float = -500.0
    price_max_eur_mwh: float = 4000.0
    max_steps: int = Field(default=200, ge=1)
    lot_mwh: float = Field(default=0.01, gt=0)


class Offer(Model):
    price_eur_mwh: float
    quantity_mwh: float = Field(ge=0)


class Supply(Model):
    """The simulated rest of the market: one supply curve, optionally per local hour."""

    other_demand_mwh: float = Field(default=100.0, ge=0)
    offers: list[Offer] = Field(
        default_factory=lambda: [
            Offer(price_eur_mwh=p, quantity_mwh=q)
            for p, q in (
                (-20, 40),
                (35, 40),
                (70, 30),
                (95, 20),
                (140, 10),
                (300, 10),
                (1000, 10),
                (3000, 1000),
            )
        ]
    )
    # Optional overrides by local hour of the MTU start ("0".."23").
    by_hour: dict[str, list[Offer]] = Field(default_factory=dict)
    other_demand_by_hour: dict[str, float] = Field(default_factory=dict)


def check_bid(bid: AggregateBid, rules: ExchangeRules) -> list[str]:
    """Every rule the bid breaks, with the MTU and step it concerns."""
    errors: list[str] = []
    for t, curve in enumerate(bid.bid_curves):
        if len(curve) > rules.max_steps:
            errors.append(f"bid_curves[{t}]: {len(curve)} steps, at most {rules.max_steps}")
        for k, point in enumerate(curve):
            at = f"bid_curves[{t}][{k}]"
            if not rules.price_min_eur_mwh <= point.price_eur_mwh <= rules.price_max_eur_mwh:
                errors.append(
                    f"{at}.price_eur_mwh: {point.price_eur_mwh} outside "
                    f"{rules.price_min_eur_mwh} … {rules.price_max_eur_mwh}"
                )
            lots = point.quantity_mwh / rules.lot_mwh
            if not math.isfinite(lots):  # 1.7e308 / 0.01: no lot count to round
                errors.append(f"{at}.quantity_mwh: {point.quantity_mwh} is too large")
            elif abs(lots - round(lots)) > 1e-6:
                errors.append(
                    f"{at}.quantity_mwh: {point.quantity_mwh} is not a multiple of "
                    f"the lot {rules.lot_mwh} MWh"
                )
            if k and point.price_eur_mwh >= curve[k - 1].price_eur_mwh:
                errors.append(f"{at}: prices must strictly decrease along the curve")
            if k and point.quantity_mwh < curve[k - 1].quantity_mwh:
                errors.append(f"{at}: quantities must not decrease along the curve")
    return errors


def demand_at(curve: Sequence[BidCurvePoint], price: float) -> float:
    """What the step curve buys at this price: the largest quantity bid at >= price."""
    return max((p.quantity_mwh for p in curve if p.price_eur_mwh >= price), default=0.0)


def clear_mtu(
    curve: Sequence[BidCurvePoint],
    offers: Sequence[Offer],
    other_mwh: float,
    rules: ExchangeRules,
) -> tuple[float, float]:
    """(uniform price, our awarded MWh) for one MTU."""
    ordered = sorted(offers, key=lambda o: o.price_eur_mwh)
    supplied = 0.0
    for offer in ordered:
        supplied += offer.quantity_mwh
        price = offer.price_eur_mwh
        ours = demand_at(curve, price)
        if supplied + 1e-9 >= other_mwh + ours:
            return price, _floor_lot(ours, rules.lot_mwh)
    # Supply short even at the highest offer: price cap, we get what is left (if bid there).
    price = rules.price_max_eur_mwh
    ours = min(demand_at(curve, price), max(supplied - other_mwh, 0.0))
    return price, _floor_lot(ours, rules.lot_mwh)


def _floor_lot(q: float, lot: float) -> float:
    return round(math.floor(q / lot + 1e-9) * lot, 6)


def result_id(bid: AggregateBid) -> uuid.UUID:
    """The event id of the answer to a bid: the same for every copy of it (replays)."""
    return uuid.uuid5(_NS, f"{bid.market_area}/{bid.delivery_day}/{bid.run_id}")


def clear(bid: AggregateBid, supply: Supply, rules: ExchangeRules, now: datetime) -> MarketResult:
    """The exchange's answer to a bid: cleared prices and awards, or rejected with reasons."""
    common = {
        "event_id": result_id(bid),
        "occurred_at": now,
        "market_area": bid.market_area,
        "delivery_day": bid.delivery_day,
        "run_id": bid.run_id,
    }
    errors = check_bid(bid, rules)
    if errors:
        text = "; ".join(errors)
        if len(text) > 2000:  # the event's limit; say how many more there were
            text = text[:1950].rsplit("; ", 1)[0] + f"; … ({len(errors)} problems in total)"
        return MarketResult(status="rejected", reason=text, **common)
    prices, awards = [], []
    for start, curve in zip(bid.mtu_starts, bid.bid_curves, strict=True):
        hour = str(start.hour)
        offers = supply.by_hour.get(hour, supply.offers)
        other = supply.other_demand_by_hour.get(hour, supply.other_demand_mwh)
        price, award = clear_mtu(curve, offers, other, rules)
        prices.append(price)
        awards.append(award)
    return MarketResult(
        status="cleared",
        mtu_starts=bid.mtu_starts,
        prices_eur_mwh=prices,
        awarded_mwh=awards,
        **common,
    )
