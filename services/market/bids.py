"""Reading one record of ``aggregate-bids``: the bid, or every reason it cannot be used.

Besides the schema, a bid must be usable by any exchange adapter: finite numbers (pydantic
reads JSON ``NaN``, ``Infinity`` and ``1e400`` as floats), times whose UTC instant exists
(``9999-12-31T23:00:00-05:00`` is year 10000 in UTC), and at most ``MAX_MTUS`` MTUs — a
delivery day has 23-25 hours, at most 100 MTUs of 15 minutes; a longer bid is not a day,
and its answer (a timestamp, price and award per MTU) could outgrow the broker's record
limit. A bid that reads but breaks these is answered ``rejected`` (the aggregator falls
back at once instead of waiting for its market timeout) and goes to the DLQ.
"""

from __future__ import annotations

from datetime import datetime

from pydantic import ValidationError

from schemas.base import FieldError
from schemas.market import AggregateBid, MarketResult
from schemas.parsing import errors_from
from services.common.usable import MAX_REASONS, problems
from services.market.exchange import result_id

MAX_MTUS = 100  # 25 hours (the autumn DST day) of 15-minute MTUs


def read_bid(value: bytes | None) -> tuple[AggregateBid | None, list[FieldError]]:
    """(bid, []) when usable; (bid, reasons) when it reads but cannot be used; (None,
    reasons) when it does not read as a bid at all."""
    if value is None:
        return None, [FieldError(loc="", reason="empty record value")]
    try:
        bid = AggregateBid.model_validate_json(value)
    except Exception as exc:  # parsing is pure: whatever it raises is about this record
        return None, _described(exc)
    return bid, unusable(bid)


def _described(exc: Exception) -> list[FieldError]:
    """The reasons for a record that is not a bid; never raises."""
    try:
        if isinstance(exc, ValidationError):
            return errors_from(exc)[:MAX_REASONS]
        return [FieldError(loc="", reason=f"unreadable ({type(exc).__name__}: {exc})"[:2000])]
    except Exception:  # describing the error must not fail in turn
        return [FieldError(loc="", reason=f"unreadable ({type(exc).__name__})")]


def unusable(bid: AggregateBid) -> list[FieldError]:
    """Why a bid that passed the schema still cannot go to an exchange ([] if it can)."""
    reasons = problems(bid)
    if len(bid.mtu_starts) > MAX_MTUS:
        reasons.append(
            FieldError(
                loc="mtu_starts",
                reason=f"{len(bid.mtu_starts)} MTUs; a delivery day has at most {MAX_MTUS}",
            )
        )
    return reasons


def refusal(bid: AggregateBid, reasons: list[FieldError], now: datetime) -> MarketResult:
    """The answer to a bid no exchange could take: rejected, with the reasons."""
    text = "bid not submitted: " + "; ".join(map(str, reasons))
    return MarketResult(
        event_id=result_id(bid),
        occurred_at=now,
        market_area=bid.market_area,
        delivery_day=bid.delivery_day,
        run_id=bid.run_id,
        status="rejected",
        reason=text if len(text) <= 2000 else text[:1997] + "...",
    )
