"""Batch building: newest event per key wins, unreadable records are kept with reasons."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from schemas.events import PlanCancelled
from services.decisions.records import Batch, Record, add, merged_allocations
from tests.unit.decisions.factories import DAY, cleared, decision

T0 = datetime(2026, 11, 25, 13, tzinfo=UTC)


def _rec(value: bytes | None, offset: int, topic: str = "t", partition: int = 0) -> Record:
    return Record(topic, partition, offset, value)


def test_the_newest_decision_per_plan_wins_whatever_the_arrival_order():
    plan = uuid.uuid4()
    events = [
        decision(plan_id=plan, revision=2, phase=1, occurred_at=T0),
        decision(plan_id=plan, revision=2, phase=2, occurred_at=T0),
        decision(plan_id=plan, revision=1, phase=2, occurred_at=T0 + timedelta(hours=1)),
    ]
    for order in (events, events[::-1]):
        batch = Batch()
        for i, e in enumerate(order):
            add(batch, "decisions", _rec(e.model_dump_json().encode(), i))
        kept = batch.decisions[plan]
        assert (kept.revision, kept.phase) == (2, 2)
        assert batch.offsets == {("t", 0): 3} and batch.consumed == {"t": 3}


def test_a_cancellation_beats_a_redelivered_submission_of_the_same_revision():
    plan = uuid.uuid4()
    cancel = PlanCancelled(plan_id=plan, revision=1, vehicle_id="V1", market_area="PL",
                           delivery_day=DAY)  # fmt: skip
    batch = Batch()
    add(batch, "plans", _rec(cancel.model_dump_json().encode(), 0))
    submitted = (
        b'{"event_type":"PlanSubmitted","event_id":"' + str(uuid.uuid4()).encode() + b'",'
        b'"schema_version":1,"occurred_at":"2026-11-25T10:00:00+00:00","plan_id":"'
        + str(plan).encode()
        + b'","revision":1,"vehicle_id":"V1","market_area":"PL",'
        b'"delivery_day":"2026-11-26","stops":[{"charging_point_id":"P1",'
        b'"arrival":"2026-11-26T01:00:00+01:00","departure":"2026-11-26T03:00:00+01:00"}],'
        b'"bid":[{"energy_kwh":5,"price_eur_mwh":100}]}'
    )
    add(batch, "plans", _rec(submitted, 1))
    assert batch.plans[plan].event_type == "PlanCancelled"
    assert not batch.bad


def test_unreadable_records_are_kept_with_precise_reasons_and_advance_the_offset():
    batch = Batch()
    add(batch, "decisions", _rec(b"{oops", 7, partition=1))
    add(batch, "decisions", _rec(None, 8, partition=1))
    add(batch, "results", _rec(b'{"event_type": "AuctionCleared"}', 9, partition=1))
    assert [b.offset for b in batch.bad] == [7, 8, 9]
    assert "invalid JSON" in batch.bad[0].reasons[0].reason
    assert batch.bad[1].reasons[0].reason == "empty record value"
    assert "market_area" in {r.loc for r in batch.bad[2].reasons}
    assert batch.offsets == {("t", 1): 10}


def test_runs_are_keyed_by_area_day_and_run_id():
    batch = Batch()
    for i, run in enumerate([cleared(run_id="a"), cleared(run_id="b"), cleared(run_id="a")]):
        add(batch, "results", _rec(run.model_dump_json().encode(), i))
    assert sorted(k[2] for k in batch.runs) == ["a", "b"]


def test_duplicate_allocations_of_one_point_and_mtu_are_summed():
    d = decision(energies={("P1", 1): 1.0})
    d.allocations.append(d.allocations[0].model_copy(update={"energy_kwh": 2.0}))
    assert [(p, e) for p, _, e in merged_allocations(d)] == [("P1", 3.0)]
