"""Plan checks in a helper process, so parsing and checking (~20 µs per plan: the pydantic
parse, then the exact fast check of schemas/fastcheck.py, validate_plan only when it says
no) run on another core while the event loop moves records.

``check_batch`` runs in the child: it keeps one ValidationContext per market area (sent by
the parent when the area's config changes) and answers, per record, either the forward
decision for a valid event or None. For None the parent takes its normal path (parse and
validate inline, DLQ with every reason): invalid input is rare and gets the full treatment.
"""

from __future__ import annotations

import dataclasses
import gc
import math
import signal
from datetime import datetime

from schemas.base import FieldError
from schemas.config import AuctionConfig
from schemas.context import ValidationContext
from schemas.events import PlanCancelled, PlanSubmitted
from schemas.fastcheck import Bounds, plan_errors
from schemas.market import area_day_key
from schemas.market_day import delivery_day_of
from schemas.parsing import parse_plan_event
from services.aggregator import topics

_CONTEXTS: dict[str, tuple[str, ValidationContext]] = {}
_BOUNDS: Bounds = {}  # delivery day bounds, for the fast check

Verdict = tuple[bytes, str, str | None] | None  # (kind, by-day key, config id) or None


def init_child() -> None:
    """Pool initializer: die with the worker (no orphans if it is SIGKILLed)."""
    from services.common.orphans import die_with_parent

    die_with_parent(signal.SIGKILL)
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's to handle
    gc.freeze()  # imported modules stay: out of the cyclic GC's full collections


_NOT_FINITE = "not a finite number (NaN, Infinity or a literal that overflows)"


def non_finite(plan: PlanSubmitted) -> list[FieldError]:
    """Every number of the plan that is NaN or infinite, by field."""
    errors = []
    if plan.initial_soc_kwh is not None and not math.isfinite(plan.initial_soc_kwh):
        errors.append(FieldError(loc="initial_soc_kwh", reason=_NOT_FINITE))
    for i, stop in enumerate(plan.stops):
        if not math.isfinite(stop.trip_kwh_after):
            errors.append(FieldError(loc=f"stops[{i}].trip_kwh_after", reason=_NOT_FINITE))
    for k, step in enumerate(plan.bid):
        if not math.isfinite(step.energy_kwh):
            errors.append(FieldError(loc=f"bid[{k}].energy_kwh", reason=_NOT_FINITE))
        if not math.isfinite(step.price_eur_mwh):
            errors.append(FieldError(loc=f"bid[{k}].price_eur_mwh", reason=_NOT_FINITE))
    return errors


def check_batch(
    configs: dict[str, bytes], values: list[bytes], now: datetime | None = None
) -> list[Verdict]:
    """``now``: the parent's clock; plans beyond the area's planning horizon from it are
    invalid (the parent's inline path then names the error)."""
    for area, raw in configs.items():
        config = AuctionConfig.model_validate_json(raw)
        _CONTEXTS[area] = (str(config.event_id), ValidationContext.from_config(config))
    today: dict[str, tuple[str, ValidationContext]] = {}
    for area, (config_id, ctx) in _CONTEXTS.items():
        local = None if now is None else delivery_day_of(now, ctx.timezone)
        today[area] = (config_id, dataclasses.replace(ctx, today=local))
    out: list[Verdict] = []
    for value in values:
        try:
            out.append(_verdict(value, today))
        except Exception:  # the parent's inline path says why, and dead-letters it
            out.append(None)
    return out


def _verdict(value: bytes, contexts: dict[str, tuple[str, ValidationContext]]) -> Verdict:
    event = parse_plan_event(value)[0] if value else None
    if isinstance(event, PlanSubmitted):
        known = contexts.get(event.market_area)
        if non_finite(event) or (known is not None and plan_errors(event, known[1], _BOUNDS)):
            return None
        key = area_day_key(event.market_area, event.delivery_day)
        return topics.KIND_PLAN, key, known[0] if known else None
    if isinstance(event, PlanCancelled):
        key = area_day_key(event.market_area, event.delivery_day)
        return topics.KIND_CANCEL, key, None
    return None
