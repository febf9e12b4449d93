"""The intake's helper-process check: a verdict for valid events, None for the rest."""

from __future__ import annotations

from services.aggregator import checker, topics
from tests.unit.aggregator.test_clearing import CFG, DAY, stored


def test_valid_plans_get_their_by_day_key_and_the_rest_none() -> None:
    valid = stored(0).raw
    unknown_vehicle = stored(1, vehicle="V-unknown").raw
    config = {CFG.market_area: CFG.model_dump_json().encode()}
    verdicts = checker.check_batch(config, [valid, unknown_vehicle, b"garbage", b""])
    assert verdicts[0] == (topics.KIND_PLAN, f"PL/{DAY.isoformat()}", str(CFG.event_id))
    assert verdicts[1:] == [None, None, None]  # the parent names every error (DLQ)
