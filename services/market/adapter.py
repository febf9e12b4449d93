"""The interface a day-ahead exchange adapter implements, and the simulated reference one.

A real adapter (e.g. for an exchange's trading API) implements :class:`ExchangeAdapter`:
take an ``AggregateBid`` (one (area, day), per-MTU step curves within the exchange rules)
and return the ``MarketResult`` for the same ``run_id`` — cleared prices and awards per MTU,
or ``rejected``/``cancelled`` with a reason. ``submit`` must be idempotent per
``(market_area, delivery_day, run_id)``: the bid may arrive more than once.

Failures: raise :class:`ExchangeUnavailable` (or let ``OSError``/``TimeoutError`` through)
when the exchange cannot be reached; the service then stops without committing, and the bid
is submitted again after the restart. Any other exception is taken to be about this bid:
the bid goes to ``aggregate-bids.dlq`` and the aggregator is answered ``rejected``, so one
bid can never stop the adapter.
"""

from __future__ import annotations

from typing import Protocol

from schemas.market import AggregateBid, MarketResult
from services.common.clock import Clock
from services.market.exchange import ExchangeRules, Supply, clear


class ExchangeUnavailable(Exception):
    """The exchange cannot be reached or did not answer: not the bid's fault, retry later."""


class ExchangeAdapter(Protocol):
    async def submit(self, bid: AggregateBid) -> MarketResult: ...


class SimulatedExchange:
    """Clears immediately against a configured supply curve (see exchange.py)."""

    def __init__(self, supply: Supply, rules: ExchangeRules, clock: Clock) -> None:
        self.supply = supply
        self.rules = rules
        self.clock = clock
        self.results: dict[tuple[str, str, str], MarketResult] = {}

    async def submit(self, bid: AggregateBid) -> MarketResult:
        key = (bid.market_area, bid.delivery_day.isoformat(), bid.run_id)
        if key not in self.results:  # a duplicate bid gets the very same answer
            self.results[key] = clear(bid, self.supply, self.rules, self.clock.now())
        return self.results[key]
