"""The operator's default bid (docs/ingest.md "Default bid"): pure, no I/O.

A plan that omits ``bid``, and every schedule in the original system's format, gets two
steps from the operator's parameters (``AuctionParameters.must_have_price_eur_mwh`` and
``top_up_price_eur_mwh``):

1. **must-have**: the energy the day's drives need, plus the vehicle's minimum charge when
   the registry has one, less what the battery holds at the first stop:
   ``max(0, Σ trip_kwh_after + min_charge_kwh − initial_soc_kwh)``, at the must-have price;
2. **top-up**: the rest, up to a full battery when the vehicle leaves its last stop, at the
   top-up price.

Both together never exceed what the stops can take: charging at full usable power for the
whole of every stop (clipped to the delivery day), the state of charge never above the
battery, the trips taken out between stops — the same bound the plan validator applies
(schemas/rules.py), so a default bid never makes a plan invalid. Energies are rounded down
to whole Wh; a step that rounds to 0 is left out.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from schemas.plan import BidStep
from schemas.planlike import StopLike


@dataclass(frozen=True)
class BidPrices:
    """The two prices of the default bid, already within the area's price limits."""

    must_have_eur_mwh: float
    top_up_eur_mwh: float

    @classmethod
    def within(
        cls, must_have: float, top_up: float, price_min: float, price_max: float
    ) -> BidPrices:
        """The operator's prices clamped to the area's limits, the top-up never above the
        must-have (bid prices may not increase)."""
        must = min(max(must_have, price_min), price_max)
        return cls(must, min(max(min(top_up, must), price_min), price_max))


@dataclass(frozen=True)
class DefaultBid:
    """The default bid and the figures it was computed from (shown to the client)."""

    trips_kwh: float
    min_charge_kwh: float
    chargeable_kwh: float  # the most the stops can take (see the module doc)
    must_have_kwh: float
    top_up_kwh: float
    prices: BidPrices

    @property
    def steps(self) -> list[BidStep]:
        steps = (
            (self.must_have_kwh, self.prices.must_have_eur_mwh),
            (self.top_up_kwh, self.prices.top_up_eur_mwh),
        )
        return [BidStep(energy_kwh=e, price_eur_mwh=p) for e, p in steps if e > 0]


def floor_wh(kwh: float) -> float:
    """Down to whole Wh (a hair of float noise, 1e-9 kWh, is not taken away)."""
    return math.floor(kwh * 1000 + 1e-6) / 1000


def plugged_hours(stop: StopLike, day_start: datetime, day_end: datetime) -> float:
    """Hours the vehicle is plugged in at ``stop`` within [day_start, day_end)."""
    lo = max(stop.arrival.astimezone(UTC), day_start.astimezone(UTC))
    hi = min(stop.departure.astimezone(UTC), day_end.astimezone(UTC))
    return max(hi - lo, timedelta(0)) / timedelta(hours=1)


def chargeable_kwh(
    stops: Sequence[StopLike],
    powers_kw: Sequence[float],
    battery_kwh: float,
    initial_soc_kwh: float,
    day_start: datetime,
    day_end: datetime,
) -> float:
    """The most energy the stops can take: full power all along each stop, the state of
    charge kept at most ``battery_kwh``, each stop's trip taken out after it."""
    soc, taken = initial_soc_kwh, 0.0
    for stop, power in zip(stops, powers_kw, strict=True):
        can = power * plugged_hours(stop, day_start, day_end)
        charge = max(0.0, min(can, battery_kwh - soc))
        soc += charge - stop.trip_kwh_after
        taken += charge
    return taken


def default_bid(
    stops: Sequence[StopLike],
    powers_kw: Sequence[float],
    battery_kwh: float,
    initial_soc_kwh: float,
    min_charge_kwh: float | None,
    prices: BidPrices,
    day_start: datetime,
    day_end: datetime,
) -> DefaultBid:
    """The must-have and top-up steps for these stops (``powers_kw[i]``: the usable power at
    stop i, the lower of the vehicle's and the point's)."""
    trips = sum(s.trip_kwh_after for s in stops)
    minimum = min_charge_kwh or 0.0
    can = chargeable_kwh(stops, powers_kw, battery_kwh, initial_soc_kwh, day_start, day_end)
    total = floor_wh(can)
    must = min(floor_wh(max(0.0, trips + minimum - initial_soc_kwh)), total)
    top = max(0.0, round(total - must, 3))
    return DefaultBid(trips, minimum, can, must, top, prices)
