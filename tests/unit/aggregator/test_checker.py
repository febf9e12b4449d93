"""The intake's helper-process check: a verdict for valid events, None for the rest."""

from __future__ import annotations

import math
from datetime import UTC, datetime, time, timedelta

import pytest

from services.aggregator import checker, topics
from tests.unit.aggregator.test_clearing import CFG, DAY, stored


def test_valid_plans_get_their_by_day_key_and_the_rest_none() -> None:
    valid = stored(0).raw
    unknown_vehicle = stored(1, vehicle="V-unknown").raw
    config = {CFG.market_area: CFG.model_dump_json().encode()}
    verdicts = checker.check_batch(config, [valid, unknown_vehicle, b"garbage", b""])
    assert verdicts[0] == (topics.KIND_PLAN, f"PL/{DAY.isoformat()}", str(CFG.event_id))
    assert verdicts[1:] == [None, None, None]  # the parent names every error (DLQ)


def test_a_record_whose_check_raises_gets_none_and_the_others_their_verdict(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    real = checker.plan_errors
    poison = stored(2).plan_id

    def breaks_on_one(plan, ctx, bounds):  # type: ignore[no-untyped-def]
        if str(plan.plan_id) == poison:
            raise OverflowError("date value out of range")  # as for a day near date.max
        return real(plan, ctx, bounds)

    monkeypatch.setattr(checker, "plan_errors", breaks_on_one)
    valid = stored(0).raw
    config = {CFG.market_area: CFG.model_dump_json().encode()}
    verdicts = checker.check_batch(config, [valid, stored(2).raw, valid])
    assert verdicts[0] == verdicts[2] == (topics.KIND_PLAN, "PL/2026-11-26", str(CFG.event_id))
    assert verdicts[1] is None


def test_non_finite_numbers_are_named_by_field() -> None:
    """Second line of defence: the schema refuses non-finite numbers at parsing; a plan
    object that has them anyway (built without validation) is named field by field."""
    from schemas.events import PlanSubmitted

    plan = PlanSubmitted.model_validate_json(stored(0).raw)
    bid = [plan.bid[0].model_copy(update={"price_eur_mwh": -math.inf}), *plan.bid[1:]]
    spoiled = plan.model_copy(update={"initial_soc_kwh": math.inf, "bid": bid})
    assert [e.loc for e in checker.non_finite(spoiled)] == [
        "initial_soc_kwh",
        "bid[0].price_eur_mwh",
    ]
    assert checker.non_finite(plan) == []
    raw = stored(0).raw.replace(b'"price_eur_mwh":300.0', b'"price_eur_mwh":-Infinity')
    config = {CFG.market_area: CFG.model_dump_json().encode()}
    assert checker.check_batch(config, [raw]) == [None]  # the parent names the field (DLQ)


def test_plans_beyond_the_planning_horizon_are_left_to_the_parent() -> None:
    """With the parent's clock, a day more than plan_horizon_days after the area's local
    date is invalid (the inline path dead-letters it naming delivery_day)."""
    valid = stored(0).raw
    config = {CFG.market_area: CFG.model_dump_json().encode()}
    close = datetime.combine(DAY - timedelta(days=2), time(9), tzinfo=UTC)
    far = datetime.combine(DAY - timedelta(days=CFG.plan_horizon_days + 1), time(9), tzinfo=UTC)
    assert checker.check_batch(config, [valid], close)[0] is not None
    assert checker.check_batch(config, [valid], far) == [None]
    assert checker.check_batch(config, [valid])[0] is not None  # no clock: no horizon check
